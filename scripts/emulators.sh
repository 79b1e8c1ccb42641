#!/usr/bin/env bash
# Installs the object-store emulators that the backup tests point pgBackRest at (see test/support/object-stores.ts):
#   S3    moto, in a Python venv, served over TLS by cheroot (scripts/moto-tls.py)
#   GCS   fake-gcs-server, built from the Go module proxy with a one-line patch (pgBackRest's resumable uploads read the
#         X-GUploader-UploadID response header, which upstream does not send)
#   Azure azurite from npm, in its own prefix under the cache dir rather than a devDependency: its 347 packages include
#         @types/ms, which gives @temporalio/common's Duration real types and breaks `npm run typecheck`. Its dependency
#         tree is resolved as of AZURITE_BEFORE, so every machine gets the same one without a committed lockfile.
# Idempotent: prints and times what it installs, prints nothing when all is present.
#   emulators.sh check     exit 0 when everything is installed, 1 otherwise (no output)
#   emulators.sh install   install what is missing (the default)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=python-venv.sh
source scripts/python-venv.sh # the cwd is the checkout (above)

CACHE_DIR="${PGCP_CACHE_DIR:-$HOME/.cache/pgcp}"
MOTO_VERSION="5.2.5"
CHEROOT_VERSION="11.1.2"
FAKE_GCS_VERSION="v1.56.1"
AZURITE_VERSION="3.35.0"
AZURITE_BEFORE="2026-12-01"
# Fixed paths (test/support/object-stores.ts uses them); a stamp file beside each records the version it holds.
MOTO_VENV="$CACHE_DIR/moto"
MOTO_STAMP="moto==$MOTO_VERSION cheroot==$CHEROOT_VERSION"
FAKE_GCS_BIN="$CACHE_DIR/bin/fake-gcs-server"
FAKE_GCS_STAMP="$FAKE_GCS_VERSION+x-guploader-uploadid"
AZURITE_DIR="$CACHE_DIR/azurite"
AZURITE_STAMP="azurite@$AZURITE_VERSION before=$AZURITE_BEFORE"
export PATH="$PATH:/usr/local/go/bin"

moto_ok() { [[ -x $MOTO_VENV/bin/python && $(cat "$MOTO_VENV/.pgcp-version" 2>/dev/null) == "$MOTO_STAMP" ]]; }
fake_gcs_ok() { [[ -x $FAKE_GCS_BIN && $(cat "$FAKE_GCS_BIN.version" 2>/dev/null) == "$FAKE_GCS_STAMP" ]]; }
azurite_ok() {
  [[ -f $AZURITE_DIR/node_modules/azurite/dist/src/blob/main.js && $(cat "$AZURITE_DIR/.pgcp-version" 2>/dev/null) == "$AZURITE_STAMP" ]]
}

timed() { # timed <description> <command...>
  local what=$1; shift
  local t0=$SECONDS
  echo "emulators: $what…"
  "$@"
  echo "emulators: $what done in $((SECONDS - t0)) s"
}

install_moto() { python_venv emulators "$MOTO_VENV" "$MOTO_STAMP" "moto[server]==$MOTO_VERSION" "cheroot==$CHEROOT_VERSION"; }

build_fake_gcs() {
  command -v go >/dev/null || { echo "emulators: Go is needed to build fake-gcs-server" >&2; return 1; }
  local mod dir work
  mod=$(go mod download -json "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION")
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$mod")
  [[ -d $dir ]] || { echo "emulators: go mod download gave no module dir:" >&2; echo "$mod" >&2; return 1; }
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  sed -i 's/^\([[:space:]]*\)header\.Set("Location", location)$/&\n\1header.Set("X-GUploader-UploadID", uploadID)/' \
    "$work/fakestorage/upload.go"
  local patched; patched=$(grep -c 'header.Set("X-GUploader-UploadID", uploadID)' "$work/fakestorage/upload.go" || true)
  [[ $patched == 2 ]] || { echo "emulators: patching fakestorage/upload.go failed ($patched of 2 places)" >&2; return 1; }
  mkdir -p "$CACHE_DIR/bin"
  (cd "$work" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -o "$FAKE_GCS_BIN.tmp" . 2>&1) |
    { grep -v '^go: downloading ' || true; } >&2
  [[ ${PIPESTATUS[0]} == 0 ]] || return 1
  mv "$FAKE_GCS_BIN.tmp" "$FAKE_GCS_BIN"
  echo "$FAKE_GCS_STAMP" >"$FAKE_GCS_BIN.version"
}

install_azurite() {
  rm -rf "$AZURITE_DIR"
  mkdir -p "$AZURITE_DIR"
  echo '{ "name": "pgcp-azurite", "private": true }' >"$AZURITE_DIR/package.json"
  # azurite's dependencies have no install scripts; --ignore-scripts keeps it that way.
  (cd "$AZURITE_DIR" && npm install --save-exact --before="$AZURITE_BEFORE" --ignore-scripts \
    --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null)
  echo "$AZURITE_STAMP" >"$AZURITE_DIR/.pgcp-version"
}

case "${1:-install}" in
  check)
    moto_ok && fake_gcs_ok && azurite_ok
    ;;
  install)
    moto_ok || timed "install moto $MOTO_VERSION + cheroot $CHEROOT_VERSION (Python venv, about 1.5 min cold)" install_moto
    fake_gcs_ok || timed "build fake-gcs-server $FAKE_GCS_VERSION from Go modules, patched (2-4 min cold)" build_fake_gcs
    azurite_ok || timed "install azurite $AZURITE_VERSION from npm (about 45 s cold)" install_azurite
    ;;
  *)
    echo "usage: $0 [check|install]" >&2; exit 2
    ;;
esac
