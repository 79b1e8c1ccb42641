#!/usr/bin/env bash
# Records the configuration parameters (GUCs) of each image's Postgres major as images/gucs/<major>.json, which the
# API checks postgresql_conf against (name, type, unit, range, enum values), and the shared libraries in the image's
# $libdir as images/libraries/<major>.json, which postgresql_conf.shared_preload_libraries is checked against. `postgres --describe-config` lists
# names and types but neither units nor enum values, so this starts a throwaway server inside the image (with
# pglogical preloaded, as instances run) and reads pg_settings instead. Run it after adding a major or changing a
# major's packages, and commit the result: the files are data, not part of the image's recipe hash.
#   images/record-gucs.sh [major ...]   (default: every major in manifest.json; the images must exist)
set -euo pipefail
cd "$(dirname "$0")"
majors=("$@")
((${#majors[@]})) || read -r -a majors <<<"$(node recipe.mjs majors)"
mkdir -p gucs libraries
query="SELECT json_object_agg(name, json_strip_nulls(json_build_object(
  'type', vartype, 'context', context, 'unit', unit,
  'min', CASE WHEN vartype IN ('integer', 'real') THEN min_val::float8 END,
  'max', CASE WHEN vartype IN ('integer', 'real') THEN max_val::float8 END,
  'values', enumvals)) ORDER BY name) FROM pg_settings"
for major in "${majors[@]}"; do
  tag=$(node recipe.mjs tag "$major")
  docker image inspect "$tag" >/dev/null 2>&1 || { echo "record-gucs: image $tag is missing: run images/build.sh $major" >&2; exit 1; }
  docker run --rm --init --user postgres --entrypoint bash "$tag" -c "
    set -e
    initdb -D /tmp/pgdata >/dev/null 2>&1
    pg_ctl -D /tmp/pgdata -o '-c shared_preload_libraries=pglogical -c listen_addresses= -k /tmp' -w start >/dev/null
    psql -h /tmp -d postgres -AtXq -c \"\$1\"
    pg_ctl -D /tmp/pgdata -m fast -w stop >/dev/null" _ "$query" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print("{\n" + ",\n".join(json.dumps(k) + ": " + json.dumps(d[k], sort_keys=True) for k in sorted(d)) + "\n}")' >"gucs/$major.json"
  echo "record-gucs: $major: $(grep -c '"type"' "gucs/$major.json") parameters from $tag"
  docker run --rm --entrypoint bash "$tag" -c 'cd "$(pg_config --pkglibdir)" && ls -1 -- *.so' |
    python3 -c 'import json, sys; print(json.dumps(sorted(l.strip()[:-3] for l in sys.stdin if l.strip()), indent=0))' >"libraries/$major.json"
  echo "record-gucs: $major: $(grep -c '"' "libraries/$major.json") libraries from $tag"
done
