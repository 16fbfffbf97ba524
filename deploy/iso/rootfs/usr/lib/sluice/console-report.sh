#!/bin/bash
# Prints on the console, once the agent is up: `sluice status` (between markers the boot
# test reads), then whether the dashboard answers, then the welcome text with the addresses.
set -u
echo "SLUICE-STATUS-BEGIN"
/opt/sluice/bin/sluice status 2>&1 || true
echo "SLUICE-STATUS-END"
if systemctl -q is-enabled sluice-web.service 2>/dev/null; then
  echo "SLUICE-WEB-READY $(/opt/sluice/node/bin/node /usr/lib/sluice/wait-web.mjs 600)"
else
  echo "SLUICE-WEB-ABSENT (this image has no dashboard: use the sluice command on the console)"
fi
/usr/lib/sluice/issue.sh --print
