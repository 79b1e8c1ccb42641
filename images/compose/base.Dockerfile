# Base of the production stack's images (docker-compose.yml): the Postgres 17 image built here from Debian packages
# (images/build.sh) plus Node.js from the same Debian suite (trixie), etcd 3.5 (built from Go modules by setup and
# imported as pgcp/compose-etcd-bin: Debian's 3.4 writes etcd users' passwords into its WAL in clear), and the stack's
# entry scripts (rootfs/). Its Postgres and etcd services run it as is. Built by images/compose/build.sh, tagged
# pgcp/compose-base:<hash of this file, rootfs/, the Postgres image's and etcd's tags>; no registry.
# Context: images/compose.
ARG PG_IMAGE
ARG ETCD_BIN_IMAGE
FROM ${ETCD_BIN_IMAGE} AS etcdbin
FROM ${PG_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/man/* /usr/share/doc/*/changelog* \
 && node --version
COPY --from=etcdbin /etcd /usr/local/bin/etcd
RUN etcd --version | grep -q 'etcd Version: 3.5'
COPY rootfs/ /
ENTRYPOINT []
CMD []
