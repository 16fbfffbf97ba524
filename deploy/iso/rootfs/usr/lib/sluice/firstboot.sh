#!/bin/bash
# Network setup, every boot (the live system's /etc is in RAM; the choice of ports is kept on
# the data disk so a box keeps its WAN and LAN once chosen):
#   - ports: physical Ethernet devices (not lo, not virtual, not wireless), in bus order;
#     WAN = the first with a link (carrier) within a few seconds, else the first port;
#     LAN = the first other port. Kept in /var/lib/sluice/network.env (edit it to change them;
#     or boot with sluice.wan=DEV sluice.lan=DEV [sluice.lan_addr=A.B.C.D/24]).
#   - systemd-networkd: DHCP client on WAN, LAN_ADDR (default 192.168.77.1/24) on LAN;
#   - dnsmasq: DHCP (.100-.250) and DNS on LAN;
#   - IPv4 forwarding, MASQUERADE on WAN, a small firewall (WAN: replies, ICMP and DHCP in;
#     nothing new forwarded from WAN to LAN; the dashboard closed on WAN unless
#     sluice.wan_admin=1), loaded with iptables-restore --noflush into chains of its own;
#   - /etc/sluice/initial-policy.json: the default policy on these ports (the agent applies
#     it only when it has no last good policy yet);
#   - /etc/issue: the dashboard's address.
set -u
RUN=/run/sluice
DATA=/var/lib/sluice
STATE="$DATA/network.env"
say() { echo "sluice-firstboot: $*"; }
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^sluice\.$1=//p" | tail -1; }

# The saved ports (a box that has booted before): go on as soon as both have their final
# names; else (first boot, or they are gone) wait for udev to finish naming every port.
saved_ports_present() {
  local WAN="" LAN=""
  [[ -f "$STATE" ]] && . "$STATE"
  [[ -n "$WAN" && -e "/sys/class/net/$WAN" ]] && [[ -z "$LAN" || -e "/sys/class/net/$LAN" ]]
}
settled=0
for _ in $(seq 1 20); do
  saved_ports_present && { settled=1; break; }
  [[ -f "$STATE" ]] || break
  sleep 0.25
done
((settled)) || udevadm settle --timeout=30 || true

ports() {
  local p n
  for p in /sys/class/net/*; do
    n="${p##*/}"
    [[ "$n" == lo || ! -e "$p/device" || -d "$p/wireless" || -e "$p/phy80211" ]] && continue
    [[ "$(cat "$p/type")" == 1 ]] || continue
    echo "$(readlink -f "$p/device") $n"
  done | sort | awk '{ print $2 }'
}
mapfile -t PORTS < <(ports)
say "network ports: ${PORTS[*]:-none}"
exists() { [[ -n "$1" && -e "/sys/class/net/$1" ]]; }

WAN="" LAN="" LAN_ADDR=""
if [[ -f "$STATE" ]]; then
  . "$STATE"
  if ! exists "$WAN" || { [[ -n "$LAN" ]] && ! exists "$LAN"; }; then
    say "the saved ports (WAN=$WAN LAN=$LAN) are gone: detecting again"
    WAN="" LAN=""
  fi
