# The MCP server (services/mcp, bundled into one file with its packages by images/services/build.sh) on the Node.js
# base. Reads /app/data/config.json (rendered by the control plane, mounted read-only); listens on 8080.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY server.mjs /app/server.mjs
ENV NODE_ENV=production
EXPOSE 8080
ENTRYPOINT ["node", "/app/server.mjs", "/app/data/config.json"]
