# Temporal server, its SQL schema tool and the Temporal UI server, built from Go modules by scripts/setup.sh into
# ~/.cache/pgcp/bin and imported as pgcp/compose-temporal-bin (images/compose/build.sh). Context: repository root.
ARG BASE_IMAGE
ARG TEMPORAL_BIN_IMAGE
FROM ${TEMPORAL_BIN_IMAGE} AS bin
FROM ${BASE_IMAGE}
COPY --from=bin /temporal-server /temporal-sql-tool /temporal-ui-server /usr/local/bin/
COPY images/compose/temporal/ /etc/temporal/
