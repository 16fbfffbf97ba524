#!/bin/bash
# ExecStartPost of sluice-agent: waits for the control socket (the agent listens last, after
# the capability probe, the boot policy and the data plane), then makes sure it is
# root:sluice 0660 (the setgid /run/sluice gives it that group already).
SOCK="${SLUICE_SOCKET:-/run/sluice/agent.sock}"
for _ in $(seq 1 1150); do
  if [[ -S "$SOCK" ]]; then
    chgrp sluice "$SOCK" && chmod 0660 "$SOCK"
    exit 0
  fi
  sleep 0.5
done
echo "sluice-agent: no control socket at $SOCK after 575 s" >&2
exit 1
