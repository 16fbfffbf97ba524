#!/usr/bin/env bash
# Builds Sluice's own labelled corpus from real programs: Debian servers and clients
# talking across a veth pair between two network namespaces this script creates (and
# removes), each scenario captured by tcpdump into its own pcap and labelled by
# construction (the scenario knows which port carries which protocol).
#
#   sudo packages/classifier/corpus/build.sh OUT_DIR [variant]
#   sudo ONLY="natpmp" packages/classifier/corpus/build.sh OUT_DIR [variant]   (some groups)
#
# variant: "main" (the committed corpus, packages/classifier/corpus/own) or "heldout"
# (other ports, file names and payload sizes: a corpus built the same way that the
# patterns were not tuned on). Needs root and the packages listed in scripts/bootstrap.sh
# (SLUICE_CORPUS_APT). Traffic never leaves the two namespaces.
#
# Output: OUT_DIR/NAME.pcap and OUT_DIR/labels.json: for each pcap, the expected protocol
# by transport and server port ("rest": the protocol of every other flow of that
# transport in the capture, e.g. FTP data connections).
set -uo pipefail

OUT=${1:?usage: build.sh OUT_DIR [main|heldout]}
VARIANT=${2:-main}
PREFIX=${SLUICE_LAB_PREFIX:-sl}
S="${PREFIX}-corp$$-s"
C="${PREFIX}-corp$$-c"
SIP4=10.77.0.1
CIP4=10.77.0.2
SIP6=fd77::1
CIP6=fd77::2
WORK=$(mktemp -d /tmp/sluice-corpus.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LABELS=()

if [[ $VARIANT == heldout ]]; then
  ALT=1 # other non-standard ports and contents
  P_HTTP=8888 P_FTP=2100 P_FTP2=2200 P_REDIS=6380 P_MC=11311 P_PG=5433 P_SSH=2223 P_PROXY=3129 P_NTP=1123
  P_DNS=5353 P_MQTT=1884 P_TLS=9443 P_TFTP=6969 FILE_KB=24
else
  ALT=0
  P_HTTP=8080 P_FTP=2121 P_FTP2=2021 P_REDIS=16379 P_MC=21211 P_PG=15432 P_SSH=2222 P_PROXY=8118 P_NTP=10123
  P_DNS=5300 P_MQTT=11883 P_TLS=8443 P_TFTP=1069 FILE_KB=8
fi

log() { printf '\033[1;34m[corpus]\033[0m %s\n' "$*" >&2; }
inS() { ip netns exec "$S" "$@"; }
inC() { ip netns exec "$C" "$@"; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
  sleep 0.2
  ip netns del "$S" 2>/dev/null
  ip netns del "$C" 2>/dev/null
  if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

setup() {
  ip netns add "$S" && ip netns add "$C" || exit 1
  ip link add "${PREFIX}-cs0" netns "$S" type veth peer name "${PREFIX}-cc0" netns "$C"
  inS ip link set lo up
  inC ip link set lo up
  inS ip addr add $SIP4/24 dev "${PREFIX}-cs0"
  inC ip addr add $CIP4/24 dev "${PREFIX}-cc0"
  inS ip -6 addr add $SIP6/64 dev "${PREFIX}-cs0" nodad
  inC ip -6 addr add $CIP6/64 dev "${PREFIX}-cc0" nodad
  inS ip link set "${PREFIX}-cs0" up
  inC ip link set "${PREFIX}-cc0" up
  mkdir -p "$WORK/www" "$WORK/ftp/pub" "$WORK/tftp"
  head -c $((FILE_KB * 1024)) /dev/urandom >"$WORK/www/blob.bin"
  printf '<html><body>sluice corpus %s</body></html>\n' "$VARIANT" >"$WORK/www/index.html"
  cp "$WORK/www/blob.bin" "$WORK/ftp/pub/blob.bin"
  cp "$WORK/www/index.html" "$WORK/ftp/pub/readme.txt"
  cp "$WORK/www/blob.bin" "$WORK/tftp/boot.img"
  chmod -R a+rX "$WORK"
  chmod 0777 "$WORK/tftp"
}

# bg NS CMD...: starts a server in a namespace, remembers its pid.
bg() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@" >>"$WORK/servers.log" 2>&1 &
  PIDS+=($!)
}

CAP_PID=
capture_start() {
  CAP_FILE="$OUT/$1.pcap"
  rm -f "$CAP_FILE"
  ip netns exec "$C" tcpdump -i "${PREFIX}-cc0" -s 0 -U -w "$CAP_FILE" 'tcp or udp' >/dev/null 2>&1 &
  CAP_PID=$!
  # tcpdump writes the file header before its capture is live: give it time (the build
  # machine may be loaded).
  for _ in $(seq 100); do [[ -s $CAP_FILE ]] && break; sleep 0.05; done
  sleep 1
}

# capture_end NAME 'LABEL-JSON': stops the capture and records the labels.
capture_end() {
  sleep 1
  kill -TERM "$CAP_PID" 2>/dev/null
  wait "$CAP_PID" 2>/dev/null
  LABELS+=("\"$1.pcap\": $2")
  log "$1: $(stat -c %s "$OUT/$1.pcap") bytes"
}

# scenario NAME LABELS CMD...: runs a client command (in the client namespace) under capture.
scenario() {
  local name=$1 labels=$2
  shift 2
  capture_start "$name"
  timeout 20 ip netns exec "$C" "$@" >>"$WORK/clients.log" 2>&1 </dev/null || log "$name: client exited $?"
  capture_end "$name" "$labels"
}

wait_port() { # wait_port PROTO PORT
  for _ in $(seq 100); do
    inS ss -H -ln"${1:0:1}" "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  log "nothing listens on $1 $2"
  return 1
}

http_servers() {
  cat >"$WORK/nginx.conf" <<EOF
daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx.err; worker_processes 1;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $WORK/nb; proxy_temp_path $WORK/np; fastcgi_temp_path $WORK/nf;
  uwsgi_temp_path $WORK/nu; scgi_temp_path $WORK/ns;
  server { listen 80; listen [::]:80; listen $P_HTTP; root $WORK/www; }
  server { listen 443 ssl http2; listen [::]:443 ssl http2; listen $P_TLS ssl; server_name corpus.test;
    root $WORK/www; ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem; } }
EOF
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=corpus.test -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 2 >/dev/null 2>&1
  bg "$S" nginx -c "$WORK/nginx.conf"
  cat >"$WORK/lighttpd.conf" <<EOF
server.document-root = "$WORK/www"
server.port = 81
server.bind = "$SIP4"
\$SERVER["socket"] == "$SIP4:$((P_HTTP + 1))" { }
server.pid-file = "$WORK/lighttpd.pid"
server.errorlog = "$WORK/lighttpd.err"
EOF
  bg "$S" lighttpd -D -f "$WORK/lighttpd.conf"
  local mods=/usr/lib/apache2/modules
  cat >"$WORK/apache2.conf" <<EOF
ServerRoot $WORK
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dir_module $mods/mod_dir.so
ServerName corpus.test
Listen 82
Listen $((P_HTTP + 2))
PidFile $WORK/apache2.pid
ErrorLog $WORK/apache2.err
DocumentRoot $WORK/www
<Directory $WORK/www>
  Require all granted
</Directory>
EOF
  bg "$S" env APACHE_RUN_DIR="$WORK" apache2 -f "$WORK/apache2.conf" -DFOREGROUND
  wait_port tcp 80
  wait_port tcp 81
  wait_port tcp 82
}

