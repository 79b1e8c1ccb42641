# Base of the production stack's images (docker-compose.yml): the Postgres 17 image built here from Debian packages
# (images/build.sh) plus Node.js and the etcd server, from the same Debian suite (trixie), and the stack's entry
# scripts (rootfs/). Its Postgres and etcd services run it as is. Built by images/compose/build.sh, tagged
# pgcp/compose-base:<hash of this file, rootfs/ and the Postgres image's tag>; no registry. Context: images/compose.
ARG PG_IMAGE
FROM ${PG_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs etcd-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/man/* /usr/share/doc/*/changelog* \
 && node --version && etcd --version
COPY rootfs/ /
ENTRYPOINT []
CMD []