fi
[[ -n "$(arg wan)" ]] && WAN="$(arg wan)"
[[ -n "$(arg lan)" ]] && LAN="$(arg lan)"
[[ -n "$(arg lan_addr)" ]] && LAN_ADDR="$(arg lan_addr)"
LAN_ADDR="${LAN_ADDR:-192.168.77.1/24}"
[[ "$LAN_ADDR" == */* ]] || LAN_ADDR="$LAN_ADDR/24"

if [[ -z "$WAN" && ${#PORTS[@]} -gt 0 ]]; then
  for p in "${PORTS[@]}"; do ip link set "$p" up 2>/dev/null; done
  for _ in $(seq 1 12); do
    for p in "${PORTS[@]}"; do
      if [[ "$(cat "/sys/class/net/$p/carrier" 2>/dev/null)" == 1 ]]; then WAN="$p"; break 2; fi
    done
    sleep 0.5
  done
  [[ -z "$WAN" ]] && WAN="${PORTS[0]}" && say "no port has a link yet: WAN is the first port"
fi
if [[ -z "$LAN" ]]; then
  for p in "${PORTS[@]}"; do [[ "$p" != "$WAN" ]] && LAN="$p" && break; done
fi
WAN_ADMIN="$([[ "$(arg wan_admin)" == 1 ]] && echo 1 || echo 0)"
say "WAN=${WAN:-none} LAN=${LAN:-none} LAN address $LAN_ADDR"
printf 'WAN=%s\nLAN=%s\nLAN_ADDR=%s\n' "$WAN" "$LAN" "$LAN_ADDR" >"$STATE.tmp" && mv "$STATE.tmp" "$STATE"
printf 'WAN=%s\nLAN=%s\nLAN_ADDR=%s\nWAN_ADMIN=%s\n' "$WAN" "$LAN" "$LAN_ADDR" "$WAN_ADMIN" >"$RUN/ports.env"

# ---- systemd-networkd
mkdir -p /run/systemd/network
rm -f /run/systemd/network/10-sluice-*.network
if [[ -n "$WAN" ]]; then
  cat >/run/systemd/network/10-sluice-wan.network <<NET
[Match]
Name=$WAN

[Network]
DHCP=yes
IPv6AcceptRA=yes

[DHCPv4]
UseDNS=yes
NET
fi
if [[ -n "$LAN" ]]; then
  cat >/run/systemd/network/10-sluice-lan.network <<NET
[Match]
Name=$LAN

[Link]
RequiredForOnline=no

[Network]
Address=$LAN_ADDR
ConfigureWithoutCarrier=yes
IgnoreCarrierLoss=yes
IPv6AcceptRA=no
NET
fi

# ---- LAN DHCP and DNS
rm -f "$RUN/dnsmasq.conf"
if [[ -n "$LAN" ]]; then
  ip="${LAN_ADDR%/*}"
  net="${ip%.*}"
  cat >"$RUN/dnsmasq.conf" <<CONF
interface=$LAN
bind-dynamic
no-hosts
resolv-file=/run/systemd/resolve/resolv.conf
dhcp-range=$net.100,$net.250,255.255.255.0,12h
dhcp-option=option:router,$ip
dhcp-option=option:dns-server,$ip
dhcp-authoritative
dhcp-leasefile=$DATA/dnsmasq.leases
domain=lan
local=/lan/
# the dashboard by name: http://sluice.lan/
host-record=sluice.lan,$ip
CONF
fi

# ---- forwarding, NAT, firewall
sysctl -qw net.ipv4.ip_forward=1
if [[ -n "$WAN" ]]; then
  {
    echo "*nat"
    echo ":SLUICE_NAT - [0:0]"
    echo "-A POSTROUTING -j SLUICE_NAT"
    echo "-A SLUICE_NAT -o $WAN -j MASQUERADE"
    echo "COMMIT"
    echo "*filter"
    echo ":SLUICE_IN - [0:0]"
    echo ":SLUICE_FWD - [0:0]"
    echo "-A INPUT -j SLUICE_IN"
    echo "-A FORWARD -j SLUICE_FWD"
    echo "-A SLUICE_IN -i $WAN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    echo "-A SLUICE_IN -i $WAN -p icmp -j ACCEPT"
    echo "-A SLUICE_IN -i $WAN -p udp --dport 68 -j ACCEPT"
    [[ "$WAN_ADMIN" == 1 ]] && echo "-A SLUICE_IN -i $WAN -p tcp --dport 80 -j ACCEPT"
    echo "-A SLUICE_IN -i $WAN -j DROP"
    echo "-A SLUICE_FWD -i $WAN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    echo "-A SLUICE_FWD -i $WAN -j DROP"
    echo "COMMIT"
  } | iptables-restore --noflush || say "WARNING: could not load the NAT/firewall rules"
  {
    echo "*filter"
    echo ":SLUICE_IN - [0:0]"
    echo ":SLUICE_FWD - [0:0]"
    echo "-A INPUT -j SLUICE_IN"
    echo "-A FORWARD -j SLUICE_FWD"
    echo "-A SLUICE_IN -i $WAN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    echo "-A SLUICE_IN -i $WAN -p ipv6-icmp -j ACCEPT"
    echo "-A SLUICE_IN -i $WAN -p udp --dport 546 -j ACCEPT"
    [[ "$WAN_ADMIN" == 1 ]] && echo "-A SLUICE_IN -i $WAN -p tcp --dport 80 -j ACCEPT"
    echo "-A SLUICE_IN -i $WAN -j DROP"
    echo "-A SLUICE_FWD -i $WAN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
    echo "-A SLUICE_FWD -i $WAN -j DROP"
    echo "COMMIT"
  } | ip6tables-restore --noflush 2>/dev/null || true
fi

# ---- the initial policy on the detected ports
mkdir -p /etc/sluice
rm -f /etc/sluice/initial-policy.json
if [[ -n "$WAN" && -n "$LAN" ]]; then
  sed -e "s/__WAN__/$WAN/g" -e "s/__LAN__/$LAN/g" /opt/sluice/share/initial-policy.template.json \
    >/etc/sluice/initial-policy.json
else
  say "WARNING: Sluice needs two network ports (found ${#PORTS[@]}): no initial policy"
fi

/usr/lib/sluice/issue.sh
exit 0
