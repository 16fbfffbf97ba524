#!/usr/bin/env bash
# mmdebstrap --essential-hook: before the kernel, live-boot and initramfs-tools are installed,
# divert update-initramfs to a no-op so their postinsts and triggers do not each build an
# initrd (minutes each); base-hook.sh restores it and builds the one initrd, after trimming
# the kernel modules. (live-build does the same.)
set -euo pipefail
R="$1"
chroot "$R" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.real --add /usr/sbin/update-initramfs
printf '#!/bin/sh\n# diverted during the image build (deploy/iso/lib/base-essential-hook.sh)\nexit 0\n' >"$R/usr/sbin/update-initramfs"
chmod 755 "$R/usr/sbin/update-initramfs"
