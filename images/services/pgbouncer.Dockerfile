# PgBouncer for `service_type: pgbouncer` (an extension of this control plane): the Postgres 17 image built here
# (Debian trixie) plus Debian's pgbouncer, run as its own user (uid 7999: the control plane gives its files to that
# uid). Reads /app/data/pgbouncer.ini (rendered by the control plane, mounted read-only); listens on 8080; SIGHUP
# reloads it (the control plane points it at a node's new primary so).
ARG PG_IMAGE
FROM ${PG_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/man/* /usr/share/doc/*/changelog* \
 && useradd --system --uid 7999 --no-create-home --shell /usr/sbin/nologin pgcp-pooler \
 && pgbouncer --version
USER 7999
EXPOSE 8080
ENTRYPOINT ["pgbouncer", "/app/data/pgbouncer.ini"]
CMD []