http_scenarios() {
  local tag
  for srv in nginx:80:$P_HTTP lighttpd:81:$((P_HTTP + 1)) apache2:82:$((P_HTTP + 2)); do
    IFS=: read -r tag p1 p2 <<<"$srv"
    scenario "http-$tag-curl" "{\"tcp\":{\"$p1\":\"http\",\"$p2\":\"http\"}}" \
      sh -c "curl -s -o /dev/null http://$SIP4:$p1/index.html; curl -s -o /dev/null http://$SIP4:$p2/blob.bin"
    scenario "http-$tag-wget" "{\"tcp\":{\"$p1\":\"http\",\"$p2\":\"http\"}}" \
      sh -c "wget -q -O /dev/null http://$SIP4:$p1/; wget -q -O /dev/null http://$SIP4:$p2/blob.bin"
  done
  scenario "http-nginx-ipv6" '{"tcp":{"80":"http"}}' curl -s -o /dev/null "http://[$SIP6]:80/"
  scenario "tls-nginx-curl" "{\"tcp\":{\"443\":\"ssl\",\"$P_TLS\":\"ssl\"}}" \
    sh -c "curl -sk -o /dev/null https://$SIP4/; curl -sk --http1.1 -o /dev/null https://$SIP4:$P_TLS/blob.bin"
  scenario "tls-nginx-openssl" '{"tcp":{"443":"ssl"}}' \
    sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet -connect $SIP4:443 -servername corpus.test"
}

