#!/usr/bin/env bash
# Fills V8's compile cache (NODE_COMPILE_CACHE, set in the agent's and the dashboard's units)
# at build time, by running their code once inside the image's root filesystem: the same Node
# binary and the same absolute paths as on the appliance, so the cache entries hold there and
# Node skips parsing and compiling most of its JavaScript on every boot (about half of the
# agent's module loading; Next's server code and the first pages for the dashboard).
#
#   warm-cache.sh ROOTFS [--web]
#
# The agent's modules are only imported (nothing is started: no rule touches the build
# machine). The dashboard is started on a loopback port with a throw-away data directory and
# asked for the pages the first visit sees, then stopped; its database and caches are removed.
set -euo pipefail
R="$(cd "$1" && pwd)"
WEB="${2:-}"
NODE=/opt/sluice/node/bin/node
# the flags the units run Node with (build.sh's NODE_FLAGS): V8 rejects a cache made under
# other flags
[[ -n "${SLUICE_NODE_FLAGS:-}" ]] || { echo "warm-cache: SLUICE_NODE_FLAGS is not set (build.sh sets it)" >&2; exit 2; }
read -r -a FLAGS <<<"$SLUICE_NODE_FLAGS"
mounted=()
cleanup() {
  local m
  [[ -n "${web_pid:-}" ]] && kill "$web_pid" 2>/dev/null || true
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
}
trap cleanup EXIT
mount -t proc proc "$R/proc" && mounted+=("$R/proc")
mount --bind /dev "$R/dev" && mounted=("$R/dev" "${mounted[@]}")

# ---- the agent: the CLI and the daemon's module graph
rm -rf "$R/opt/sluice/cache/agent"
mkdir -p "$R/opt/sluice/cache/agent"
AGENT=/opt/sluice/apps/agent/dist
chroot "$R" env NODE_COMPILE_CACHE=/opt/sluice/cache/agent "$NODE" "${FLAGS[@]}" "$AGENT/main.js" --help >/dev/null
# `sluice status` as the console report runs it at boot (no agent here: it fails after loading)
chroot "$R" env NODE_COMPILE_CACHE=/opt/sluice/cache/agent "$NODE" "${FLAGS[@]}" "$AGENT/main.js" \
  --socket /nonexistent.sock status >/dev/null 2>&1 || true
# the daemon's chunks (imported only: nothing starts), and one NFQUEUE worker thread on its
# entry: it loads its whole module graph, then stops at its missing start-up data
cat >"$R/tmp/sluice-warm-agent.mjs" <<'JS'
import { readdirSync } from "node:fs";
import { Worker } from "node:worker_threads";
const dir = "/opt/sluice/apps/agent/dist";
for (const f of readdirSync(dir).sort())
  if (f.endsWith(".js") && f !== "main.js" && !f.startsWith("worker")) await import(`${dir}/${f}`);
const w = new Worker(new URL(`file://${dir}/worker-boot.js`), { workerData: null, stderr: true });
w.on("error", () => {});
await new Promise((resolve) => w.once("exit", resolve));
JS
chroot "$R" env NODE_COMPILE_CACHE=/opt/sluice/cache/agent "$NODE" "${FLAGS[@]}" /tmp/sluice-warm-agent.mjs
rm -f "$R/tmp/sluice-warm-agent.mjs"
echo "warm-cache: agent $(find "$R/opt/sluice/cache/agent" -type f | wc -l) entries"

# ---- the dashboard: server.ts (as sluice-web.service runs it), then the first visit's pages
[[ "$WEB" == --web && -d "$R/opt/sluice/apps/web/.next" ]] || exit 0
rm -rf "$R/opt/sluice/cache/web" "$R/tmp/sluice-warm"
mkdir -p "$R/opt/sluice/cache/web" "$R/tmp/sluice-warm"
# Node writes the cache at a normal exit; next start's SIGTERM ends it without that: flush
# every two seconds instead (build time only: this preload is not in the image)
cat >"$R/tmp/sluice-warm/flush.cjs" <<'JS'
const m = require("node:module");
setInterval(() => m.flushCompileCache?.(), 2000).unref();
JS
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 39517)"
chroot "$R" env -C /opt/sluice/apps/web NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOME=/tmp/sluice-warm \
  SLUICE_DATA=/tmp/sluice-warm SLUICE_SOCKET=/tmp/sluice-warm/agent.sock SLUICE_PROTOCOLS=/opt/sluice/protocols \
  NODE_COMPILE_CACHE=/opt/sluice/cache/web \
  "$NODE" "${FLAGS[@]}" --require /tmp/sluice-warm/flush.cjs /opt/sluice/apps/web/server.js --port "$port" --host 127.0.0.1 \
  >"$R/tmp/sluice-warm.log" 2>&1 &
web_pid=$!
ok=0
for _ in $(seq 1 240); do
  if curl -fs -o /dev/null -m 60 "http://127.0.0.1:$port/setup" 2>/dev/null; then
    ok=1
    break
  fi
  kill -0 "$web_pid" 2>/dev/null || break
  sleep 0.5
done
if ((ok)); then
  for path in / /setup /login /api/trpc/auth.getSession; do
    curl -s -o /dev/null -m 60 "http://127.0.0.1:$port$path" || true
  done
fi
sleep 3 # a last flush
kill -TERM "$web_pid" 2>/dev/null || true
for _ in $(seq 1 60); do kill -0 "$web_pid" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$web_pid" 2>/dev/null || true
wait "$web_pid" 2>/dev/null || true
web_pid=""
((ok)) || { echo "warm-cache: WARNING the dashboard did not start:"; tail -20 "$R/tmp/sluice-warm.log"; }
rm -rf "$R/tmp/sluice-warm" "$R/tmp/sluice-warm.log" "$R/opt/sluice/apps/web/.next/cache"/*
chown -R 977:977 "$R/opt/sluice/cache/web"
echo "warm-cache: dashboard $(find "$R/opt/sluice/cache/web" -type f | wc -l) entries"
