#!/bin/bash
# Build pgcp/postgres:<major>-<recipe hash> images from Debian packages:
# debootstrap --variant=minbase, apt-get install in the chroot, copy images/rootfs, docker import.
# Usage: images/build.sh [recipe ...]       (default: every recipe in images/manifest.json: majors, variants)
# Env:   PGCP_BUILD_DIR (default /var/tmp/pgcp-images), PGCP_DEBIAN_MIRROR,
#        PGCP_DEBIAN_SECURITY_MIRROR. Needs root, debootstrap, docker, node.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="${PGCP_BUILD_DIR:-/var/tmp/pgcp-images}"
MIRROR="${PGCP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${PGCP_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Every image gets these; per-major extras come from the manifest's extraPackages.
# systemd-standalone-tmpfiles satisfies postgresql-common without pulling in all of systemd.
COMMON_PACKAGES=(patroni python3-etcd pgbackrest ca-certificates procps iproute2 util-linux
  etcd-client systemd-standalone-tmpfiles)

recipe() { node "$HERE/recipe.mjs" "$@"; }
say() { echo "image $TAG: $*"; }

# step <label> <function>: run it with set -e in a subshell, output to $LOG; print the duration.
step() {
  local label=$1 t0=$SECONDS rc
  set +e
  (set -e; "$2") >>"$LOG" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    say "$label FAILED after $((SECONDS - t0))s (exit $rc); tail of $LOG:" >&2
    tail -n 40 "$LOG" | sed 's/^/  | /' >&2
    exit 1
  fi
  say "$label $((SECONDS - t0))s"
}

unmount_proc() { if mountpoint -q "$ROOT/proc"; then umount "$ROOT/proc"; fi; }
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
pkg_version() { # installed version of a package, or "none"
  local v
  # shellcheck disable=SC2016 # dpkg-query format, not shell
  v="$(in_root dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null || true)"
  case "$v" in ii*) echo "${v#ii }" | tr -d ' ' ;; *) echo none ;; esac
}

