#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to the state Sluice needs: Debian packages,
# Node 24 (from the npm package `node@24`, the only binary source reachable here),
# and the workspace's npm dependencies with native modules built against Node 24.
# Idempotent: each step is skipped when it is already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }

APT_PACKAGES=(build-essential python3 iproute2 iptables nftables conntrack libnetfilter-queue1 libnetfilter-queue-dev
  libmnl0 libnfnetlink0 procps psmisc curl ca-certificates openssl kmod postgresql chromium libndpi-bin time)
# The servers and clients packages/classifier/corpus/build.sh captures (SLUICE_CORPUS=1 only:
# the tests read the committed captures, they do not rebuild them). proftpd-core and vsftpd
# exclude each other (both are ftp-server); pyftpdlib is the second FTP server.
CORPUS_APT_PACKAGES=(tcpdump nginx-light apache2 lighttpd wget squid tinyproxy proftpd-core python3-pyftpdlib lftp ftp
  chrony ntpsec-ntpdate dnsmasq-base bind9-dnsutils knot-dnsutils memcached redis-server redis-tools netcat-openbsd
  openssh-server openssh-client dropbear-bin tftpd-hpa tftp-hpa atftp mosquitto mosquitto-clients natpmpc)
[[ "${SLUICE_CORPUS:-}" == 1 ]] && APT_PACKAGES+=("${CORPUS_APT_PACKAGES[@]}")
if [[ "${SLUICE_SKIP_APT:-}" != 1 ]]; then
  missing=()
  for p in "${APT_PACKAGES[@]}" ${SLUICE_EXTRA_APT:-}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then echo "bootstrap: need root to install ${missing[*]}" >&2; exit 1; fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if ! "$SLUICE_NODE" -v 2>/dev/null | grep -q '^v24\.'; then
  log "installing Node 24 into $SLUICE_NODE_PREFIX (npm package node@24)"
  mkdir -p "$SLUICE_NODE_PREFIX"
  npm install --prefix "$SLUICE_NODE_PREFIX" --no-audit --no-fund --loglevel=error node@24 >/dev/null
fi
log "node $("$SLUICE_NODE" -v), headers at $npm_config_nodedir"

stamp="node_modules/.sluice-install-stamp"
want="$(sha256sum package-lock.json | cut -d' ' -f1)-$("$SLUICE_NODE" -v)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "npm ci (native modules build against Node 24 headers)"
  RE2_DOWNLOAD_FORCE_BUILD=1 npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
log "ready"
