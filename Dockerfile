# A Parley node: `docker build -t parley .`; see docker-compose.yml for a two-node deployment.
FROM node:24-slim

# Unprivileged from here on; /data holds DATA_DIR (only used by the SQLite store and for a
# token key when none is given).
RUN mkdir -p /app /data && chown node:node /app /data
WORKDIR /app
USER node

# Dependencies first, so code changes do not reinstall them.
COPY --chown=node:node package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY --chown=node:node . .
RUN npm run -s build:web

ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
# (`npm start` passes the server's Node flags, src/node-flags.ts.)
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/app/deploy/parley-entrypoint.sh"]
CMD ["npm", "start"]
