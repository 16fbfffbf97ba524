#!/usr/bin/env bash
# mmdebstrap --customize-hook for the cached base system: runs once per base (its result is
# the cached tarball). $1 is the chroot. Trims the kernel to what an appliance with NICs,
# disks and USB needs, regenerates the initrd, and drops what a headless box never reads.
set -euo pipefail
R="$1"
kver="$(basename "$(ls -d "$R"/usr/lib/modules/*)")"
M="$R/usr/lib/modules/$kver/kernel"

# Kernel modules nobody uses on a router appliance. Kept: net/ (sched, netfilter, veth, ifb),
# drivers/net/ethernet + virtio + usb NICs, block, ata, scsi, nvme, usb (storage, HID),
# mmc, ext4/vfat/iso9660/squashfs/overlay, input.
rm -rf \
  "$M"/sound "$M"/drivers/gpu "$M"/drivers/media "$M"/drivers/infiniband "$M"/drivers/staging \
  "$M"/drivers/net/wireless "$M"/drivers/bluetooth "$M"/drivers/isdn "$M"/drivers/iio \
  "$M"/drivers/video/fbdev "$M"/drivers/comedi "$M"/drivers/misc/habanalabs "$M"/drivers/accel \
  "$M"/drivers/net/can "$M"/drivers/net/wwan "$M"/drivers/net/ieee802154 "$M"/drivers/nfc \
  "$M"/drivers/accessibility "$M"/drivers/android "$M"/drivers/gnss "$M"/drivers/hwtracing \
  "$M"/drivers/pcmcia "$M"/drivers/parport "$M"/drivers/firewire "$M"/drivers/mtd "$M"/drivers/w1 \
  "$M"/drivers/soundwire "$M"/drivers/slimbus "$M"/drivers/memstick "$M"/drivers/nvdimm \
  "$M"/drivers/cxl "$M"/drivers/input/joystick "$M"/drivers/input/touchscreen \
  "$M"/drivers/input/tablet "$M"/drivers/block/floppy.ko "$M"/drivers/scsi/lpfc "$M"/drivers/scsi/qla2xxx \
  "$M"/drivers/scsi/mpi3mr "$M"/drivers/scsi/be2iscsi "$M"/drivers/target "$M"/drivers/hwmon \
  "$M"/drivers/thunderbolt "$M"/drivers/platform/chrome "$M"/drivers/atm "$M"/drivers/fpga \
  "$M"/net/wireless "$M"/net/mac80211 "$M"/net/bluetooth "$M"/net/nfc "$M"/net/ieee802154 \
  "$M"/net/mac802154 "$M"/net/can "$M"/net/ceph "$M"/net/sunrpc "$M"/net/rxrpc "$M"/net/tipc \
  "$M"/net/rds "$M"/net/atm "$M"/net/6lowpan "$M"/net/appletalk "$M"/net/batman-adv \
  "$M"/net/x25 "$M"/net/lapb "$M"/net/phonet "$M"/net/netrom "$M"/net/rose "$M"/net/ax25 \
  "$M"/net/caif "$M"/net/9p "$M"/net/smc "$M"/net/qrtr \
  "$M"/fs/nfs "$M"/fs/nfsd "$M"/fs/smb "$M"/fs/cifs "$M"/fs/ocfs2 "$M"/fs/gfs2 "$M"/fs/btrfs \
  "$M"/fs/xfs "$M"/fs/ceph "$M"/fs/f2fs "$M"/fs/jfs "$M"/fs/nilfs2 "$M"/fs/ubifs "$M"/fs/dlm \
  "$M"/fs/afs "$M"/fs/orangefs "$M"/fs/ntfs3 "$M"/fs/reiserfs "$M"/fs/bcachefs "$M"/fs/erofs \
  "$M"/fs/hfs "$M"/fs/hfsplus "$M"/fs/coda "$M"/fs/9p "$M"/fs/lockd "$M"/fs/nfs_common \
  "$M"/crypto/qat 2>/dev/null || true
chroot "$R" depmod -a "$kver"
rm -rf "$R"/usr/lib/firmware/amdgpu "$R"/usr/lib/firmware/nvidia "$R"/usr/lib/firmware/intel/ipu \
  "$R"/usr/lib/firmware/qcom "$R"/usr/lib/firmware/mellanox 2>/dev/null || true

# The initrd: live-boot's scripts and only the drivers that can carry the boot medium (CD,
# SATA/PATA, USB, NVMe, SD/eMMC, virtio) and its filesystems. MODULES=most (Debian's default
# for a live image) also packs every SCSI HBA, NIC and filesystem: a 23 MiB initrd that takes
# seconds to unpack under emulation. The NICs load later, from the root filesystem. The hook
# adds the modules without force-loading them: udev loads those the hardware asks for.
mkdir -p "$R/etc/initramfs-tools/conf.d" "$R/etc/initramfs-tools/hooks"
printf 'MODULES=list\nCOMPRESS=zstd\n' >"$R/etc/initramfs-tools/conf.d/sluice.conf"
cat >"$R/etc/initramfs-tools/hooks/sluice-boot-media" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for d in kernel/drivers/ata kernel/drivers/usb/host kernel/drivers/usb/storage kernel/drivers/nvme/host \
  kernel/drivers/mmc/host kernel/drivers/mmc/core kernel/drivers/hid/usbhid; do
  copy_modules_dir "$d"
done
manual_add_modules sd_mod sr_mod cdrom virtio_pci virtio_blk virtio_scsi loop isofs udf squashfs \
  overlay vfat nls_cp437 nls_iso8859_1 nls_utf8 nls_ascii hid_generic
HOOK
chmod 755 "$R/etc/initramfs-tools/hooks/sluice-boot-media"
rm -f "$R/usr/sbin/update-initramfs"
chroot "$R" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
rm -f "$R"/boot/initrd.img-*
chroot "$R" update-initramfs -c -k "$kver" >/dev/null

# Perl: only usrmerge wanted it (the essential phase picks it for init-system-helpers);
# usr-is-merged, in the package list, stands in for it (the tree is merged already).
chroot "$R" dpkg --purge usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl \
  perl libperl5.36 perl-modules-5.36 >/dev/null

# Headless: no docs, man pages, locales (dpkg path-excludes keep them out of later installs).
rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/* \
  "$R"/usr/share/lintian "$R"/usr/share/bug "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/* \
  "$R"/var/cache/debconf/*-old "$R"/var/log/*.log 2>/dev/null || true
