#!/bin/bash
# Prints on the console, once the agent is up: whether the dashboard answers, then
# `sluice status` (between markers the boot test reads), then the welcome text with the
# addresses. The dashboard is waited for first, with bash alone: a Node process here would
# take CPU from the dashboard's own start-up.
set -u
if systemctl -q is-enabled sluice-web.service 2>/dev/null; then
  answer="no answer"
  for _ in $(seq 1 600); do
    if exec 3<>/dev/tcp/127.0.0.1/80; then
      printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
      if read -r -t 60 line <&3 && [[ "$line" == HTTP/* ]]; then
        answer="${line%$'\r'}"
        exec 3<&-
        break
      fi
      exec 3<&-
    fi 2>/dev/null
    sleep 1
  done
  echo "SLUICE-WEB-READY $answer"
else
  echo "SLUICE-WEB-ABSENT (this image has no dashboard: use the sluice command on the console)"
fi
echo "SLUICE-STATUS-BEGIN"
/opt/sluice/bin/sluice status 2>&1 || true
echo "SLUICE-STATUS-END"
/usr/lib/sluice/issue.sh --print
