#!/bin/bash
# Builds the service images from local things only: pgcp/node-base (Postgres 17 image + Debian nodejs, ~1 min once)
# pgcp/mcp (services/mcp bundled by esbuild into one file, copied onto the base: seconds) and pgcp/pgbouncer
# (Postgres 17 image + Debian pgbouncer). Prints "<tag>: cached"
# or what it built and how long. Needs the Postgres 17 image (images/build.sh 17), docker and node_modules.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
have() { docker image inspect "$1" >/dev/null 2>&1; }
pg_image="$(node images/recipe.mjs tag 17)"
base="$(node images/services/recipe.mjs node-base)"
mcp="$(node images/services/recipe.mjs mcp)"
pgbouncer="$(node images/services/recipe.mjs pgbouncer)"
if have "$base"; then echo "$base: cached"; else
  have "$pg_image" || { echo "services: $pg_image is missing (images/build.sh 17)" >&2; exit 1; }
  t0=$SECONDS
  out=$(docker build -q -f images/services/node-base.Dockerfile --build-arg PG_IMAGE="$pg_image" -t "$base" images/services 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$base: built in $((SECONDS - t0)) s"
fi
if have "$mcp"; then echo "$mcp: cached"; else
  t0=$SECONDS
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  node_modules/.bin/esbuild services/mcp/server.ts --bundle --platform=node --format=esm --target=node18 \
    --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
    --log-level=warning --outfile="$ctx/server.mjs"
  cp images/services/mcp.Dockerfile "$ctx/Dockerfile"
  out=$(docker build -q --build-arg BASE_IMAGE="$base" -t "$mcp" "$ctx" 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$mcp: built in $((SECONDS - t0)) s"
fi
if have "$pgbouncer"; then echo "$pgbouncer: cached"; else
  have "$pg_image" || { echo "services: $pg_image is missing (images/build.sh 17)" >&2; exit 1; }
  t0=$SECONDS
  out=$(docker build -q -f images/services/pgbouncer.Dockerfile --build-arg PG_IMAGE="$pg_image" -t "$pgbouncer" images/services 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$pgbouncer: built in $((SECONDS - t0)) s"
fi
