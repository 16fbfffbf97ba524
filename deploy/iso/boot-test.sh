#!/usr/bin/env bash
# Boots deploy/iso/out/sluice.iso in QEMU (TCG, no KVM) twice on one fresh data disk, with two
# virtio NICs on restricted user-mode networking and a host port forward to the dashboard on
# the LAN port; checks the agent's variant (leaf=sfq filter=nft), the dashboard (setup page,
# admin creation), persistence across the reboot, and prints the time to each milestone.
#
#   bash deploy/iso/boot-test.sh [--iso FILE] [--work DIR] [--uefi] [--usb] [--boots N] [--timeout S]
#
# Takes about 10 minutes on 2 cores (see docs/iso.md). Installs qemu-system-x86 and ovmf.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
missing=()
for p in qemu-system-x86 qemu-utils ovmf; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[boot-test] apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
exec node "$ROOT/deploy/iso/lib/boot-test.ts" "$@"