proxy_scenarios() {
  cat >"$WORK/tinyproxy.conf" <<EOF
Port $P_PROXY
Listen $SIP4
Timeout 30
Allow $CIP4
ConnectPort 443
ConnectPort $P_TLS
PidFile "$WORK/tinyproxy.pid"
EOF
  bg "$S" tinyproxy -d -c "$WORK/tinyproxy.conf"
  mkdir -p "$WORK/squid"
  cat >"$WORK/squid.conf" <<EOF
http_port $SIP4:3128
http_access allow all
cache deny all
pid_filename $WORK/squid.pid
access_log none
cache_log $WORK/squid.err
coredump_dir $WORK/squid
EOF
  bg "$S" squid -N -f "$WORK/squid.conf"
  wait_port tcp "$P_PROXY"
  wait_port tcp 3128
  for px in tinyproxy:$P_PROXY squid:3128; do
    IFS=: read -r tag port <<<"$px"
    scenario "proxy-$tag-http" "{\"tcp\":{\"$port\":\"http\"}}" \
      curl -s -o /dev/null -x "http://$SIP4:$port" "http://$SIP4:$P_HTTP/index.html"
    scenario "proxy-$tag-connect" "{\"tcp\":{\"$port\":\"httpconnect\"}}" \
      curl -sk -o /dev/null -x "http://$SIP4:$port" "https://$SIP4:443/"
  done
}

ftp_servers() {
  cat >"$WORK/proftpd.conf" <<EOF
ServerType standalone
DefaultServer on
Port $P_FTP
UseIPv6 on
User nobody
Group nogroup
PidFile $WORK/proftpd.pid
ScoreboardFile $WORK/proftpd.score
DelayTable none
UseReverseDNS off
<IfModule mod_ident.c>
  IdentLookups off
</IfModule>
WtmpLog off
<Anonymous $WORK/ftp>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
</Anonymous>
EOF
  id ftp >/dev/null 2>&1 || useradd -r -d "$WORK/ftp" -s /usr/sbin/nologin ftp
  bg "$S" proftpd -n -c "$WORK/proftpd.conf"
  bg "$S" /usr/bin/python3 -m pyftpdlib -i :: -p "$P_FTP2" -d "$WORK/ftp"
  wait_port tcp "$P_FTP"
  wait_port tcp "$P_FTP2"
}

