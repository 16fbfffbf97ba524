// Decodes a captured frame down to the transport payload: Ethernet (with 802.1Q/802.1ad
// tags and PPPoE), Linux cooked v1/v2, raw IP, BSD null/loopback; IPv4 (with options and
// first fragments), IPv6 (extension headers), IP-in-IP and 6in4/4in6 tunnels; TCP and UDP.

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  RAW_OPENBSD: 12,
  RAW_BSDOS: 14,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const SUPPORTED = new Set<number>(Object.values(LINKTYPE));

/** Link types decodeFrame reads; anything else is refused with its number. */
export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED.has(linkType);
}

/** "unsupported link type 999 (Sluice reads …)": the error for a capture of another link type. */
export function unsupportedLinkType(linkType: number): string {
  const known = Object.entries(LINKTYPE)
    .map(([name, n]) => `${n} ${name.toLowerCase()}`)
    .join(", ");
  return `unsupported link type ${linkType} (Sluice reads ${known})`;
}

export interface TcpInfo {
  seq: number;
  ack: number;
  syn: boolean;
  ackFlag: boolean;
  fin: boolean;
  rst: boolean;
}

export interface DecodedPacket {
  family: 4 | 6;
  l4: "tcp" | "udp";
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** IP datagram length (header + payload) as the IP header states it. */
  ipLength: number;
  payload: Buffer;
  tcp: TcpInfo | null;
  vlan: number | null;
  /**
   * The bytes the packet was decoded from and where its source and destination addresses
   * start (4 or 16 bytes each, by family): the flow table keys flows by them, without
   * address strings. Read only while the packet is observed. Absent on packets built by
   * hand (the table then reads `src` and `dst`).
   */
  raw?: Buffer;
  srcAt?: number;
  dstAt?: number;
}

export type DecodeResult =
  | { ok: true; packet: DecodedPacket }
  | { ok: false; reason: "not-ip" | "not-tcp-udp" | "fragment" | "truncated" | "unsupported-link" };

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const PPPOE_SESSION = 0x8864;

export function decodeFrame(linkType: number, frame: Buffer): DecodeResult {
  let off = 0;
  let ethType: number;
  let vlan: number | null = null;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (frame.length < 14) return { ok: false, reason: "truncated" };
      ethType = frame.readUInt16BE(12);
      off = 14;
      while (VLAN_TAGS.has(ethType)) {
        if (frame.length < off + 4) return { ok: false, reason: "truncated" };
        vlan ??= frame.readUInt16BE(off) & 0x0fff;
        ethType = frame.readUInt16BE(off + 2);
        off += 4;
      }
      if (ethType === PPPOE_SESSION) {
        if (frame.length < off + 8) return { ok: false, reason: "truncated" };
        const pppProto = frame.readUInt16BE(off + 6);
        off += 8;
        ethType = pppProto === 0x0021 ? ETH_IPV4 : pppProto === 0x0057 ? ETH_IPV6 : 0;
      }
      break;
    }
    case LINKTYPE.LINUX_SLL:
      if (frame.length < 16) return { ok: false, reason: "truncated" };
      ethType = frame.readUInt16BE(14);
      off = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (frame.length < 20) return { ok: false, reason: "truncated" };
      ethType = frame.readUInt16BE(0);
      off = 20;
      break;
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OPENBSD:
    case LINKTYPE.RAW_BSDOS:
      if (frame.length < 1) return { ok: false, reason: "truncated" };
      ethType = frame[0]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
      break;
    case LINKTYPE.IPV4:
      ethType = ETH_IPV4;
      break;
    case LINKTYPE.IPV6:
      ethType = ETH_IPV6;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (frame.length < 4) return { ok: false, reason: "truncated" };
      // NULL is host byte order, LOOP network order; AF_INET is 2 everywhere, AF_INET6 varies.
      const fam =
        linkType === LINKTYPE.LOOP
          ? frame.readUInt32BE(0)
          : Math.min(frame.readUInt32LE(0), frame.readUInt32BE(0));
      ethType = fam === 2 ? ETH_IPV4 : [10, 24, 28, 30].includes(fam) ? ETH_IPV6 : 0;
      off = 4;
      break;
    }
    default:
      return { ok: false, reason: "unsupported-link" };
  }
  if (ethType === ETH_IPV4) return decodeIp(frame, off, frame.length, 4, vlan, 0);
  if (ethType === ETH_IPV6) return decodeIp(frame, off, frame.length, 6, vlan, 0);
  return { ok: false, reason: "not-ip" };
}

/** Decodes a raw IP packet (IPv4 or IPv6, by its version nibble), e.g. one from NFQUEUE. */
export function decodeIpPacket(packet: Buffer): DecodeResult {
  if (packet.length < 1) return { ok: false, reason: "truncated" };
  const version = packet[0]! >> 4;
  if (version === 4) return decodeIp(packet, 0, packet.length, 4, null, 0);
  if (version === 6) return decodeIp(packet, 0, packet.length, 6, null, 0);
  return { ok: false, reason: "not-ip" };
}

