// The conntrack table over ctnetlink, in process: a dump request on a NETLINK_NETFILTER
// socket (netlink-dump.ts) and the binary answer parsed entry by entry, without building
// text or spawning `conntrack -L`.

import { attrs, be64, type NetlinkSocket } from "./netlink-dump.ts";

export interface CtEntry {
  l4: "tcp" | "udp";
  /** The original direction's tuple (the side that opened the connection first). */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  mark: number;
  /** Both directions (conntrack accounting must be on, else 0). */
  bytes: number;
  packets: number;
  /** TCP state as conntrack prints it, null for UDP. */
  state: string | null;
  /** The kernel's id of the connection (CTA_ID) as a signed 32-bit number, when read. */
  id?: number;
}

const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_GET = 1;
// enum ctattr_type, ctattr_tuple, ctattr_ip, ctattr_l4proto, ctattr_counters, protoinfo
const CTA_TUPLE_ORIG = 1;
const CTA_PROTOINFO = 4;
const CTA_MARK = 8;
const CTA_ID = 12;
const CTA_COUNTERS_ORIG = 9;
const CTA_COUNTERS_REPLY = 10;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_IP_V6_SRC = 3;
const CTA_IP_V6_DST = 4;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;
const CTA_COUNTERS_PACKETS = 1;
const CTA_COUNTERS_BYTES = 2;
const CTA_PROTOINFO_TCP = 1;
const CTA_PROTOINFO_TCP_STATE = 1;
const TCP_STATES = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
];

const ipv4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(o + i).toString(16));
  // Compress the longest run of zero groups, as the kernel tools print addresses.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (parts[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(":");
  return `${parts.slice(0, best).join(":")}::${parts.slice(best + bestLen).join(":")}`;
}

/** One ctnetlink message's payload (after nlmsghdr) → an entry, or null (not TCP/UDP). */
export function parseCtMessage(buf: Buffer, start: number, end: number): CtEntry | null {
  let src = "";
  let dst = "";
  let proto = 0;
  let sport = 0;
  let dport = 0;
  let mark = 0;
  let bytes = 0;
  let packets = 0;
  let state: string | null = null;
  let id: number | undefined;
  attrs(buf, start + 4, end, (t, o, len) => {
    if (t === CTA_TUPLE_ORIG) {
      attrs(buf, o, o + len, (tt, oo, ll) => {
        if (tt === CTA_TUPLE_IP)
          attrs(buf, oo, oo + ll, (it, io) => {
            if (it === CTA_IP_V4_SRC) src = ipv4(buf, io);
            else if (it === CTA_IP_V4_DST) dst = ipv4(buf, io);
            else if (it === CTA_IP_V6_SRC) src = ipv6(buf, io);
            else if (it === CTA_IP_V6_DST) dst = ipv6(buf, io);
          });
        else if (tt === CTA_TUPLE_PROTO)
          attrs(buf, oo, oo + ll, (pt, po) => {
            if (pt === CTA_PROTO_NUM) proto = buf[po]!;
            else if (pt === CTA_PROTO_SRC_PORT) sport = buf.readUInt16BE(po);
            else if (pt === CTA_PROTO_DST_PORT) dport = buf.readUInt16BE(po);
          });
      });
    } else if (t === CTA_MARK) mark = buf.readUInt32BE(o);
    else if (t === CTA_ID) id = buf.readInt32BE(o);
    else if (t === CTA_COUNTERS_ORIG || t === CTA_COUNTERS_REPLY) {
      attrs(buf, o, o + len, (ct, co) => {
        if (ct === CTA_COUNTERS_PACKETS) packets += be64(buf, co);
        else if (ct === CTA_COUNTERS_BYTES) bytes += be64(buf, co);
      });
    } else if (t === CTA_PROTOINFO) {
      attrs(buf, o, o + len, (pt, po, pl) => {
        if (pt === CTA_PROTOINFO_TCP)
          attrs(buf, po, po + pl, (st, so) => {
            if (st === CTA_PROTOINFO_TCP_STATE) state = TCP_STATES[buf[so]!] ?? null;
          });
      });
    }
  });
  if ((proto !== 6 && proto !== 17) || !src) return null;
  return { l4: proto === 6 ? "tcp" : "udp", src, dst, sport, dport, mark, bytes, packets, state, id };
}

/** Dumps the conntrack table (both families) through `sock`, entry by entry. */
export async function dumpConntrack(sock: NetlinkSocket, onEntry: (e: CtEntry) => void): Promise<number> {
  let n = 0;
  // nfgenmsg: family 0 (every family), version 0, res_id 0
  await sock.dump((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, Buffer.alloc(4), (buf, start, end) => {
    const e = parseCtMessage(buf, start, end);
    if (e) {
      n++;
      onEntry(e);
    }
  });
  return n;
}
