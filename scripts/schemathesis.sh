#!/usr/bin/env bash
# Installs Schemathesis, the property-based API fuzzer the fuzz suite (test/e2e/fuzz-api.test.ts) runs over the API's
# own OpenAPI document, into a Python venv in the cache dir (like moto in scripts/emulators.sh), at a pinned version.
# Idempotent: prints and times what it installs, prints nothing when it is present.
#   schemathesis.sh check     exit 0 when installed, 1 otherwise (no output)
#   schemathesis.sh install   install it when missing (the default)
#   schemathesis.sh path      print the CLI's path
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=python-venv.sh
source scripts/python-venv.sh # the cwd is the checkout (above)
CACHE_DIR="${PGCP_CACHE_DIR:-$HOME/.cache/pgcp}"
SCHEMATHESIS_VERSION="4.32.5"
VENV="$CACHE_DIR/schemathesis"
STAMP="schemathesis==$SCHEMATHESIS_VERSION"

ok() { [[ -x $VENV/bin/schemathesis && $(cat "$VENV/.pgcp-version" 2>/dev/null) == "$STAMP" ]]; }

install() { python_venv schemathesis "$VENV" "$STAMP" "schemathesis==$SCHEMATHESIS_VERSION"; }

case "${1:-install}" in
  check) ok ;;
  path) echo "$VENV/bin/schemathesis" ;;
  install)
    if ! ok; then
      t0=$SECONDS
      echo "schemathesis: install $STAMP (Python venv, about 10 s cold)…"
      install
      echo "schemathesis: done in $((SECONDS - t0)) s"
    fi
    ;;
  *) echo "usage: $0 [check|install|path]" >&2; exit 2 ;;
esac
