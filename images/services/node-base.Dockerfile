# Node.js for the service images: the Postgres 17 image built here (Debian trixie) plus Debian's nodejs. Built by
# images/services/build.sh, tagged by a hash of this file and that image's tag; no registry.
ARG PG_IMAGE
FROM ${PG_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/man/* /usr/share/doc/*/changelog* \
 && node --version
ENTRYPOINT []
CMD []
