#!/usr/bin/env bash
# `./dev start`: Sluice on its embedded default. Brings up the three-namespace lab (LAN
# clients — box — WAN servers, with a live traffic mix), runs the agent inside the box
# namespace on the lab policy, and (when the dashboard is built) serves it on :3000.
# Ctrl-C stops everything and removes the lab.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
SLUICE="$ROOT/apps/agent/bin/sluice"
LAB="$ROOT/apps/lab/bin/sluice-lab" # the test lab: a workspace of its own, not in the appliance
DATA="${SLUICE_DATA:-/var/lib/sluice-lab}"
export SLUICE_SOCKET="${SLUICE_SOCKET:-/run/sluice/agent.sock}"
RUN="$(dirname "$SLUICE_SOCKET")" # the logs go beside the socket
mkdir -p "$DATA" "$RUN"

cleanup() {
  trap - EXIT INT TERM
  echo
  echo "[start] stopping"
  [[ -n "${STATS_PID:-}" ]] && kill "$STATS_PID" 2>/dev/null || true
  [[ -n "${WEB_PID:-}" ]] && kill "$WEB_PID" 2>/dev/null || true
  [[ -n "${AGENT_PID:-}" ]] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
  "$LAB" down || true
}
trap cleanup EXIT INT TERM

BOX="$("$LAB" ns box)" # sluice-box, or SLUICE_LAB_PREFIX-box
echo "[start] lab up (namespaces $("$LAB" ns lan), $BOX, $("$LAB" ns wan); servers)"
"$LAB" up --no-traffic
echo "[start] agent in $BOX (data: $DATA, socket: $SLUICE_SOCKET, log: $RUN/agent.log)"
ip netns exec "$BOX" "$SLUICE" agent --data "$DATA" --initial-policy "$ROOT/deploy/lab-policy.json" >"$RUN/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 60); do
  [[ -S "$SLUICE_SOCKET" ]] && "$SLUICE" status >/dev/null 2>&1 && break
  kill -0 "$AGENT_PID" 2>/dev/null || { echo "[start] the agent exited:"; tail -20 "$RUN/agent.log"; exit 1; }
  sleep 0.5
done
"$SLUICE" status
# Traffic starts after the agent, so it sees every connection from its first packet.
echo "[start] traffic generators in $("$LAB" ns lan)"
"$LAB" traffic >/dev/null

if [[ -f apps/web/package.json ]]; then
  echo "[start] dashboard on http://${SLUICE_WEB_HOST:-127.0.0.1}:${SLUICE_WEB_PORT:-3000} (loopback unless SLUICE_WEB_HOST is set)"
  bash scripts/start-web.sh >"$RUN/web.log" 2>&1 &
  WEB_PID=$!
fi

echo "[start] live per-class rates (sluice stats --watch); Ctrl-C stops Sluice and removes the lab"
sleep 2
# In the background + wait, so that Ctrl-C / SIGTERM reach the trap at once.
"$SLUICE" stats --watch &
STATS_PID=$!
wait "$STATS_PID"
