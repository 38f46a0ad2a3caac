# The backfill worker service: `uho-backfill worker` from the published package, whose
# prebuilt addon (@uho/backfill-linux-x64-gnu or -linux-arm64-gnu) npm picks for the image's
# platform. No Rust, no compiler, no install scripts.
#   docker build -t uho-backfill-worker .
#   docker run --rm -p 9464:9464 --stop-timeout 60 -e DATABASE_URL=postgres://user:pass@db:5432/uho uho-backfill-worker
FROM node:20-bookworm-slim

ARG UHO_BACKFILL_VERSION=0.1.0
WORKDIR /app
RUN npm install --omit=dev --no-audit --no-fund "@uho/backfill@${UHO_BACKFILL_VERSION}" \
 && npm cache clean --force

USER node
ENV NODE_ENV=production \
    BACKFILL_HOST=0.0.0.0 \
    BACKFILL_PORT=9464
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:' + process.env.BACKFILL_PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# SIGTERM (docker stop) drains the batch in flight and hands the chunks back; give it time.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/node_modules/.bin/uho-backfill", "worker"]
