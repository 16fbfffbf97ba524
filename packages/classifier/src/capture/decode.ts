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

export type SkipReason = "not-ip" | "not-tcp-udp" | "fragment" | "truncated" | "unsupported-link";

export type DecodeResult = { ok: true; packet: DecodedPacket } | { ok: false; reason: SkipReason };

const FAILED: Record<SkipReason, DecodeResult> = {
  "not-ip": { ok: false, reason: "not-ip" },
  "not-tcp-udp": { ok: false, reason: "not-tcp-udp" },
  fragment: { ok: false, reason: "fragment" },
  truncated: { ok: false, reason: "truncated" },
  "unsupported-link": { ok: false, reason: "unsupported-link" },
};

const EMPTY = Buffer.alloc(0);

/**
 * A decoded packet that the capture path reuses for every frame (`decodeFrameInto`): no
 * objects per packet but the payload's view, and the addresses as text only when asked
 * (the flow table needs them for a new flow only). Valid until the next decode into it.
 */
export class PacketSlot implements DecodedPacket {
  family: 4 | 6 = 4;
  l4: "tcp" | "udp" = "tcp";
  sport = 0;
  dport = 0;
  ipLength = 0;
  payload: Buffer = EMPTY;
  tcp: TcpInfo | null = null;
  vlan: number | null = null;
  raw: Buffer = EMPTY;
  srcAt = 0;
  dstAt = 0;
  readonly tcpInfo: TcpInfo = { seq: 0, ack: 0, syn: false, ackFlag: false, fin: false, rst: false };

  get src(): string {
    return addressText(this.raw, this.srcAt, this.family);
  }

  get dst(): string {
    return addressText(this.raw, this.dstAt, this.family);
  }

  set(
    family: 4 | 6,
    l4: "tcp" | "udp",
    raw: Buffer,
    srcAt: number,
    sport: number,
    dport: number,
    ipLength: number,
    vlan: number | null,
  ): void {
    this.family = family;
    this.l4 = l4;
    this.raw = raw;
    this.srcAt = srcAt;
    this.dstAt = srcAt + (family === 4 ? 4 : 16);
    this.sport = sport;
    this.dport = dport;
    this.ipLength = ipLength;
    this.vlan = vlan;
  }

  /** A packet of its own (plain object, addresses as text), for callers that keep it. */
  detached(): DecodedPacket {
    const t = this.tcp;
    return {
      family: this.family,
      l4: this.l4,
      src: this.src,
      dst: this.dst,
      sport: this.sport,
      dport: this.dport,
      ipLength: this.ipLength,
      payload: this.payload,
      tcp: t ? { seq: t.seq, ack: t.ack, syn: t.syn, ackFlag: t.ackFlag, fin: t.fin, rst: t.rst } : null,
      vlan: this.vlan,
      raw: this.raw,
      srcAt: this.srcAt,
      dstAt: this.dstAt,
    };
  }
}

function addressText(b: Buffer, at: number, family: 4 | 6): string {
  return family === 4 ? ipv4At(b, at) : ipv6At(b, at);
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const PPPOE_SESSION = 0x8864;

/**
 * Decodes a frame into `out`, which the capture path reuses for every frame (see
 * PacketSlot); returns why the frame was skipped, or null.
 */
export function decodeFrameInto(
  linkType: number,
  frame: Buffer,
  out: PacketSlot,
  start = 0,
  end = frame.length,
): SkipReason | null {
  // The frame is frame[start, end): a capture's read buffer is decoded in place.
  const length = end - start;
  let off = start;
  let ethType: number;
  let vlan: number | null = null;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (length < 14) return "truncated";
      ethType = u16(frame, start + 12);
      off = start + 14;
      while (VLAN_TAGS.has(ethType)) {
        if (end < off + 4) return "truncated";
        vlan ??= u16(frame, off) & 0x0fff;
        ethType = u16(frame, off + 2);
        off += 4;
      }
      if (ethType === PPPOE_SESSION) {
        if (end < off + 8) return "truncated";
        const pppProto = u16(frame, off + 6);
        off += 8;
        ethType = pppProto === 0x0021 ? ETH_IPV4 : pppProto === 0x0057 ? ETH_IPV6 : 0;
      }
      break;
    }
    case LINKTYPE.LINUX_SLL:
      if (length < 16) return "truncated";
      ethType = u16(frame, start + 14);
      off = start + 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (length < 20) return "truncated";
      ethType = u16(frame, start);
      off = start + 20;
      break;
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OPENBSD:
    case LINKTYPE.RAW_BSDOS:
      if (length < 1) return "truncated";
      ethType = frame[start]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
      break;
    case LINKTYPE.IPV4:
      ethType = ETH_IPV4;
      break;
    case LINKTYPE.IPV6:
      ethType = ETH_IPV6;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (length < 4) return "truncated";
      // NULL is host byte order, LOOP network order; AF_INET is 2 everywhere, AF_INET6 varies.
      const fam =
        linkType === LINKTYPE.LOOP
          ? frame.readUInt32BE(start)
          : Math.min(frame.readUInt32LE(start), frame.readUInt32BE(start));
      ethType = fam === 2 ? ETH_IPV4 : [10, 24, 28, 30].includes(fam) ? ETH_IPV6 : 0;
      off = start + 4;
      break;
    }
    default:
      return "unsupported-link";
  }
  if (ethType === ETH_IPV4) return decodeIp(frame, off, end, 4, vlan, 0, out);
  if (ethType === ETH_IPV6) return decodeIp(frame, off, end, 6, vlan, 0, out);
  return "not-ip";
}