ftp_scenarios() {
  local tag port
  for srv in proftpd:$P_FTP pyftpdlib:$P_FTP2; do
    IFS=: read -r tag port <<<"$srv"
    local L="{\"tcp\":{\"$port\":\"ftp\",\"rest\":\"ftp-data\"}}"
    scenario "ftp-$tag-curl-epsv" "$L" curl -s -o /dev/null "ftp://$SIP4:$port/pub/blob.bin"
    scenario "ftp-$tag-curl-pasv" "$L" curl -s --disable-epsv -o /dev/null "ftp://$SIP4:$port/pub/blob.bin"
    scenario "ftp-$tag-curl-port" "$L" curl -s -P - --disable-eprt -o /dev/null "ftp://$SIP4:$port/pub/"
    scenario "ftp-$tag-curl-eprt-ipv6" "$L" curl -s -P - -o /dev/null "ftp://[$SIP6]:$port/pub/blob.bin"
    scenario "ftp-$tag-lftp" "$L" lftp -e "set net:max-retries 1; set net:timeout 5; ls pub; get pub/readme.txt -o $WORK/l.txt; bye" \
      -p "$port" "ftp://anonymous:x@$SIP4"
    scenario "ftp-$tag-netkit" "$L" sh -c "printf 'user anonymous x\npassive\nls pub\nget pub/readme.txt $WORK/n.txt\nbye\n' | ftp -n $SIP4 $port"
  done
}

ntp_scenarios() {
  cat >"$WORK/chrony.conf" <<EOF
port $P_NTP
allow all
local stratum 8
driftfile $WORK/chrony.drift
pidfile $WORK/chronyd.pid
cmdport 0
EOF
  bg "$S" chronyd -d -x -f "$WORK/chrony.conf"
  cat >"$WORK/chrony123.conf" <<EOF
port 123
allow all
local stratum 8
pidfile $WORK/chronyd123.pid
cmdport 0
EOF
  bg "$S" chronyd -d -x -f "$WORK/chrony123.conf"
  wait_port udp 123
  wait_port udp "$P_NTP"
  scenario "ntp-ntpdate" '{"udp":{"123":"ntp"}}' ntpdate -q $SIP4
  scenario "ntp-ntpdate-ipv6" '{"udp":{"123":"ntp"}}' ntpdate -q $SIP6
  scenario "ntp-chronyd-client" "{\"udp\":{\"$P_NTP\":\"ntp\"}}" \
    chronyd -Q -f /dev/null -t 5 "server $SIP4 port $P_NTP iburst maxsamples 2" "pidfile /run/sluice-corpus-cq.pid"
  scenario "ntp-chronyd-client-123" '{"udp":{"123":"ntp"}}' \
    chronyd -Q -f /dev/null -t 5 "server $SIP4 iburst maxsamples 1" "pidfile /run/sluice-corpus-cq2.pid"
}

dns_scenarios() {
  bg "$S" dnsmasq -d -k --no-resolv --no-hosts -p 53 --listen-address=$SIP4,$SIP6 --bind-interfaces \
    --address=/corpus.test/10.77.0.1 --pid-file="$WORK/dnsmasq.pid" -u root
  bg "$S" dnsmasq -d -k --no-resolv --no-hosts -p "$P_DNS" --listen-address=$SIP4 --bind-interfaces \
    --address=/corpus.test/10.77.0.1 --pid-file="$WORK/dnsmasq2.pid" -u root
  wait_port udp 53
  wait_port udp "$P_DNS"
  scenario "dns-dig" '{"udp":{"53":"dns"}}' dig +tries=1 +time=2 @$SIP4 www.corpus.test A
  scenario "dns-dig-tcp" '{"tcp":{"53":"dns"}}' dig +tcp +tries=1 +time=2 @$SIP4 corpus.test AAAA
  scenario "dns-dig-ipv6" '{"udp":{"53":"dns"}}' dig +tries=1 +time=2 @$SIP6 mail.corpus.test MX
  scenario "dns-dig-port" "{\"udp\":{\"$P_DNS\":\"dns\"}}" dig +tries=1 +time=2 -p "$P_DNS" @$SIP4 corpus.test TXT
  if command -v kdig >/dev/null; then
    scenario "dns-kdig" '{"udp":{"53":"dns"}}' kdig +retry=0 +timeout=2 @$SIP4 www.corpus.test A
    scenario "dns-kdig-port" "{\"udp\":{\"$P_DNS\":\"dns\"}}" kdig +retry=0 +timeout=2 -p "$P_DNS" @$SIP4 corpus.test NS
  fi
}