const IPV6_EXT = new Set([0, 43, 60, 51]);

// Offsets into the frame rather than subarrays: one Buffer view per packet (the payload).
function decodeIp(
  b: Buffer,
  start: number,
  frameEnd: number,
  family: 4 | 6,
  vlan: number | null,
  depth: number,
): DecodeResult {
  let proto: number;
  let l4: number;
  let end: number;
  let src: string;
  let dst: string;
  let srcAt: number;
  let ipLength: number;
  const len = frameEnd - start;
  if (family === 4) {
    if (len < 20 || b[start]! >> 4 !== 4) return { ok: false, reason: "truncated" };
    const ihl = (b[start]! & 0x0f) * 4;
    ipLength = b.readUInt16BE(start + 2);
    if (ihl < 20 || len < ihl) return { ok: false, reason: "truncated" };
    const fragOff = b.readUInt16BE(start + 6) & 0x1fff;
    if (fragOff !== 0) return { ok: false, reason: "fragment" };
    proto = b[start + 9]!;
    srcAt = start + 12;
    src = ipv4At(b, srcAt);
    dst = ipv4At(b, srcAt + 4);
    // Trust the header's length over the frame's (Ethernet padding), but never past the frame.
    end = start + (ipLength >= ihl ? Math.min(ipLength, len) : len);
    l4 = start + ihl;
  } else {
    if (len < 40 || b[start]! >> 4 !== 6) return { ok: false, reason: "truncated" };
    ipLength = 40 + b.readUInt16BE(start + 4);
    proto = b[start + 6]!;
    srcAt = start + 8;
    src = ipv6At(b, srcAt);
    dst = ipv6At(b, srcAt + 16);
    let off = start + 40;
    end = start + Math.min(ipLength, len);
    while (IPV6_EXT.has(proto) || proto === 44) {
      if (end < off + 8) return { ok: false, reason: "truncated" };
      const next = b[off]!;
      if (proto === 44) {
        if ((b.readUInt16BE(off + 2) & 0xfff8) !== 0) return { ok: false, reason: "fragment" };
        off += 8;
      } else if (proto === 51) {
        off += (b[off + 1]! + 2) * 4;
      } else {
        off += (b[off + 1]! + 1) * 8;
      }
      proto = next;
    }
    l4 = Math.min(off, end);
  }
  if ((proto === 4 || proto === 41) && depth < 2)
    return decodeIp(b, l4, end, proto === 4 ? 4 : 6, vlan, depth + 1);
  const l4Len = end - l4;
  if (proto === 6) {
    if (l4Len < 20) return { ok: false, reason: "truncated" };
    const dataOff = (b[l4 + 12]! >> 4) * 4;
    if (dataOff < 20 || l4Len < dataOff) return { ok: false, reason: "truncated" };
    const flags = b[l4 + 13]!;
    return {
      ok: true,
      packet: {
        family,
        l4: "tcp",
        src,
        dst,
        sport: b.readUInt16BE(l4),
        dport: b.readUInt16BE(l4 + 2),
        ipLength,
        payload: b.subarray(l4 + dataOff, end),
        tcp: {
          seq: b.readUInt32BE(l4 + 4),
          ack: b.readUInt32BE(l4 + 8),
          fin: (flags & 0x01) !== 0,
          syn: (flags & 0x02) !== 0,
          rst: (flags & 0x04) !== 0,
          ackFlag: (flags & 0x10) !== 0,
        },
        vlan,
        raw: b,
        srcAt,
        dstAt: srcAt + (family === 4 ? 4 : 16),
      },
    };
  }
  if (proto === 17) {
    if (l4Len < 8) return { ok: false, reason: "truncated" };
    const udpLen = b.readUInt16BE(l4 + 4);
    const udpEnd = udpLen >= 8 ? l4 + Math.min(udpLen, l4Len) : end;
    return {
      ok: true,
      packet: {
        family,
        l4: "udp",
        src,
        dst,
        sport: b.readUInt16BE(l4),
        dport: b.readUInt16BE(l4 + 2),
        ipLength,
        payload: b.subarray(l4 + 8, udpEnd),
        tcp: null,
        vlan,
        raw: b,
        srcAt,
        dstAt: srcAt + (family === 4 ? 4 : 16),
      },
    };
  }
  return { ok: false, reason: "not-tcp-udp" };
}

function ipv4At(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text form of an IPv6 address. */
export function ipv6(b: Buffer): string {
  return ipv6At(b, 0);
}

function ipv6At(b: Buffer, at: number): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (b[at + 2 * i] !== 0 || b[at + 2 * i + 1] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && b[at + 2 * j] === 0 && b[at + 2 * j + 1] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += "::";
      i += bestLen - 1;
      continue;
    }
    if (s !== "" && !s.endsWith(":")) s += ":";
    s += ((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!).toString(16);
  }
  return s;
}

/** "ip:port" or "[ipv6]:port", the form nDPI and Sluice print. */
export function endpoint(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