do_debootstrap() {
  rm -rf "$ROOT" "$WORK"/*.ok
  debootstrap --variant=minbase --components=main "$SUITE" "$ROOT" "$MIRROR"
  echo "$HASH" >"$WORK/bootstrap.ok"
}

do_packages() {
  local apt_opts=(-o Dpkg::Options::=--force-confold -o APT::Install-Recommends=false)
  {
    echo "deb $MIRROR $SUITE main"
    if [ "$(recipe field "$RECIPE" updates)" = true ]; then
      echo "deb $MIRROR $SUITE-updates main"
      echo "deb $SECURITY_MIRROR $SUITE-security main"
    fi
  } >"$ROOT/etc/apt/sources.list"
  if [ "$(recipe field "$RECIPE" allowExpiredRelease)" = true ]; then
    # Frozen/snapshot mirrors serve sid with a Release past its Valid-Until; kept in the image
    # so that apt-get update still works there for debugging.
    echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99pgcp-expired-release"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" # no service starts in the chroot
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  trap unmount_proc EXIT
  mount -t proc proc "$ROOT/proc"
  in_root apt-get "${apt_opts[@]}" update
  # shellcheck disable=SC2046 # extraPackages is a space-separated list
  in_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
    "postgresql-$MAJOR" "postgresql-$MAJOR-$(recipe field "$RECIPE" driver)" "${COMMON_PACKAGES[@]}" \
    $(recipe field "$RECIPE" extraPackages) $(recipe extension-packages "$RECIPE")
  in_root apt-get clean
  unmount_proc
  rm -f "$ROOT/usr/sbin/policy-rc.d"
  echo "$HASH" >"$WORK/packages.ok"
}

do_finish() {
  # Debian's postinst creates cluster <major>/main; the entrypoint/Patroni make their own.
  rm -rf "$ROOT/etc/postgresql/$MAJOR/main" "$ROOT/var/lib/postgresql/$MAJOR/main"
  cp -rT --no-preserve=ownership "$HERE/rootfs" "$ROOT"
  chmod 0755 "$ROOT"/usr/local/bin/*
  mkdir -p "$ROOT/etc/patroni" "$ROOT/var/lib/postgresql/data" "$ROOT/run/postgresql"
  in_root chown postgres:postgres /var/lib/postgresql/data /run/postgresql
  # Shrink: apt lists/caches, docs (copyright files stay), man/info pages, translations, logs.
  rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/* "$ROOT"/var/cache/debconf/*-old \
    "$ROOT"/var/lib/dpkg/*-old "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
    "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/postgresql/*/man "$ROOT"/tmp/* "$ROOT"/var/tmp/*
  find "$ROOT/usr/share/doc" -mindepth 1 \! -type d \! -name copyright -delete
  find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$ROOT/var/log" -type f -delete
  rm -f "$ROOT/etc/resolv.conf" "$ROOT/etc/hostname" # docker provides both at run time
  # Smoke checks: fail the build rather than ship a broken image.
  in_root /usr/lib/postgresql/"$MAJOR"/bin/postgres --version
  in_root patroni --version
  in_root python3 -c 'import patroni.dcs.etcd3, etcd, psycopg2'
  in_root pgbackrest version
  in_root setpriv --version
  in_root bash -n /usr/local/bin/pgcp-entrypoint
  local pair
  for pair in $(recipe extensions "$RECIPE"); do # each extension's control file is where CREATE EXTENSION looks
    in_root test -f "/usr/share/postgresql/$MAJOR/extension/${pair%%=*}.control" # may be an absolute symlink
  done
}

# "<extension>=<upstream version of its Debian package>" per extension, space-joined (e.g. "vector=0.8.0").
extension_versions() {
  local pair v out=()
  for pair in $(recipe extensions "$RECIPE"); do
    v="$(pkg_version "${pair#*=}")"
    v="${v#*:}" # epoch
    out+=("${pair%%=*}=${v%%[-+]*}") # Debian revision, +dfsg
  done
  echo "${out[*]}"
}

do_import() {
  local pg_version changes=()
  pg_version="$(in_root /usr/lib/postgresql/"$MAJOR"/bin/postgres --version | awk '{print $3}')"
  changes+=("ENV PATH=/usr/lib/postgresql/$MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  changes+=("ENV PGDATA=/var/lib/postgresql/data/pgdata" "ENV LANG=C.UTF-8")
  changes+=('ENTRYPOINT ["/usr/local/bin/pgcp-entrypoint"]' "EXPOSE 5432 8008")
  local label
  for label in "pgcp.recipe=$HASH" "pgcp.pg_major=$MAJOR" "pgcp.suite=$SUITE" \
    "pgcp.driver=$(recipe field "$RECIPE" driver)" \
    "pgcp.postgres_version=$pg_version" \
    "pgcp.postgres_package_version=$(pkg_version "postgresql-$MAJOR")" \
    "pgcp.pglogical_version=$(pkg_version "postgresql-$MAJOR-pglogical")" \
    "pgcp.pgl_ddl_deploy_version=$(pkg_version "postgresql-$MAJOR-pgl-ddl-deploy")" \
    "pgcp.patroni_version=$(pkg_version patroni)" \
    "pgcp.pgbackrest_version=$(pkg_version pgbackrest)" \
    "pgcp.extensions=$(extension_versions)"; do
    changes+=("LABEL ${label%%=*}=\"${label#*=}\"")
  done
  local args=() c
  for c in "${changes[@]}"; do args+=(--change "$c"); done
  printf '%s\n' "${changes[@]}"
  tar -C "$ROOT" --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -c . |
    docker import "${args[@]}" - "$TAG"
}

build_one() {
  RECIPE=$1
  MAJOR="$(recipe field "$RECIPE" major)"
  SUITE="$(recipe field "$RECIPE" suite)"
  HASH="$(recipe hash "$RECIPE")"
  TAG="$(recipe tag "$RECIPE")"
  if docker image inspect "$TAG" >/dev/null 2>&1; then say cached; return; fi
  WORK="$BUILD_DIR/$RECIPE"
  ROOT="$WORK/root"
  LOG="$WORK/build.log"
  mkdir -p "$WORK"
  exec {lock_fd}>"$WORK/.lock"
  flock "$lock_fd" # one build per work dir; re-check the cache once we hold the lock
  if docker image inspect "$TAG" >/dev/null 2>&1; then say cached; exec {lock_fd}>&-; return; fi
  unmount_proc
  local t0=$SECONDS
  echo "=== $(date -u +%FT%TZ) build $TAG ($SUITE)" >"$LOG" # one log per attempt
  if [ "$(cat "$WORK/bootstrap.ok" 2>/dev/null)" = "$HASH" ]; then
    say "debootstrap $SUITE reused"
  else
    step "debootstrap $SUITE" do_debootstrap
  fi
  if [ "$(cat "$WORK/packages.ok" 2>/dev/null)" = "$HASH" ]; then
    say "packages reused"
  else
    step packages do_packages
  fi
  step finish do_finish
  step import do_import
  local size
  size="$(docker image inspect -f '{{.Size}}' "$TAG")"
  say "built in $((SECONDS - t0))s, $((size / 1000000)) MB"
  exec {lock_fd}>&-
}

for tool in debootstrap docker node tar flock chroot; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool not found" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then echo "build.sh: must run as root (debootstrap, chroot)" >&2; exit 1; fi
trap 'if [ -n "${ROOT:-}" ]; then unmount_proc; fi' EXIT

if [ "$#" -eq 0 ]; then read -r -a to_build <<<"$(recipe recipes)"; else to_build=("$@"); fi
for r in "${to_build[@]}"; do build_one "$r"; done
