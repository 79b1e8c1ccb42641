# Sourced by the scripts that install Python tools into a venv of their own under ~/.cache/pgcp (emulators.sh,
# schemathesis.sh): one way to make such a venv, pinned and stamped, so a later check knows it is the right one.
# python_venv <who> <venv dir> <stamp> <pip requirement...>
python_venv() {
  local who=$1 venv=$2 stamp=$3; shift 3
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then # Debian's python3 keeps venv's pip in python3-venv
    [[ $(id -u) -eq 0 ]] || { echo "$who: python3 -m venv needs python3-venv; run: sudo npm run setup -- --test" >&2; return 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$stamp" >"$venv/.pgcp-version"
}
