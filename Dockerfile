# syntax=docker/dockerfile:1
#
# One image for the five services; APP picks the one a container runs:
#
#   docker build -t odb .
#   docker run -e APP=coordinator -e DATABASE_URL=... -p 8001:8080 odb
#   docker run --rm -e DATABASE_URL=... odb node -r ./tools/dist-register.js dist/tools/migrate.js
#
# APP can also be baked in at build time (--build-arg APP=harvester) for
# registries that want one image per service. See docs/deployment.md.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, TypeScript compiled to dist/ -----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script phones home.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
COPY tools ./tools
RUN npm run build

# ---- production dependencies only -------------------------------------------
# A stage of its own rather than `npm prune` after the build: this layer
# depends on the lockfile alone, so it stays cached while the sources change.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1 forwards signals and reaps zombies: Node is not meant to be
# PID 1, where any signal without a handler is ignored.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY tools/dist-register.js ./tools/

# Writable state (the coordinator's bootstrap token file); mount a volume here.
RUN mkdir -p /var/lib/odb && chown node:node /var/lib/odb

# Inside a container every service listens on 8080: one port to publish and
# probe whichever APP runs (8001-8005 are the defaults for one shared host).
# Source maps make stack traces point at the TypeScript sources. The heap cap
# keeps V8 from growing the heap to a quarter of the node's memory before it
# collects: measured under the benchmarks' loads, every service stays within
# 170-260 MB RSS with it (without it, the harvester reached 300+ MB). Keep it
# in step with SERVICE_NODE_OPTIONS in bench/harness.ts.
ENV NODE_ENV=production \
    PORT=8080 \
    NODE_OPTIONS="--enable-source-maps --max-old-space-size=256"

ARG APP=""
ENV APP=${APP}

# The numeric id of the image's `node` user, so that Kubernetes'
# runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# exec: node replaces the shell and receives the signals tini forwards.
CMD ["sh", "-c", "exec node -r ./tools/dist-register.js \"dist/apps/${APP:?set APP to coordinator, contributor-ingest, consumer-query, harvester or catalog-publisher}/src/main.js\""]
