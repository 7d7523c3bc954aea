# A Parley node: `docker build -t parley .`; see docker-compose.yml for a two-node deployment.
FROM node:24-slim

# Unprivileged from here on; /data holds DATA_DIR (only used by the SQLite store and for a
# token key when none is given).
RUN mkdir -p /app /data && chown node:node /app /data
WORKDIR /app
USER node

# Dependencies first, so code changes do not reinstall them.
COPY --chown=node:node package.json package-lock.json .npmrc ./
# The client library is an npm workspace of the repository (the page is built on it).
COPY --chown=node:node client/package.json client/
RUN npm ci --no-audit --no-fund

# The server compiled to dist/ and the page to web/dist; then only what runs is kept.
COPY --chown=node:node . .
RUN npm run -s build && npm prune --omit=dev --no-audit --no-fund

ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/app/deploy/parley-entrypoint.sh"]
# Node itself, in exec form: `docker stop`'s SIGTERM reaches the server (through the entrypoint's
# exec), which drains and exits 0. npm would exit 143 at once and leave the server to be killed.
# The flags are the server's (src/node-flags.ts; test/unit/node-flags.test.ts keeps them in step).
CMD ["node", "--max-semi-space-size=16", "--disable-warning=TimeoutNegativeWarning", "dist/src/main.js"]