db_scenarios() {
  bg "$S" memcached -u nobody -l $SIP4 -p 11211 -U 0
  bg "$S" memcached -u nobody -l $SIP4 -p "$P_MC" -U 0
  bg "$S" redis-server --bind $SIP4 --port 6379 --save "" --appendonly no --protected-mode no
  bg "$S" redis-server --bind $SIP4 --port "$P_REDIS" --save "" --appendonly no --protected-mode no
  wait_port tcp 11211
  wait_port tcp 6379
  wait_port tcp "$P_REDIS"
  for port in 11211 $P_MC; do
    scenario "memcached-text-$port" "{\"tcp\":{\"$port\":\"memcached\"}}" \
      sh -c "printf 'set k$port 0 0 5\r\nhello\r\nget k$port\r\nquit\r\n' | nc -q 1 $SIP4 $port"
    # Binary protocol: a GET request (magic 0x80, opcode 0x00, key "foo").
    scenario "memcached-binary-$port" "{\"tcp\":{\"$port\":\"memcached\"}}" \
      sh -c "printf '\200\000\000\003\000\000\000\000\000\000\000\003\000\000\000\001\000\000\000\000\000\000\000\000foo' | nc -q 1 $SIP4 $port"
  done
  for port in 6379 $P_REDIS; do
    scenario "redis-cli-$port" "{\"tcp\":{\"$port\":\"redis\"}}" \
      sh -c "redis-cli -h $SIP4 -p $port PING; redis-cli -h $SIP4 -p $port SET a b; redis-cli -h $SIP4 -p $port GET a"
    scenario "redis-inline-$port" "{\"tcp\":{\"$port\":\"redis\"}}" \
      sh -c "printf 'PING\r\nINFO server\r\nQUIT\r\n' | nc -q 1 $SIP4 $port"
  done
  # PostgreSQL
  local pgbin=/usr/lib/postgresql/15/bin
  if [[ -x $pgbin/initdb ]]; then
    mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
    su postgres -s /bin/sh -c "$pgbin/initdb -D $WORK/pg/data -A trust -U postgres" >/dev/null 2>&1
    echo "host all all 10.77.0.0/24 trust" >>"$WORK/pg/data/pg_hba.conf"
    bg "$S" su postgres -s /bin/sh -c "$pgbin/postgres -D $WORK/pg/data -c listen_addresses='$SIP4' -p $P_PG -k $WORK/pg"
    wait_port tcp "$P_PG"
    scenario "postgres-psql" "{\"tcp\":{\"$P_PG\":\"postgres\"}}" \
      env PGSSLMODE=disable psql -h $SIP4 -p "$P_PG" -U postgres -c 'select 1'
    scenario "postgres-psql-ssl" "{\"tcp\":{\"$P_PG\":\"postgres\"}}" \
      env PGSSLMODE=prefer psql -h $SIP4 -p "$P_PG" -U postgres -c 'select 2'
  fi
}

ssh_scenarios() {
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh_host_ed25519_key"
  dropbearkey -t ed25519 -f "$WORK/dropbear_ed25519" >/dev/null 2>&1
  mkdir -p /run/sshd
  bg "$S" /usr/sbin/sshd -D -e -f /dev/null -h "$WORK/ssh_host_ed25519_key" -p 22 -p "$P_SSH" -o PidFile="$WORK/sshd.pid"
  bg "$S" dropbear -F -E -r "$WORK/dropbear_ed25519" -p 2022 -p "$((P_SSH + 1))" -P "$WORK/dropbear.pid"
  wait_port tcp 22
  wait_port tcp 2022
  local opts=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5)
  for srv in openssh:22:$P_SSH dropbear:2022:$((P_SSH + 1)); do
    IFS=: read -r tag p1 p2 <<<"$srv"
    scenario "ssh-$tag-openssh" "{\"tcp\":{\"$p1\":\"ssh\",\"$p2\":\"ssh\"}}" \
      sh -c "ssh ${opts[*]} -p $p1 nobody@$SIP4 true; ssh ${opts[*]} -p $p2 nobody@$SIP4 true"
    scenario "ssh-$tag-dbclient" "{\"tcp\":{\"$p1\":\"ssh\"}}" \
      sh -c "dbclient -y -y -p $p1 nobody@$SIP4 true </dev/null"
  done
}

