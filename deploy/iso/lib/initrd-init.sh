#!/bin/sh
# The appliance's initramfs /init (busybox sh), in place of live-boot's scripts and udev:
# load the drivers the hardware asks for (modalias), find the ISO (CD, USB stick, disk: an
# iso9660 filesystem with /live/filesystem.squashfs), loop-mount its squashfs under a RAM
# overlay and switch to it. live-boot's layout is kept (/run/live/medium, /run/live/rootfs,
# /run/live/overlay), so the root system sees what it saw before. Under emulation live-boot
# spent most of the initramfs's time in udev and its scripts; this does the same in a few
# dozen commands. Boot options: toram (copy the squashfs to RAM first: the medium can be
# removed), sluice.initdebug (a shell before switching).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /dev /proc /sys /run /root /tmp
mount -t devtmpfs -o nosuid,mode=0755 udev /dev
mount -t proc -o nodev,noexec,nosuid proc /proc
mount -t sysfs -o nodev,noexec,nosuid sysfs /sys
mount -t tmpfs -o nodev,nosuid,mode=0755,size=20% tmpfs /run
exec </dev/console >/dev/console 2>&1
echo "Loading, please wait..."

rescue() {
  echo "sluice-init: $*"
  echo "sluice-init: a shell for the console (exit to try again)"
  setsid cttyhack sh || sh
}
arg() { grep -qw "$1" /proc/cmdline; }

# Drivers: whatever the devices' modaliases ask for (PCI controllers, then the USB and SCSI
# devices behind them), plus the filesystems and the CD/disk layers. modprobe -b honours
# modprobe.blacklist= from the kernel command line.
coldplug() {
  cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u >/tmp/aliases.new
  cmp -s /tmp/aliases.new /tmp/aliases && return 0
  mv /tmp/aliases.new /tmp/aliases
  xargs modprobe -qab </tmp/aliases 2>/dev/null
}
modprobe -qab sr_mod sd_mod cdrom isofs udf squashfs loop overlay 2>/dev/null
: >/tmp/aliases

M=/run/live/medium
mkdir -p "$M" /run/live/rootfs/filesystem.squashfs /run/live/overlay
found=""
tries=0
while [ -z "$found" ]; do
  coldplug
  for dev in /dev/sr[0-9]* /dev/vd[a-z]* /dev/sd[a-z]* /dev/nvme[0-9]*n[0-9]* /dev/mmcblk[0-9]* /dev/hd[a-z]* /dev/xvd[a-z]*; do
    [ -b "$dev" ] || continue
    case "$(blkid "$dev" 2>/dev/null)" in *'TYPE="iso9660"'* | *'TYPE="udf"'*) ;; *) continue ;; esac
    mount -r "$dev" "$M" 2>/dev/null || continue
    if [ -f "$M/live/filesystem.squashfs" ]; then
      found="$dev"
      break
    fi
    umount "$M"
  done
  [ -n "$found" ] && break
  tries=$((tries + 1))
  # USB sticks and slow controllers appear late; after about a minute, ask the console
  if [ "$tries" -ge 300 ]; then
    rescue "no boot medium with /live/filesystem.squashfs found"
    tries=0
  fi
  sleep 0.2
done
echo "sluice-init: boot medium $found"

SQ="$M/live/filesystem.squashfs"
if arg toram; then
  echo "sluice-init: copying the system to RAM ($(($(stat -c %s "$SQ") / 1048576)) MiB)"
  mkdir -p /run/live/toram
  mount -t tmpfs -o mode=0755 toram /run/live/toram
  if cp "$SQ" /run/live/toram/filesystem.squashfs; then
    SQ=/run/live/toram/filesystem.squashfs
    umount "$M" || true
  else
    echo "sluice-init: not enough RAM: running from the medium"
    umount /run/live/toram
  fi
fi
mount -t squashfs -o ro,loop "$SQ" /run/live/rootfs/filesystem.squashfs || rescue "cannot mount $SQ"
mount -t tmpfs -o mode=0755 tmpfs /run/live/overlay
mkdir -p /run/live/overlay/rw /run/live/overlay/work
mount -t overlay -o lowerdir=/run/live/rootfs/filesystem.squashfs,upperdir=/run/live/overlay/rw,workdir=/run/live/overlay/work \
  overlay /root || rescue "cannot mount the overlay root"
arg sluice.initdebug && rescue "sluice.initdebug: the root is on /root"

for d in run dev proc sys; do
  mount -o move "/$d" "/root/$d" || mount --move "/$d" "/root/$d"
done
exec switch_root /root /sbin/init
