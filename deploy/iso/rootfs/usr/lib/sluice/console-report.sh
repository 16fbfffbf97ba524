#!/bin/bash
# Prints on the console, once the agent is up: whether the dashboard answers, then
# `sluice status` (between markers the boot test reads), then the welcome text with the
# addresses. The dashboard is waited for first, with bash alone: a Node process here would
# take CPU from the dashboard's own start-up.
set -u
exec {pause}<> <(:) # `read -t` on it: a pause without a sleep process
if systemctl -q is-enabled sluice-web.service 2>/dev/null; then
  answer="no answer"
  # every 0.25 s (a refused connection costs next to nothing) for 10 minutes at most
  for _ in $(seq 1 2400); do
    if exec 3<>/dev/tcp/127.0.0.1/80; then
      printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
      if read -r -t 60 line <&3 && [[ "$line" == HTTP/* ]]; then
        answer="${line%$'\r'}"
        exec 3<&-
        break
      fi
      exec 3<&-
    fi 2>/dev/null
    read -r -t 0.25 -u "$pause" || true
  done
  echo "SLUICE-WEB-READY $answer"
  # where the boot's CPU went until now (sluice-diag prints it): per unit, and the whole box
  { systemctl show --property=Id,CPUUsageNSec '*.service' '*.scope' 2>/dev/null
    echo "uptime=$(</proc/uptime)"
    echo "stat=$(head -1 /proc/stat)"; } >/run/sluice/boot-cpu.txt
else
  echo "SLUICE-WEB-ABSENT (this image has no dashboard: use the sluice command on the console)"
fi
# The agent answers while its data plane's workers still start: wait for them (a minute or
# two at most on a slow box) so that the status shows the data plane as it runs.
status=""
for _ in $(seq 1 20); do
  status="$(/opt/sluice/bin/sluice status 2>&1)"
  [[ "$status" == *"data plane: starting"* ]] || break
  read -r -t 5 -u "$pause" || true
done
echo "SLUICE-STATUS-BEGIN"
echo "$status"
echo "SLUICE-STATUS-END"
/usr/lib/sluice/issue.sh --print
