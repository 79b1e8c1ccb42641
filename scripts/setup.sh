#!/usr/bin/env bash
# Makes this machine ready to run the control plane: Docker engine, Debian packages (etcd, Postgres for the store,
# debootstrap), npm packages, the Temporal CLI (built from Go modules), the Postgres images and, for the tests, the
# object-store emulators (scripts/emulators.sh) and the API fuzzer (scripts/schemathesis.sh). Idempotent: quiet and
# fast when nothing is missing. Prints what it installs or builds and how long each step took.
#   --ci      non-interactive (also the default when CI=true)
#   --compose also the production stack's base (docker-compose.yml): docker-compose, the Temporal server, its SQL
#             tool and UI server built from Go modules, and images/compose/build.sh (base images, .env, secrets)
#   --test    also what only the tests use (the S3, GCS and Azure emulators, the Schemathesis API fuzzer, chromium
#             for the API reference page, prometheus and promtool for the metrics, and --compose); `npm test` passes it
set -euo pipefail
with_test_tools=0
with_compose=0
for arg in "$@"; do
  [[ $arg == --test ]] && with_test_tools=1 && with_compose=1
  [[ $arg == --compose ]] && with_compose=1
done
cd "$(dirname "$0")/.."

CACHE_DIR="${PGCP_CACHE_DIR:-$HOME/.cache/pgcp}"
TEMPORAL_BIN="$CACHE_DIR/bin/temporal"
TEMPORAL_CLI_VERSION="v1.5.1" # later tags carry a replace directive that breaks `go install`
# The production stack's Temporal: the newest releases that build with Go 1.26.8 (later ones ask for go >= 1.26.9).
TEMPORAL_SERVER_VERSION="v1.32.1"
TEMPORAL_UI_SERVER_VERSION="v2.55.0"
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
((with_compose)) && ! command -v docker-compose >/dev/null && apt_packages+=(docker-compose)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_packages+=(postgresql)
if ((with_test_tools)); then
  command -v chromium >/dev/null || apt_packages+=(chromium)
  command -v prometheus >/dev/null || apt_packages+=(prometheus)
  command -v curl >/dev/null || apt_packages+=(curl)
fi
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

# /v1/docs serves Scalar's standalone bundle from this host, never from a CDN: one file of the npm package, fetched
# with npm pack and checked against the pinned integrity (the package's own dependencies are not needed for it).
SCALAR_VERSION="1.46.4"
SCALAR_INTEGRITY="sha512-EpCcOG15Ry8DKNs/f5AdRA97s1B5kGPekzANpnK0j1IpyU4Sb/mfdyfB00WC+vUo7hfc4BFRSkkiPa5SSM7fng=="
DOCS_BUNDLE="$CACHE_DIR/scalar/standalone.js"
if [[ ! -s $DOCS_BUNDLE || $(cat "$CACHE_DIR/scalar/version" 2>/dev/null) != "$SCALAR_VERSION" ]]; then
  fetch_docs_bundle() {
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "@scalar/api-reference@$SCALAR_VERSION" >/dev/null)
    local got; got=$(node -e 'const c=require("node:crypto");process.stdout.write("sha512-"+c.createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tmp"/scalar-api-reference-*.tgz)
    if [[ $got != "$SCALAR_INTEGRITY" ]]; then echo "setup: @scalar/api-reference@$SCALAR_VERSION integrity mismatch ($got)" >&2; rm -rf "$tmp"; return 1; fi
    tar -xzf "$tmp"/scalar-api-reference-*.tgz -C "$tmp" package/dist/browser/standalone.js
    mkdir -p "$CACHE_DIR/scalar" && mv "$tmp/package/dist/browser/standalone.js" "$DOCS_BUNDLE" && echo "$SCALAR_VERSION" >"$CACHE_DIR/scalar/version"
    rm -rf "$tmp"
  }
  step "fetch the API reference page's script (@scalar/api-reference $SCALAR_VERSION)" fetch_docs_bundle
fi

