#!/bin/bash
# sluice-diag: what the box is doing, in one screen (ports, addresses, NAT, listeners, the
# agent socket, storage, qdiscs, failed units, memory). The boot test reads it too.
. /run/sluice/ports.env 2>/dev/null
section() { printf '== %s\n' "$1"; }
section ports
echo "WAN=${WAN:-none} LAN=${LAN:-none} LAN_ADDR=${LAN_ADDR:-} WAN_ADMIN=${WAN_ADMIN:-0}"
section addresses
ip -br -4 addr show
section routes
ip -4 route show
section forwarding
sysctl net.ipv4.ip_forward
section nat
iptables -t nat -S SLUICE_NAT 2>&1
section firewall
iptables -S SLUICE_IN 2>&1
section listening
ss -lntu4p | awk '{ print $1, $5, $7 }'
section socket
stat -c '%n %U:%G %a' /run/sluice /run/sluice/agent.sock 2>&1
section storage
cat /run/sluice/storage 2>/dev/null
findmnt -no SOURCE,FSTYPE,SIZE,USED /var/lib/sluice
[[ -f /run/sluice/storage-warning ]] && echo "WARNING: $(cat /run/sluice/storage-warning)"
section processes
ps -eo user=,pid=,rss=,args= | grep -E '[n]ode|[n]ext-server|[d]nsmasq' | cut -c1-150
section qdiscs
for d in $WAN $LAN; do tc qdisc show dev "$d" | head -4; done
section filters
# fw filters per mark field: prio 1 hostname rules, 2 apps and categories, 3 protocols
for d in $WAN $LAN; do tc filter show dev "$d" | grep -o 'pref [0-9]* fw' | sort | uniq -c | sed "s/^/$d /"; done
# or (nftables variant) one mark -> class map per field and device in the inet sluice table
nft list table inet sluice 2>/dev/null | grep -oE 'map dev[0-9]+_(host|app|protocol)' | sort | uniq -c
section dns-path
# LAN DNS answers pass SLUICE_OUT (the agent's DNS-answer queue); the queries seen by conntrack
iptables -t mangle -nvxL SLUICE_OUT 2>&1 | tail -n +3
conntrack -L -p udp --dport 53 2>/dev/null | head -5
section failed-units
systemctl --failed --no-legend --plain
section restarts
systemctl show -p Id -p NRestarts sluice-agent.service sluice-web.service | paste -d' ' - - - | sed 's/^ *//'
# crashes: systemd's "Main process exited, code=dumped/killed, status=11/SEGV" and V8's own
journalctl -b -o cat -u sluice-agent -u sluice-web |
  grep -E 'Fatal error|Check failed|Main process exited|Segmentation|SEGV|code=dumped|core dump' | head -5
journalctl -b -k -o cat | grep -E 'segfault at|traps:' | head -5
section agent-log
# the agent's own words this boot, first start included (what it was doing if it crashed)
journalctl -b -o short-monotonic -u sluice-agent | grep -v 'pattern skipped' | head -60
section boot-time
# where the boot went (the kernel's clock; the boot test adds the time before the kernel)
systemd-analyze time 2>&1 | head -2
systemd-analyze blame 2>/dev/null | head -12
systemd-analyze critical-chain sluice-web.service sluice-agent.service 2>/dev/null | grep -v '^The time\|^$'
journalctl -b -o short-monotonic -u sluice-agent -u sluice-web 2>/dev/null |
  grep -E 'Started|policy applied|last good policy|control API listening|data plane running|Ready in|Listening|listening on|database|capabilit|pattern set loaded|catalogue loaded' | head -16
section boot-cpu
# CPU seconds per unit when the dashboard first answered (console-report), and the box's
# user/system/idle time then (both vCPUs, from /proc/stat)
# (systemctl show prints a unit's properties in its own order, one blank-line-separated block each)
awk -F= 'function unit() { if (id != "" && ns > 2e8) printf "%7.1f s  %s\n", ns / 1e9, id; id = ""; ns = 0 }
  /^$/ { unit() } END { unit() } /^Id=/ { id = $2 } /^CPUUsageNSec=[0-9]/ { ns = $2 }' \
  /run/sluice/boot-cpu.txt 2>/dev/null | sort -rn | head -20
awk -F= '/^uptime=/ { split($2, u, " "); printf "uptime %.1f s\n", u[1] }
  /^stat=/ { split($2, c, " "); printf "cpu: user %.1f s, nice %.1f s, system %.1f s, idle %.1f s, iowait %.1f s, irq+softirq %.1f s\n", c[2] / 100, c[3] / 100, c[4] / 100, c[5] / 100, c[6] / 100, (c[7] + c[8]) / 100 }' \
  /run/sluice/boot-cpu.txt 2>/dev/null
# the dashboard's compile cache as V8 sees it on this CPU (accepted entries; none rejected)
if [[ -d /opt/sluice/cache/web ]]; then
  (cd /opt/sluice/apps/web && NODE_COMPILE_CACHE=/opt/sluice/cache/web NODE_DEBUG_NATIVE=COMPILE_CACHE \
    timeout 120 /opt/sluice/node/bin/node --no-memory-protection-keys -e 'require("next/dist/server/next.js")' 2>&1 |
    grep -oE 'was (accepted|rejected)|mismatch|failed' | sort | uniq -c | tr '\n' ' '; echo "(compile cache of the dashboard, in this box)")
fi
section policy-time
# the kernel clock when the ports were chosen (also on the console) and when the agent had
# its policy in place: the boot test turns the second into time from power-on
journalctl -b -o short-monotonic -u sluice-firstboot -u sluice-agent 2>/dev/null |
  grep -E 'sluice-firstboot: WAN=|initial policy applied|last good policy in place' | head -3
section cpu
# pku: V8 would protect its JIT memory with protection keys (Sluice runs Node without that)
grep -m1 -o -w -E 'pku|ospke|avx2|sse4_2' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
section memory
free -m | head -2