tftp_scenarios() {
  bg "$S" in.tftpd -L -s "$WORK/tftp" -a "$SIP4:69"
  bg "$S" in.tftpd -L -s "$WORK/tftp" -a "$SIP4:$P_TFTP"
  wait_port udp 69
  for port in 69 $P_TFTP; do
    scenario "tftp-hpa-$port" "{\"udp\":{\"$port\":\"tftp\",\"rest\":\"tftp\"}}" \
      sh -c "cd $WORK && tftp $SIP4 $port -c get boot.img t1.img"
    scenario "tftp-atftp-$port" "{\"udp\":{\"$port\":\"tftp\",\"rest\":\"tftp\"}}" \
      atftp -g -r boot.img -l "$WORK/t2.img" $SIP4 $port
  done
}

mqtt_scenarios() {
  printf 'listener 1883 %s\nlistener %s %s\nallow_anonymous true\n' $SIP4 "$P_MQTT" $SIP4 >"$WORK/mosquitto.conf"
  bg "$S" mosquitto -c "$WORK/mosquitto.conf"
  wait_port tcp 1883
  scenario "mqtt-mosquitto-pub" '{"tcp":{"1883":"mqtt"}}' mosquitto_pub -h $SIP4 -t corpus/t -m hello
  scenario "mqtt-mosquitto-sub" "{\"tcp\":{\"$P_MQTT\":\"mqtt\"}}" \
    mosquitto_sub -h $SIP4 -p "$P_MQTT" -t corpus/t -C 1 -W 2
}

natpmp_scenarios() {
  # natpmpc (libnatpmp) asks the gateway for its external address, then for a mapping.
  # Debian's only NAT-PMP server is miniupnpd, which needs a whole firewall set up: the
  # gateway's side is a stub that answers per RFC 6886 (the client's requests are real).
  cat >"$WORK/natpmp-stub.py" <<'EOF'
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5351))
while True:
    req, peer = s.recvfrom(64)
    epoch = int(time.monotonic()) & 0xFFFFFFFF
    if req[:2] == b"\0\0":
        s.sendto(struct.pack("!BBHI4s", 0, 128, 0, epoch, socket.inet_aton("198.51.100.7")), peer)
    elif len(req) == 12 and req[1] in (1, 2):
        _, op, _, priv, pub, life = struct.unpack("!BBHHHI", req)
        s.sendto(struct.pack("!BBHIHHI", 0, 128 + op, 0, epoch, priv, pub, life), peer)
EOF
  bg "$S" python3 "$WORK/natpmp-stub.py"
  wait_port udp 5351
  scenario "natpmp-natpmpc-address" '{"udp":{"5351":"natpmp"}}' natpmpc -g $SIP4
  scenario "natpmp-natpmpc-mapping" '{"udp":{"5351":"natpmp"}}' natpmpc -g $SIP4 -a 8080 80 tcp 3600
}

ALL_GROUPS="http proxy ftp ntp dns db ssh tftp mqtt natpmp"

main() {
  setup
  log "variant $VARIANT into $OUT"
  # ONLY="natpmp tftp" builds just those groups (into another OUT_DIR, to add captures).
  local g
  for g in ${ONLY:-$ALL_GROUPS}; do
    if declare -F "${g}_servers" >/dev/null; then "${g}_servers"; fi
    "${g}_scenarios"
  done
  {
    printf '{\n  "variant": "%s",\n  "captures": {\n' "$VARIANT"
    local i
    for i in "${!LABELS[@]}"; do
      printf '    %s%s\n' "${LABELS[$i]}" "$([[ $i -lt $((${#LABELS[@]} - 1)) ]] && echo ,)"
    done
    printf '  }\n}\n'
  } >"$OUT/labels.json"
  log "wrote ${#LABELS[@]} captures and $OUT/labels.json"
}

main
