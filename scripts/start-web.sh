#!/usr/bin/env bash
# The dashboard: builds it when its sources changed since the last build, then serves it with
# apps/web/server.ts (`next start` plus the client's socket address) on 127.0.0.1:3000.
# scripts/start.sh runs it next to the agent. Started as root, it drops to the system user
# SLUICE_WEB_USER (default sluice, created if missing): its database moves to
# $SLUICE_DATA/web, and the agent's socket is opened to that user's group. Where that user
# cannot read the checkout (e.g. under /root) it stays root, and says so. Loopback only
# unless SLUICE_WEB_HOST says otherwise (e.g. the lab box's address).
#   SLUICE_DATA    where the SQLite database lives (default /var/lib/sluice-lab, the lab's)
#   DATABASE_URL   a postgres:// URL instead of SQLite (optional)
#   SLUICE_SOCKET  the agent's control socket (default /run/sluice/agent.sock)
#   SLUICE_WEB_PORT / SLUICE_WEB_HOST   where to listen (default 3000 / 127.0.0.1)
#   SLUICE_TRUSTED_PROXIES  reverse proxies whose X-Forwarded-For/-Proto count (default none)
#   SLUICE_WEB_USER  the user it runs as when started as root (default sluice; root keeps root)
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
NODE="$(command -v node)"
RUN=()
WEB_USER="${SLUICE_WEB_USER:-sluice}"
if [[ $EUID -eq 0 && "$WEB_USER" != root ]]; then
  id -u "$WEB_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$WEB_USER"
  drop=(setpriv --reuid "$(id -u "$WEB_USER")" --regid "$(id -g "$WEB_USER")" --init-groups --inh-caps=-all)
  if "${drop[@]}" test -r server.ts -a -x "$NODE" -a -x "$SLUICE_DATA" 2>/dev/null; then
    group="$(id -gn "$WEB_USER")"
    web_data="$SLUICE_DATA/web"
    mkdir -p "$web_data" .next/cache
    # the lab's database from before (when the dashboard ran as root) moves along once
    if [[ -f "$SLUICE_DATA/sluice.db" && ! -e "$web_data/sluice.db" ]]; then
      mv "$SLUICE_DATA"/sluice.db* "$web_data/"
    fi
    chown -R "$WEB_USER:$group" "$web_data" .next/cache
    chmod 0700 "$web_data"
    export SLUICE_DATA="$web_data"
    if [[ -S "$SLUICE_SOCKET" ]]; then
      chgrp "$group" "$(dirname "$SLUICE_SOCKET")" "$SLUICE_SOCKET"
      chmod g+rx "$(dirname "$SLUICE_SOCKET")"
      chmod g+rw "$SLUICE_SOCKET"
    fi
    RUN=("${drop[@]}")
  else
    echo "[web] $WEB_USER cannot read $PWD: the dashboard runs as root" >&2
  fi
fi
echo "[web] http://${SLUICE_WEB_HOST:-127.0.0.1}:${SLUICE_WEB_PORT:-3000} as $([[ ${#RUN[@]} -gt 0 ]] && echo "$WEB_USER" || id -un) (data: ${DATABASE_URL:+postgres}${DATABASE_URL:-$SLUICE_DATA}, agent: $SLUICE_SOCKET)"
exec "${RUN[@]}" "$NODE" server.ts --port "${SLUICE_WEB_PORT:-3000}" --host "${SLUICE_WEB_HOST:-127.0.0.1}"