if [[ ! -x $TEMPORAL_BIN ]]; then
  command -v go >/dev/null || { echo "setup: Go is needed to build the Temporal CLI" >&2; exit 1; }
  build_temporal() { GOBIN="$CACHE_DIR/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"; }
  step "build Temporal CLI $TEMPORAL_CLI_VERSION from Go modules (about 5 min cold)" build_temporal
fi

# etcd 3.5 from Go modules (scripts/etcd: its server's own main): Debian's 3.4 writes each database's etcd user
# password into its WAL in clear, 3.5 hashes it first. The stack runs it when it is there (scripts/stack.ts).
ETCD_VERSION="v3.5.21" # scripts/etcd/go.mod's
if [[ "$("$CACHE_DIR/bin/etcd" --version 2>/dev/null | head -1)" != "etcd Version: ${ETCD_VERSION#v}" ]]; then
  command -v go >/dev/null || { echo "setup: Go is needed to build etcd" >&2; exit 1; }
  mkdir -p "$CACHE_DIR/bin"
  build_etcd() { (cd scripts/etcd && go build -trimpath -o "$CACHE_DIR/bin/etcd" .); }
  step "build etcd $ETCD_VERSION from Go modules (about 1 min with a warm module cache)" build_etcd
fi

# go_build <binary name> <module path>@<version>: go install into the cache under the given name (two of the
# three are called `server`).
go_build() {
  local gobin; gobin=$(mktemp -d)
  GOBIN=$gobin go install "$2"
  mv "$gobin"/* "$CACHE_DIR/bin/$1" && rmdir "$gobin"
}
if ((with_compose)); then
  command -v go >/dev/null || { echo "setup: Go is needed to build the Temporal server" >&2; exit 1; }
  mkdir -p "$CACHE_DIR/bin"
  [[ -x $CACHE_DIR/bin/temporal-server ]] || step "build Temporal server $TEMPORAL_SERVER_VERSION from Go modules (about 7 min cold)" \
    go_build temporal-server "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION"
  [[ -x $CACHE_DIR/bin/temporal-sql-tool ]] || step "build Temporal SQL schema tool $TEMPORAL_SERVER_VERSION" \
    go_build temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
  [[ -x $CACHE_DIR/bin/temporal-ui-server ]] || step "build Temporal UI server $TEMPORAL_UI_SERVER_VERSION" \
    go_build temporal-ui-server "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION"
fi

if ((with_test_tools)) && ! bash scripts/emulators.sh check; then # S3/GCS/Azure emulators for the backup tests; the script times each part
  step "install object-store emulators: moto, fake-gcs-server, azurite (about 6 min cold)" bash scripts/emulators.sh install
fi

if ((with_test_tools)) && ! bash scripts/schemathesis.sh check; then # the API fuzzer of test/e2e/fuzz-api.test.ts
  step "install schemathesis (Python venv)" bash scripts/schemathesis.sh install
fi

images_out=$(bash images/build.sh 2>&1) || { echo "$images_out" >&2; exit 1; }
if grep -qv ': cached$' <<<"$images_out"; then echo "$images_out"; did_something=1; fi
# after images/build.sh: the service images start from the Postgres 17 image (MCP: the project's own server)
services_out=$(bash images/services/build.sh 2>&1) || { echo "$services_out" >&2; exit 1; }
if grep -qv ': cached$' <<<"$services_out"; then echo "$services_out"; did_something=1; fi

if ((with_compose)); then # after images/build.sh: the compose base is the Postgres 17 image plus Node.js and etcd
  compose_out=$(PGCP_CACHE_DIR="$CACHE_DIR" PGCP_TEMPORAL_VERSIONS="${TEMPORAL_SERVER_VERSION#v}-${TEMPORAL_UI_SERVER_VERSION#v}" \
    bash images/compose/build.sh 2>&1) || { echo "$compose_out" >&2; exit 1; }
  if grep -qv ': cached$' <<<"$compose_out"; then echo "$compose_out"; did_something=1; fi
fi

if ((did_something)); then
  echo "setup: ready in $(( $(date +%s) - started_at )) s"
fi
