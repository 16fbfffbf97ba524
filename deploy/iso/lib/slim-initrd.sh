#!/usr/bin/env bash
# Rebuilds the initrd that mkinitramfs made (live-boot's, with the boot-media drivers of
# base-hook.sh) as the appliance's own: lib/initrd-init.sh as /init, busybox and kmod with the
# libraries they link, and the kernel modules of that initrd minus the NIC drivers live-boot
# packs for network boot (the image never boots from the network; the NICs load later, from
# the root filesystem). live-boot's scripts and udev stay out: under emulation they were most
# of the initramfs's time (docs/iso.md). Rewrites INITRD in place (one zstd-compressed cpio).
#
#   slim-initrd.sh INITRD
set -euo pipefail
img="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "$(head -c4 "$img" | od -An -tx1 | tr -d ' ')" != 28b52ffd ]]; then
  echo "slim-initrd: $img is not one zstd archive" >&2
  exit 1
fi
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
mkdir "$t/deb" "$t/root"
zstd -q -dc "$img" | (cd "$t/deb" && cpio -idm --quiet)
kver="$(ls "$t/deb/usr/lib/modules")"
lib=usr/lib/x86_64-linux-gnu
cd "$t/root"
mkdir -p usr/bin usr/lib/modules "$lib" usr/lib64 dev proc sys run root tmp etc/modprobe.d
ln -s usr/bin bin
ln -s usr/bin sbin
ln -s usr/lib lib
ln -s usr/lib64 lib64
cp -a "$t/deb/usr/lib/modules/$kver" usr/lib/modules/
rm -rf "usr/lib/modules/$kver/kernel/drivers/net"
cp -aL "$t/deb/usr/lib64/ld-linux-x86-64.so.2" usr/lib64/
cp -a "$t/deb/etc/ld.so.conf" "$t/deb/etc/ld.so.conf.d" "$t/deb/etc/ld.so.cache" etc/
cp -aL "$t/deb/usr/bin/busybox" "$t/deb/usr/bin/kmod" usr/bin/
# the shared libraries busybox and kmod need, and theirs
need=(busybox kmod)
while ((${#need[@]})); do
  f="${need[0]}"
  need=("${need[@]:1}")
  src="$t/deb/usr/bin/$f"
  [[ -e "$src" ]] || src="$t/deb/$lib/$f"
  for so in $(objdump -p "$src" | awk '/NEEDED/ { print $2 }'); do
    [[ "$so" == ld-linux* || -e "$lib/$so" ]] && continue
    cp -aL "$t/deb/$lib/$so" "$lib/$so"
    need+=("$so")
  done
done
for a in $(usr/bin/busybox --list); do [[ -e "usr/bin/$a" ]] || ln -s busybox "usr/bin/$a"; done
for a in modprobe insmod rmmod lsmod depmod modinfo; do ln -sf kmod "usr/bin/$a"; done
install -m 755 "$here/initrd-init.sh" init
depmod -b "$t/root" "$kver"
find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet | zstd -q -19 -T0 >"$img.tmp"
mv "$img.tmp" "$img"
