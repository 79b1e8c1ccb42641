#!/usr/bin/env bash
# Makes this machine ready to run the control plane: Docker engine, Debian packages (etcd, Postgres for the store,
# debootstrap), npm packages, the Temporal CLI (built from Go modules), the Postgres images and, for the tests, the
# object-store emulators (scripts/emulators.sh) and the API fuzzer (scripts/schemathesis.sh). Idempotent: quiet and
# fast when nothing is missing. Prints what it installs or builds and how long each step took.
#   --ci   non-interactive (also the default when CI=true)
#   --test also what only the tests use (the S3, GCS and Azure emulators, the Schemathesis API fuzzer); `npm test` passes it
set -euo pipefail
with_test_tools=0
for arg in "$@"; do [[ $arg == --test ]] && with_test_tools=1; done
cd "$(dirname "$0")/.."

CACHE_DIR="${PGCP_CACHE_DIR:-$HOME/.cache/pgcp}"
TEMPORAL_BIN="$CACHE_DIR/bin/temporal"
TEMPORAL_CLI_VERSION="v1.5.1" # later tags carry a replace directive that breaks `go install`
export DEBIAN_FRONTEND=noninteractive PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

did_something=0
started_at=$(date +%s)
step() { # step <description> <command...>: runs and times one install/build step
  local what=$1; shift
  local t0; t0=$(date +%s.%N)
  echo "setup: $what…"
  "$@"
  printf 'setup: %s done in %.1f s\n' "$what" "$(echo "$(date +%s.%N) - $t0" | bc)"
  did_something=1
}

need_root() {
  if [[ $(id -u) -ne 0 ]]; then echo "setup: $1 needs root (apt-get); run: sudo npm run setup" >&2; exit 1; fi
}

apt_packages=()
command -v dockerd >/dev/null || apt_packages+=(docker.io)
command -v etcd >/dev/null || apt_packages+=(etcd-server)
command -v debootstrap >/dev/null || apt_packages+=(debootstrap)
command -v bc >/dev/null || apt_packages+=(bc)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_packages+=(postgresql)
if ((${#apt_packages[@]})); then
  need_root "installing ${apt_packages[*]}"
  install_apt() { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null; }
  step "apt-get install ${apt_packages[*]}" install_apt
fi

if ! docker info >/dev/null 2>&1; then
  need_root "starting dockerd"
  start_docker() {
    mkdir -p "$CACHE_DIR"
    nohup dockerd >"$CACHE_DIR/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
    echo "setup: dockerd did not answer; see $CACHE_DIR/dockerd.log" >&2; tail -20 "$CACHE_DIR/dockerd.log" >&2; return 1
  }
  step "start Docker engine" start_docker
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci" npm ci --no-audit --no-fund --loglevel=error
fi

if [[ ! -x $TEMPORAL_BIN ]]; then
  command -v go >/dev/null || { echo "setup: Go is needed to build the Temporal CLI" >&2; exit 1; }
  build_temporal() { GOBIN="$CACHE_DIR/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"; }
  step "build Temporal CLI $TEMPORAL_CLI_VERSION from Go modules (about 5 min cold)" build_temporal
fi

if ((with_test_tools)) && ! bash scripts/emulators.sh check; then # S3/GCS/Azure emulators for the backup tests; the script times each part
  step "install object-store emulators: moto, fake-gcs-server, azurite (about 6 min cold)" bash scripts/emulators.sh install
fi

if ((with_test_tools)) && ! bash scripts/schemathesis.sh check; then # the API fuzzer of test/e2e/fuzz-api.test.ts
  step "install schemathesis (Python venv)" bash scripts/schemathesis.sh install
fi

images_out=$(bash images/build.sh 2>&1) || { echo "$images_out" >&2; exit 1; }
if grep -qv ': cached$' <<<"$images_out"; then echo "$images_out"; did_something=1; fi

if ((did_something)); then
  echo "setup: ready in $(( $(date +%s) - started_at )) s"
fi
