#!/bin/bash
# Builds what docker-compose.yml builds its images on, from local things only (no registry here):
#   pgcp/compose-base:<hash>          the Postgres 17 image (images/build.sh) + Node.js from Debian and etcd 3.5 (setup)
#   pgcp/compose-deps:<hash>          this checkout's node_modules (docker import), keyed by package-lock.json
#   pgcp/compose-temporal-bin:<vers>  the Temporal server, SQL tool and UI server built from Go modules (setup.sh)
# and writes their tags into .env (the file docker-compose reads), plus PGCP_IMAGE_TAG, a hash of everything the
# service images are built from, and PGCP_ETCD_BIND_ADDRESS (this machine's docker0 address) unless set. Creates the compose secrets (random database passwords, the control plane's secret key, etcd's CA and certificate) once, in
# ${PGCP_SECRETS_DIR:-.data/compose/secrets}. Prints one line per image: "<tag>: cached" or what it did and how long.
# Env: PGCP_CACHE_DIR (default ~/.cache/pgcp), PGCP_TEMPORAL_VERSIONS (set by setup.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${PGCP_CACHE_DIR:-$HOME/.cache/pgcp}/bin"
VERSIONS="${PGCP_TEMPORAL_VERSIONS:?set by scripts/setup.sh}"
hash_of() { sha256sum | cut -c1-12; }
timed() { local what=$1 t0=$SECONDS; shift; "$@" >/dev/null; echo "$what: built in $((SECONDS - t0)) s"; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

pg_image="$(node images/recipe.mjs tag 17)"
have "$pg_image" || { echo "compose: $pg_image is missing (images/build.sh 17)" >&2; exit 1; }
etcd_version="$("$BIN/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')"
[[ $etcd_version == 3.5.* ]] || { echo "compose: $BIN/etcd is not etcd 3.5 (scripts/setup.sh builds it)" >&2; exit 1; }
etcd_image="pgcp/compose-etcd-bin:$etcd_version"
if have "$etcd_image"; then echo "$etcd_image: cached"; else
  import_etcd() { tar -C "$BIN" -c etcd | docker import - "$etcd_image"; }
  timed "$etcd_image" import_etcd
fi

base="pgcp/compose-base:$( (cat images/compose/base.Dockerfile; find images/compose/rootfs -type f | sort | xargs cat; echo "$pg_image $etcd_image") | hash_of)"
if have "$base"; then echo "$base: cached"; else
  timed "$base" docker build -q -f images/compose/base.Dockerfile --build-arg PG_IMAGE="$pg_image" --build-arg ETCD_BIN_IMAGE="$etcd_image" -t "$base" images/compose
fi

deps="pgcp/compose-deps:$(hash_of <package-lock.json)"
if have "$deps"; then echo "$deps: cached"; else
  modules="$(realpath node_modules)" # may be a symlink to a shared checkout's
  import_deps() { tar -C "$(dirname "$modules")" -c "$(basename "$modules")" --transform "s,^$(basename "$modules"),node_modules," | docker import - "$deps"; }
  timed "$deps" import_deps
fi

temporal="pgcp/compose-temporal-bin:$VERSIONS"
if have "$temporal"; then echo "$temporal: cached"; else
  for b in temporal-server temporal-sql-tool temporal-ui-server; do [[ -x $BIN/$b ]] || { echo "compose: $BIN/$b is missing (scripts/setup.sh builds it)" >&2; exit 1; }; done
  import_temporal() { tar -C "$BIN" -c temporal-server temporal-sql-tool temporal-ui-server | docker import - "$temporal"; }
  timed "$temporal" import_temporal
fi

# The service images' inputs: the three images above and every file the Dockerfiles copy.
tag="$( { echo "$base $deps $temporal"; git ls-files -z -- . ':!test' ':!bench' | xargs -0 sha256sum 2>/dev/null; } | hash_of)"

# .env: only these keys are (re)written; anything else a user put there stays.
touch .env
set_env() { if grep -q "^$1=" .env; then sed -i "s|^$1=.*|$1=$2|" .env; else echo "$1=$2" >>.env; fi; }
set_env PGCP_BASE_IMAGE "$base"
set_env PGCP_DEPS_IMAGE "$deps"
set_env PGCP_TEMPORAL_BIN_IMAGE "$temporal"
set_env PGCP_IMAGE_TAG "$tag"
# Patroni in the instance containers reaches etcd on the docker0 address; kept when already set (another machine's
# agents need an address they reach, e.g. 0.0.0.0).
if ! grep -q '^PGCP_ETCD_BIND_ADDRESS=' .env; then
  docker0=$(ip -4 -o addr show dev docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
  [[ -n $docker0 ]] && echo "PGCP_ETCD_BIND_ADDRESS=$docker0" >>.env
fi

secrets="${PGCP_SECRETS_DIR:-.data/compose/secrets}"
mkdir -p "$secrets" && chmod 700 "$secrets"
for s in temporal-db-password store-db-password etcd-root-password; do
  [[ -s $secrets/$s ]] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$secrets/$s")
done
# the control plane's secret key (platform/secret-key.ts): 32 random bytes, base64
[[ -s $secrets/pgcp-secret-key ]] || (umask 077; head -c 32 /dev/urandom | base64 >"$secrets/pgcp-secret-key")
# etcd's TLS: a CA (kept) and etcd's server certificate (platform/pki.ts) for the names its clients dial: etcd (the
# stack's containers), loopback, the published address (the agent, Patroni in the instances) and PGCP_ETCD_CERT_HOSTS
# (comma-separated: what other machines dial). Issued again when a name is missing.
etcd_hosts=(etcd localhost 127.0.0.1)
etcd_bind="$(grep '^PGCP_ETCD_BIND_ADDRESS=' .env | tail -1 | cut -d= -f2)"
[[ -n $etcd_bind && $etcd_bind != 0.0.0.0 ]] && etcd_hosts+=("$etcd_bind")
IFS=, read -r -a extra <<<"${PGCP_ETCD_CERT_HOSTS:-}"
etcd_hosts+=("${extra[@]}")
pki="$secrets/pki"
cert_names="$(openssl x509 -in "$pki/etcd-server.crt" -noout -ext subjectAltName 2>/dev/null || true)"
missing=0
for h in "${etcd_hosts[@]}"; do [[ $cert_names == *"$h"* ]] || missing=1; done
if (( missing )); then
  node --import tsx scripts/cert.ts server etcd-server --dir "$pki" $(printf -- '--host %s ' "${etcd_hosts[@]}") >/dev/null
  echo "compose: etcd's certificate issued for ${etcd_hosts[*]}"
fi
