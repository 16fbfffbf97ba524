#!/usr/bin/env bash
# Builds the Sluice appliance image: a hybrid BIOS + UEFI live ISO (CD or USB stick) from
# Debian 12 packages, with Node 24, the agent, the pattern set and, when apps/web builds, the
# dashboard. Output: deploy/iso/out/sluice.iso. See docs/iso.md.
#
#   npm run iso            (or: bash deploy/iso/build.sh)
#
# Steps: Debian build tools (apt) → the base system (mmdebstrap, cached as a tarball keyed by
# the package list, the apt sources and lib/base-hook.sh) → the dashboard (next build, when
# apps/web exists) → the root filesystem (base + /opt/sluice + units) → squashfs → GRUB
# hybrid ISO (grub-mkrescue) → a size breakdown.
#
# Environment: SLUICE_ISO_OUT (default deploy/iso/out), SLUICE_ISO_CACHE (deploy/iso/cache),
# SLUICE_ISO_MIRROR (a Debian mirror URL instead of the machine's apt sources),
# SLUICE_ISO_WEB=0 (leave the dashboard out), SLUICE_ISO_BASE_ONLY=1 (stop after the cached
# base system), SLUICE_ISO_COMP (squashfs compressor: zstd,
# the default, or xz: smaller, slower to build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
ISO="$ROOT/deploy/iso"
OUT="${SLUICE_ISO_OUT:-$ISO/out}"
CACHE="${SLUICE_ISO_CACHE:-$ISO/cache}"
BUILD="$OUT/build"
R="$BUILD/rootfs"
SUITE=bookworm
START=$SECONDS
log() { printf '\033[1;34m[iso %3ds]\033[0m %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '\033[1;31m[iso]\033[0m %s\n' "$*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root (mmdebstrap, chroot, mksquashfs need it)"
[[ -x "$SLUICE_NODE" ]] || die "Node 24 not found at $SLUICE_NODE: run ./dev setup first"
[[ -d node_modules/re2 ]] || die "node_modules missing: run ./dev setup first"

# ---- 1. build tools ---------------------------------------------------------------------------
TOOLS=(mmdebstrap squashfs-tools grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools dosfstools binutils zstd cpio kmod)
missing=()
for p in "${TOOLS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. the base system (cached) --------------------------------------------------------------
PACKAGES=(
  linux-image-amd64 live-boot live-boot-initramfs-tools initramfs-tools
  systemd systemd-sysv systemd-resolved udev dbus kmod procps util-linux e2fsprogs
  iproute2 iptables nftables conntrack libnetfilter-queue1 libnetfilter-conntrack3 libmnl0 libnfnetlink0
  dnsmasq-base ca-certificates iputils-ping ethtool less zstd
  usr-is-merged # not usrmerge, which would bring perl (the tree is merged already)
)
# The machine's apt sources (only those that point at Debian), or SLUICE_ISO_MIRROR.
SOURCES=()
if [[ -n "${SLUICE_ISO_MIRROR:-}" ]]; then
  SOURCES=("deb $SLUICE_ISO_MIRROR $SUITE main" "deb $SLUICE_ISO_MIRROR $SUITE-updates main")
else
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && grep -v '^\s*#' "$f" | grep -qiE '^(deb|URIs:).*debian' && SOURCES+=("$f")
  done
  ((${#SOURCES[@]})) || SOURCES=("deb http://deb.debian.org/debian $SUITE main")
fi
key="$({
  printf '%s\n' "$SUITE" "${PACKAGES[@]}" "${SOURCES[@]}"
  for s in "${SOURCES[@]}"; do [[ -f "$s" ]] && cat "$s"; done
  cat "$ISO/lib/base-essential-hook.sh" "$ISO/lib/base-hook.sh"
  mmdebstrap --version
} | sha256sum | cut -c1-16)"
BASE="$CACHE/base-$key.tar"
mkdir -p "$CACHE"
if [[ -f "$BASE" ]]; then
  log "base system: cached ($(basename "$BASE"))"
else
  log "base system: mmdebstrap $SUITE (${#PACKAGES[@]} packages; a few minutes, cached afterwards)"
  rm -f "$CACHE"/base-*.tar "$CACHE"/base-*.tar.tmp
  mmdebstrap --variant=minbase --mode=root --format=tar \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --aptopt='Acquire::Retries "3"' --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --essential-hook="bash '$ISO/lib/base-essential-hook.sh' \"\$1\"" \
    --customize-hook="bash '$ISO/lib/base-hook.sh' \"\$1\"" \
    "$SUITE" "$BASE.tmp" "${SOURCES[@]}" >"$CACHE/mmdebstrap.log" 2>&1 ||
    { tail -30 "$CACHE/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $CACHE/mmdebstrap.log)"; }
  mv "$BASE.tmp" "$BASE"
fi

[[ "${SLUICE_ISO_BASE_ONLY:-0}" == 1 ]] && { log "SLUICE_ISO_BASE_ONLY=1: the base system only"; exit 0; }

# ---- 3. the dashboard -------------------------------------------------------------------------
WEB=0
if [[ "${SLUICE_ISO_WEB:-1}" != 0 && -f apps/web/package.json ]]; then
  log "dashboard: next build (skipped when .next is of the current sources)"
  if [[ -f apps/web/scripts/ensure-build.ts ]]; then
    node apps/web/scripts/ensure-build.ts >"$CACHE/web-build.log" 2>&1 && ok=1 || ok=0
  else
    npm run build -w apps/web >"$CACHE/web-build.log" 2>&1 && ok=1 || ok=0
  fi
  if ((ok)) && [[ -f apps/web/.next/BUILD_ID ]]; then
    WEB=1
  else
    tail -15 "$CACHE/web-build.log" >&2 || true
    log "WARNING: the dashboard does not build (log: $CACHE/web-build.log): the image has the agent only"
  fi
fi

# ---- 4. the root filesystem -------------------------------------------------------------------
log "root filesystem: base + /opt/sluice ($([[ $WEB == 1 ]] && echo "agent and dashboard" || echo "agent only"))"
rm -rf "$BUILD"
mkdir -p "$R" "$BUILD/iso/live" "$BUILD/iso/boot/grub"
tar -xf "$BASE" -C "$R" --numeric-owner
# More kernel modules a router appliance never loads (here, not in the cached base, so the
# list is cheap to change): server storage adapters (Fibre Channel, iSCSI offload, SAS RAID),
# software RAID and device mapper, USB serial adapters, gadget mode and USB/IP. Every NIC,
# qdisc, classifier and netfilter module, and every disk a small box boots from, stay.
kdir="$(ls -d "$R"/usr/lib/modules/* | sort -V | tail -1)"
for d in bfa qla4xxx qla2xxx qedf qedi csiostor cxgbi pm8001 isci megaraid mpt3sas aic7xxx aic94xx \
  bnx2fc bnx2i fcoe fnic snic smartpqi aacraid arcmsr esas2r mvsas elx lpfc libfc libsas hisi_sas \
  mpi3mr be2iscsi ibmvscsi mvumi; do
  rm -rf "$kdir/kernel/drivers/scsi/$d"
done
rm -rf "$kdir"/kernel/drivers/md "$kdir"/kernel/drivers/usb/{serial,gadget,usbip,atm}
depmod -b "$R" "$(basename "$kdir")"
OPT="$R/opt/sluice"
node --disable-warning=ExperimentalWarning "$ISO/lib/stage-app.ts" "$ROOT" "$OPT" $([[ $WEB == 1 ]] && echo --web)
# plain JavaScript on the box: the agent, its workers, @sluice/api and the dashboard's server
# bundled (esbuild), so no Node process strips TypeScript types (a WebAssembly module) at start
node --disable-warning=ExperimentalWarning "$ISO/lib/bundle-app.ts" "$ROOT" "$OPT" $([[ $WEB == 1 ]] && echo --web)
# Node 24 from the project's own install (no download): the binary only, without debug info
mkdir -p "$OPT/node/bin" "$OPT/bin" "$OPT/share"
strip --strip-unneeded -o "$OPT/node/bin/node" "$SLUICE_NODE"
find "$OPT/node_modules/" -name '*.node' -type f -exec strip --strip-debug {} +
# Node's flags on the box, the same for the agent and the CLI (this wrapper), the dashboard
# (sluice-web.service, @NODE_FLAGS@) and warm-cache.sh: V8 rejects a compile cache made under
# other flags.
# --no-memory-protection-keys: on CPUs with protection keys (PKU: recent Intel and AMD, and
# QEMU's "max" CPU) V8 write-protects its JIT memory per thread, and a thread without the key
# dies with SIGSEGV (V8 issue 360909072, unfixed in Node 24's V8): the agent's start-up crash.
# --no-wasm-tier-up --no-wasm-code-gc: the one WebAssembly module left at start (Prisma's
# query compiler, in the dashboard) keeps its first-tier code: no optimized code compiled on
# background threads to replace it, no code freed. V8's JIT-page registry (ThreadIsolation)
# failed a check under emulation twice, in processes compiling WebAssembly (nodejs/node#64500:
# the same family of aborts from WebAssembly code allocation and freeing). See docs/iso.md.
NODE_FLAGS="--no-memory-protection-keys --no-wasm-tier-up --no-wasm-code-gc"
# NODE_COMPILE_CACHE: the CLI reads the agent's warmed cache (same wrapper, same flags), so a
# `sluice status` at boot compiles nothing.
cat >"$OPT/bin/sluice" <<EOF
#!/bin/sh
# The sluice CLI and agent on the appliance's Node 24 (bundled JavaScript: lib/bundle-app.ts).
export NODE_COMPILE_CACHE="\${NODE_COMPILE_CACHE:-/opt/sluice/cache/agent}"
exec /opt/sluice/node/bin/node $NODE_FLAGS /opt/sluice/apps/agent/dist/main.js "\$@"
EOF
chmod 755 "$OPT/bin/sluice"
ln -sf /opt/sluice/bin/sluice "$R/usr/local/bin/sluice"
ln -sf /opt/sluice/node/bin/node "$R/usr/local/bin/node"
ln -sf /usr/lib/sluice/diag.sh "$R/usr/local/bin/sluice-diag"
node "$ISO/lib/initial-policy.ts" "$ROOT" >"$OPT/share/initial-policy.template.json"
git -C "$ROOT" describe --always --dirty >"$OPT/share/version" 2>/dev/null || echo unknown >"$OPT/share/version"
cp -a "$ISO/rootfs/." "$R/"
sed -i "s|@NODE_FLAGS@|$NODE_FLAGS|" "$R/etc/systemd/system/sluice-web.service"
grep -q "node/bin/node $NODE_FLAGS /" "$R/etc/systemd/system/sluice-web.service" || die "sluice-web.service: no @NODE_FLAGS@"
# the dashboard's user (fixed ids: files on a data disk keep their owner across images)
chroot "$R" groupadd --system --gid 977 sluice
chroot "$R" useradd --system --uid 977 --gid sluice --home-dir /var/lib/sluice --no-create-home \
  --shell /usr/sbin/nologin --comment "Sluice dashboard" sluice
if ((WEB)); then
  mkdir -p "$OPT/apps/web/.next/cache"
  chown -R 977:977 "$OPT/apps/web/.next/cache"
fi
# root logs in on the local console without a password (there is no remote login at all)
chroot "$R" passwd --delete root >/dev/null
echo sluice >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsluice\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
: >"$R/etc/machine-id"
ln -sf /run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"
# systemd-resolved without "Before=sysinit.target": Debian orders it before sysinit, so every
# unit with default dependencies (the data disk, the agent, the dashboard) waited for its
# start-up (10-25 s under emulation). Nothing of ours resolves names before dnsmasq, which
# is ordered after it. A copy in /etc replaces the packaged unit whole.
sed -e 's/^Before=sysinit.target /Before=/' "$R/lib/systemd/system/systemd-resolved.service" \
  >"$R/etc/systemd/system/systemd-resolved.service"
grep -q '^Before=network.target' "$R/etc/systemd/system/systemd-resolved.service" ||
  die "systemd-resolved.service: its Before= line changed, update build.sh"
units=(systemd-networkd.service systemd-resolved.service sluice-storage.service sluice-firstboot.service
  sluice-dnsmasq.service sluice-modules.service sluice-agent.service sluice-console.service)
((WEB)) && units+=(sluice-web.service) || rm -f "$R/etc/systemd/system/sluice-web.service"
systemctl --root="$R" enable "${units[@]}" >/dev/null 2>&1
# Masked: timers for a box that never updates in place; updates that a read-only /usr never
# needs (hwdb, ldconfig, the journal catalogue: they run at every live boot otherwise, since
# the RAM /etc has no .updated stamp); kernel debug mounts; waiting for "online" (no unit of
# ours needs it: the agent and the dashboard work without a WAN lease).
systemctl --root="$R" mask systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service systemd-hwdb-update.service ldconfig.service \
  systemd-journal-catalog-update.service systemd-update-done.service systemd-pstore.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount dev-hugepages.mount \
  modprobe@drm.service modprobe@fuse.service systemd-networkd-wait-online.service >/dev/null 2>&1
# Also masked, each a process or a wait at every boot for nothing an appliance uses: the
# users are made at build time (sysusers), no utmp records, no weekly timers, no device
# mapper, configfs or POSIX message queues, no network units from the kernel command line
# (loop is loaded by the initramfs already).
systemctl --root="$R" mask systemd-sysusers.service systemd-update-utmp.service \
  systemd-update-utmp-runlevel.service dpkg-db-backup.timer fstrim.timer systemd-tmpfiles-clean.timer \
  modprobe@dm_mod.service modprobe@configfs.service modprobe@loop.service sys-kernel-config.mount \
  dev-mqueue.mount systemd-network-generator.service >/dev/null 2>&1
# udev rules for hardware a router has not (device mapper, GPUs, sound, cameras, joysticks,
# touchpads, tape, InfiniBand, MTD, FIDO keys, sensors, btrfs): udevd parses every rule file
# at its start and matches every event against them, both slow under emulation.
for rule in 55-dm 60-persistent-storage-dm 95-dm-notify 60-drm 60-fido-id 60-infiniband \
  60-persistent-alsa 60-persistent-v4l 60-persistent-storage-tape 60-sensor 64-btrfs 70-camera \
  70-joystick 70-touchpad 75-probe_mtd 78-sound-card 96-e2scrub; do
  mkdir -p "$R/etc/udev/rules.d" && ln -sf /dev/null "$R/etc/udev/rules.d/$rule.rules"
done
# V8 compile caches for the agent and the dashboard (run once in the root filesystem)
log "compile cache: agent$([[ $WEB == 1 ]] && echo " and dashboard") (run once inside the image)"
SLUICE_NODE_FLAGS="$NODE_FLAGS" bash "$ISO/lib/warm-cache.sh" "$R" $([[ $WEB == 1 ]] && echo --web) | sed 's/^/    /'
# kernel and initrd go beside the squashfs, not in it
cp "$(ls "$R"/boot/vmlinuz-* | sort -V | tail -1)" "$BUILD/iso/live/vmlinuz"
cp "$(ls "$R"/boot/initrd.img-* | sort -V | tail -1)" "$BUILD/iso/live/initrd.img"
bash "$ISO/lib/slim-initrd.sh" "$BUILD/iso/live/initrd.img"
rm -rf "$R"/boot/* "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/* "$R"/tmp/* "$R"/var/tmp/*

# ---- 5. squashfs and the hybrid ISO -----------------------------------------------------------
# zstd -19: ~1.5 min here and fast to read back at boot; xz: ~15% smaller, 4x slower to build.
# 1 MiB blocks: 256 KiB blocks made the image 153.5 MiB (over the 150 MiB budget; 143.1 with
# 1 MiB) and gained at most ~6 s of emulated CPU before systemd (docs/iso.md).
COMP="${SLUICE_ISO_COMP:-zstd}"
log "squashfs ($COMP)"
if [[ $COMP == xz ]]; then copt=(-comp xz -Xbcj x86 -b 1M); else copt=(-comp zstd -Xcompression-level 19 -b 1M); fi
mksquashfs "$R" "$BUILD/iso/live/filesystem.squashfs" "${copt[@]}" -noappend -quiet -no-progress \
  -processors "$(nproc)" -wildcards -e 'proc/*' -e 'sys/*' -e 'dev/*' -e 'run/*' >/dev/null
cp "$ISO/grub.cfg" "$BUILD/iso/boot/grub/grub.cfg"
log "hybrid ISO (grub-mkrescue: BIOS + UEFI, CD and USB)"
mkdir -p "$OUT"
grub-mkrescue -o "$OUT/sluice.iso.tmp" "$BUILD/iso" --compress=xz -- -volid SLUICE >"$BUILD/grub-mkrescue.log" 2>&1 ||
  { cat "$BUILD/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
mv "$OUT/sluice.iso.tmp" "$OUT/sluice.iso"

# ---- 6. what takes the space ------------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN { printf "%6.1f MiB", b / 1048576 }'; }
size() { stat -c %s "$1"; }
dub() { du -sb "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
iso=$(size "$OUT/sluice.iso")
sq=$(size "$BUILD/iso/live/filesystem.squashfs")
raw=$(dub "$R")
{
  echo "== deploy/iso/out/sluice.iso: $(mib "$iso")"
  echo "   squashfs (root filesystem, $COMP): $(mib "$sq")  ($(mib "$raw") uncompressed)"
  echo "   kernel: $(mib "$(size "$BUILD/iso/live/vmlinuz")")   initrd: $(mib "$(size "$BUILD/iso/live/initrd.img")")   GRUB BIOS+UEFI: $(mib $((iso - sq - $(size "$BUILD/iso/live/vmlinuz") - $(size "$BUILD/iso/live/initrd.img"))))"
  echo "== the root filesystem, uncompressed (compressed share estimated with zstd -9):"
  part() { # label, paths...
    local label="$1" b c p have=()
    shift
    for p in "$@"; do [[ -e "$p" ]] && have+=("$p"); done
    ((${#have[@]})) || return 0
    b=$(dub "${have[@]}")
    c=$( (tar -cf - "${have[@]}" 2>/dev/null || true) | zstd -q -9 -T0 -c | wc -c)
    printf '   %-44s %s  ~%s compressed\n' "$label" "$(mib "$b")" "$(mib "$c")"
  }
  cd "$R"
  part "Node 24 binary (/opt/sluice/node)" opt/sluice/node
  part "next (node_modules/next)" opt/sluice/node_modules/next
  part "other production node_modules" $(ls -d opt/sluice/node_modules/* | grep -v '/next$')
  part "Sluice sources + .next build + patterns" opt/sluice/apps opt/sluice/packages opt/sluice/protocols
  part "kernel modules (/usr/lib/modules)" usr/lib/modules
  part "firmware (/usr/lib/firmware)" usr/lib/firmware
  part "other /usr (Debian userland)" $(ls -d usr/* | grep -v '^usr/lib$') $(ls -d usr/lib/* | grep -vE '^usr/lib/(modules|firmware)$')
  part "/etc /var" etc var
  cd "$ROOT"
} | tee "$OUT/size.txt"
log "done: $OUT/sluice.iso ($(mib "$iso")); dd if=$OUT/sluice.iso of=/dev/sdX bs=4M status=progress conv=fsync"
