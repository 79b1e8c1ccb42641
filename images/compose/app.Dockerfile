# The control plane's image: the API, the control-plane worker and a host's agent (worker/main.ts --host-only) run
# from it with different commands. node_modules come from pgcp/compose-deps (a docker import of this checkout's
# node_modules made by images/compose/build.sh), so the build needs no registry. Context: the repository root
# (.dockerignore keeps out node_modules, .data, tests).
ARG BASE_IMAGE
ARG DEPS_IMAGE
FROM ${DEPS_IMAGE} AS deps
FROM ${BASE_IMAGE}
WORKDIR /app
COPY --from=deps /node_modules ./node_modules
COPY . .
ENV PGCP_DATA_DIR=/var/lib/pgcp
ENTRYPOINT ["/usr/local/bin/pgcp-compose-app"]