export function decodeFrame(linkType: number, frame: Buffer): DecodeResult {
  const slot = new PacketSlot();
  const reason = decodeFrameInto(linkType, frame, slot);
  return reason === null ? { ok: true, packet: slot.detached() } : FAILED[reason];
}

/** Decodes a raw IP packet (IPv4 or IPv6, by its version nibble), e.g. one from NFQUEUE. */
export function decodeIpPacket(packet: Buffer): DecodeResult {
  const slot = new PacketSlot();
  const reason = decodeIpPacketInto(packet, slot);
  return reason === null ? { ok: true, packet: slot.detached() } : FAILED[reason];
}

/** `decodeIpPacket` into a reused packet (see PacketSlot); returns why it was skipped, or null. */
export function decodeIpPacketInto(packet: Buffer, out: PacketSlot): SkipReason | null {
  return decodeIpPacketAt(packet, 0, packet.length, out);
}

/**
 * The same for the IP packet at buf[off, off+len) (e.g. inside a queue's receive buffer),
 * without a view of it first.
 */
export function decodeIpPacketAt(buf: Buffer, off: number, len: number, out: PacketSlot): SkipReason | null {
  if (len < 1) return "truncated";
  const version = buf[off]! >> 4;
  if (version !== 4 && version !== 6) return "not-ip";
  return decodeIp(buf, off, off + len, version, null, 0, out);
}

const IPV6_EXT = new Set([0, 43, 60, 51]);

// Big-endian reads without Buffer's argument checks (a few allocations per call when not
// inlined); every caller has checked the length first.
function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

// Offsets into the frame rather than subarrays: one Buffer view per packet (the payload).
function decodeIp(
  b: Buffer,
  start: number,
  frameEnd: number,
  family: 4 | 6,
  vlan: number | null,
  depth: number,
  out: PacketSlot,
): SkipReason | null {
  let proto: number;
  let l4: number;
  let end: number;
  let srcAt: number;
  let ipLength: number;
  const len = frameEnd - start;
  if (family === 4) {
    if (len < 20 || b[start]! >> 4 !== 4) return "truncated";
    const ihl = (b[start]! & 0x0f) * 4;
    ipLength = u16(b, start + 2);
    if (ihl < 20 || len < ihl) return "truncated";
    const fragOff = u16(b, start + 6) & 0x1fff;
    if (fragOff !== 0) return "fragment";
    proto = b[start + 9]!;
    srcAt = start + 12;
    // Trust the header's length over the frame's (Ethernet padding), but never past the frame.
    end = start + (ipLength >= ihl ? Math.min(ipLength, len) : len);
    l4 = start + ihl;
  } else {
    if (len < 40 || b[start]! >> 4 !== 6) return "truncated";
    ipLength = 40 + u16(b, start + 4);
    proto = b[start + 6]!;
    srcAt = start + 8;
    let off = start + 40;
    end = start + Math.min(ipLength, len);
    while (IPV6_EXT.has(proto) || proto === 44) {
      if (end < off + 8) return "truncated";
      const next = b[off]!;
      if (proto === 44) {
        if ((u16(b, off + 2) & 0xfff8) !== 0) return "fragment";
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
    return decodeIp(b, l4, end, proto === 4 ? 4 : 6, vlan, depth + 1, out);
  const l4Len = end - l4;
  if (proto === 6) {
    if (l4Len < 20) return "truncated";
    const dataOff = (b[l4 + 12]! >> 4) * 4;
    if (dataOff < 20 || l4Len < dataOff) return "truncated";
    const flags = b[l4 + 13]!;
    const t = out.tcpInfo;
    t.seq = u32(b, l4 + 4);
    t.ack = u32(b, l4 + 8);
    t.fin = (flags & 0x01) !== 0;
    t.syn = (flags & 0x02) !== 0;
    t.rst = (flags & 0x04) !== 0;
    t.ackFlag = (flags & 0x10) !== 0;
    out.set(
      family,
      "tcp",
      b,
      srcAt,
      (b[l4]! << 8) | b[l4 + 1]!,
      (b[l4 + 2]! << 8) | b[l4 + 3]!,
      ipLength,
      vlan,
    );
    out.payload = b.subarray(l4 + dataOff, end);
    out.tcp = t;
    return null;
  }
  if (proto === 17) {
    if (l4Len < 8) return "truncated";
    const udpLen = u16(b, l4 + 4);
    const udpEnd = udpLen >= 8 ? l4 + Math.min(udpLen, l4Len) : end;
    out.set(
      family,
      "udp",
      b,
      srcAt,
      (b[l4]! << 8) | b[l4 + 1]!,
      (b[l4 + 2]! << 8) | b[l4 + 3]!,
      ipLength,
      vlan,
    );
    out.payload = b.subarray(l4 + 8, udpEnd);
    out.tcp = null;
    return null;
  }
  return "not-tcp-udp";
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
