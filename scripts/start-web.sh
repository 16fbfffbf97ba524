#!/usr/bin/env bash
# The dashboard: builds it when its sources changed since the last build, then serves it with
# apps/web/server.ts (`next start` plus the client's socket address) on 127.0.0.1:3000.
# scripts/start.sh runs it next to the agent, as root (the lab agent's socket is root's):
# loopback only unless SLUICE_WEB_HOST says otherwise (e.g. the lab box's address).
#   SLUICE_DATA    where the SQLite database lives (default /var/lib/sluice-lab, the lab's)
#   DATABASE_URL   a postgres:// URL instead of SQLite (optional)
#   SLUICE_SOCKET  the agent's control socket (default /run/sluice/agent.sock)
#   SLUICE_WEB_PORT / SLUICE_WEB_HOST   where to listen (default 3000 / 127.0.0.1)
#   SLUICE_TRUSTED_PROXIES  reverse proxies whose X-Forwarded-For/-Proto count (default none)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
export SLUICE_DATA="${SLUICE_DATA:-/var/lib/sluice-lab}"
export SLUICE_SOCKET="${SLUICE_SOCKET:-/run/sluice/agent.sock}"
export SLUICE_PROTOCOLS="${SLUICE_PROTOCOLS:-$ROOT/protocols}"
mkdir -p "$SLUICE_DATA"
node apps/web/scripts/ensure-build.ts
cd apps/web
echo "[web] http://${SLUICE_WEB_HOST:-127.0.0.1}:${SLUICE_WEB_PORT:-3000} (data: ${DATABASE_URL:+postgres}${DATABASE_URL:-$SLUICE_DATA}, agent: $SLUICE_SOCKET)"
exec node server.ts --port "${SLUICE_WEB_PORT:-3000}" --host "${SLUICE_WEB_HOST:-127.0.0.1}"
