#!/bin/bash
# The console's welcome text. Writes /etc/issue (agetty fills in \4{dev} with the port's
# current IPv4 address and redraws it when addresses change); with --print, also prints it
# with the addresses as they are now.
set -u
RUN=/run/sluice
WAN="" LAN="" LAN_ADDR=""
[[ -f "$RUN/ports.env" ]] && . "$RUN/ports.env"
addr() { ip -4 -o addr show dev "$1" 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'; }
web=0
[[ -f /etc/systemd/system/multi-user.target.wants/sluice-web.service ]] && web=1

text() { # $1: how to show an address: "issue" (agetty escape) or "now"
  local lan_ip="${LAN_ADDR%/*}" wan_ip
  if [[ $1 == issue ]]; then wan_ip="\\4{$WAN}"; else wan_ip="$(addr "$WAN")"; wan_ip="${wan_ip:-(no DHCP lease yet)}"; fi
  echo "Sluice layer-7 QoS appliance"
  echo
  if [[ -n "$LAN" ]]; then
    if ((web)); then
      echo "  Dashboard (LAN port $LAN):  http://$lan_ip/  (or http://sluice.lan/)"
      if [[ "${WAN_ADMIN:-0}" == 1 ]]; then
        echo "  Dashboard (WAN port $WAN):  http://$wan_ip/"
      else
        echo "  WAN port $WAN: $wan_ip  (dashboard closed on WAN; boot option sluice.wan_admin=1 opens it)"
      fi
      echo "  The first visit to the dashboard creates the admin account."
    else
      echo "  LAN port $LAN: $lan_ip    WAN port $WAN: $wan_ip"
      echo "  This image has no dashboard: log in here and use the sluice command."
    fi
    echo "  LAN clients get addresses by DHCP from this box ($lan_ip)."
  elif [[ -n "$WAN" ]]; then
    echo "  Only one network port ($WAN, $wan_ip): Sluice needs a WAN and a LAN port to route."
  else
    echo "  No network port found."
  fi
  if [[ -f "$RUN/storage-warning" ]]; then
    echo
    echo "  WARNING: $(cat "$RUN/storage-warning")"
  fi
  echo
  echo "  Console login: root (no password on the local console). Status: sluice status"
  echo
}
{
  text issue
  echo '\n login on \l'
  echo
} >/etc/issue
if [[ "${1:-}" == --print ]]; then
  echo "SLUICE-BANNER-BEGIN"
  text now
  echo "SLUICE-BANNER-END"
fi
exit 0
