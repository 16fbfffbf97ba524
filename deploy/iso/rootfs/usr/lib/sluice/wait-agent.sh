#!/bin/bash
# ExecStartPost of sluice-agent: waits for the control socket (the agent listens once the
# capability probe and the boot policy are done; its data plane starts after), then makes sure it is
# root:sluice 0660 (the setgid /run/sluice gives it that group already), and says so on the
# console (the boot test's "agent up" milestone). Gives up at once if the agent exits
# meanwhile, so that Restart= brings it back without waiting for a timeout.
SOCK="${SLUICE_SOCKET:-/run/sluice/agent.sock}"
# A pause without a process: `read -t` on a pipe nobody writes (a `sleep` process 4 times a
# second costs the emulated boot CPU the agent needs).
exec {pause}<> <(:)
for _ in $(seq 1 2300); do
  if [[ -S "$SOCK" ]]; then
    chgrp sluice "$SOCK" && chmod 0660 "$SOCK"
    echo "sluice-agent: control socket up, policy applied" >/dev/console 2>/dev/null || true
    exit 0
  fi
  if [[ -n "${MAINPID:-}" ]] && ! kill -0 "$MAINPID" 2>/dev/null; then
    echo "sluice-agent: the agent exited before its control socket was up" >&2
    exit 1
  fi
  read -r -t 0.25 -u "$pause" || true
done
echo "sluice-agent: no control socket at $SOCK after 575 s" >&2
exit 1
