#!/bin/bash
# Persistent data for /var/lib/sluice (the agent's policy history, the dashboard's database,
# the chosen WAN/LAN ports). In order:
#   1. a filesystem labelled SLUICE-DATA (any disk or partition): checked and mounted;
#   2. else the first empty disk (virtio, SATA/SCSI, NVMe; not removable, not read-only, no
#      partition table and no filesystem signature at all): formatted ext4 SLUICE-DATA, mounted;
#   3. else a tmpfs, with a warning on the console and in /run/sluice/storage-warning (which
#      the dashboard can show): everything is lost at reboot.
# Writes the outcome to /run/sluice/storage ("persistent DEVICE" or "tmpfs") once /var/lib/sluice
# is ready: the dashboard starts before this script ends and opens its database after that
# file appears (SLUICE_DATA_READY in sluice-web.service).
set -u
MNT=/var/lib/sluice
RUN=/run/sluice
say() { echo "sluice-storage: $*"; }

mkdir -p "$MNT" "$RUN"
chgrp sluice "$RUN" && chmod 2750 "$RUN"
rm -f "$RUN/storage-warning" "$RUN/storage" "$RUN/storage.tmp"
# A disk labelled SLUICE-DATA that is there already (the usual case: the disk drivers load in
# the initrd) is used at once; else wait for udev to finish adding devices (USB disks come
# late) before looking again and for an empty disk.
# (Each step is logged: the journal's times show where a slow boot waited.) The first look
# probes the disks only (not the CD, not the squashfs loop device, both slow to probe under
# emulation: the step before the settle took 10-15 s there); after the settle, `blkid -L`
# (every block device) is the fallback.
disks=()
for d in /dev/vd* /dev/sd* /dev/xvd* /dev/nvme*n* /dev/mmcblk*; do [[ -b "$d" ]] && disks+=("$d"); done
dev=""
((${#disks[@]})) && dev="$(blkid -c /dev/null -o device -t LABEL=SLUICE-DATA "${disks[@]}" 2>/dev/null | head -1 || true)"
if [[ -z "$dev" ]]; then
  say "no disk labelled SLUICE-DATA yet: waiting for udev to add every device"
  udevadm settle --timeout=30 || true
  dev="$(blkid -L SLUICE-DATA 2>/dev/null || true)"
fi
[[ -n "$dev" ]] && say "SLUICE-DATA is $dev"
if [[ -z "$dev" ]]; then
  medium="$(findmnt -no SOURCE /run/live/medium 2>/dev/null || true)"
  medium_disk="$( [[ -n "$medium" ]] && lsblk -no PKNAME "$medium" 2>/dev/null | head -1 || true)"
  for d in $(lsblk -dnpo NAME,TYPE | awk '$2 == "disk" { print $1 }'); do
    name="${d##*/}"
    case "$name" in vd* | sd* | xvd* | hd* | nvme*n*) ;; *) continue ;; esac
    [[ "$d" == "$medium" || "$name" == "$medium_disk" ]] && continue
    [[ "$(cat "/sys/block/$name/ro" 2>/dev/null)" == 1 ]] && continue
    [[ "$(cat "/sys/block/$name/removable" 2>/dev/null)" == 1 ]] && continue
    (($(lsblk -nro NAME "$d" | wc -l) > 1)) && continue # has partitions
    # any signature at all (partition table, filesystem, RAID, LVM...) means "in use"
    [[ -n "$(blkid -p -o export "$d" 2>/dev/null)" ]] && continue
    [[ -n "$(wipefs -n "$d" 2>/dev/null | tail -n +2)" ]] && continue
    size="$(blockdev --getsize64 "$d" 2>/dev/null || echo 0)"
    ((size < 64 * 1024 * 1024)) && continue
    say "formatting the empty disk $d ($((size / 1024 / 1024)) MiB) as ext4, label SLUICE-DATA"
    if mkfs.ext4 -q -F -L SLUICE-DATA -m 1 "$d"; then
      dev="$d"
      break
    fi
    say "mkfs.ext4 $d failed"
  done
fi

if [[ -n "$dev" ]]; then
  fstype="$(blkid -o value -s TYPE "$dev" 2>/dev/null || true)"
  [[ "$fstype" == ext* ]] && { fsck -p "$dev" >/dev/null 2>&1 || true; } && say "$dev checked (fsck -p)"
  if mount -o noatime "$dev" "$MNT"; then
    say "persistent data on $dev ($fstype) at $MNT"
    echo "persistent $dev" >"$RUN/storage.tmp"
  else
    say "could not mount $dev"
    dev=""
  fi
fi
if [[ -z "$dev" ]]; then
  mount -t tmpfs -o mode=0770,size=25% sluice-data "$MNT"
  msg="no disk labelled SLUICE-DATA and no empty disk: the admin account, settings and policy history are kept in RAM and LOST at reboot. Add a disk (it is formatted on the next boot) or label a partition SLUICE-DATA (e2label DEV SLUICE-DATA)."
  echo "$msg" >"$RUN/storage-warning"
  echo "tmpfs" >"$RUN/storage.tmp"
  for _ in 1 2 3; do say "WARNING: $msg"; done
fi
# the agent (root) and the dashboard (user sluice) share it; new files keep group sluice
chown root:sluice "$MNT"
chmod 2770 "$MNT"
# core dumps of the agent (root) and the dashboard (sluice): sysctl.d/50-sluice-core.conf
mkdir -p "$MNT/crash" && chown root:sluice "$MNT/crash" && chmod 1770 "$MNT/crash"
# (the newest three kept: a crash loop must not fill the disk)
find "$MNT/crash" -maxdepth 1 -name 'core.*' -printf '%T@ %p\n' 2>/dev/null | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
# last: the dashboard waits for this file before it opens its database there
mv "$RUN/storage.tmp" "$RUN/storage"
exit 0
