// The capture path's shortcut for packets of flows that already have their verdict (most
// packets of a capture): the frame's raw addresses and ports lead straight to the flow
// (FlowTable.lookup: a numeric key, no decode, no address strings), whose counters are
// updated in place. (The agent's worker keeps its own compact decided records,
// nfqueue/packet-classifier.ts; `ipKey` below is the raw-IP half of `frameKey`.)
//
// Only plain cases take the shortcut: Ethernet (one optional 802.1Q tag) carrying IPv4
// without options or IPv6 without extension headers, unfragmented, TCP without SYN, FIN or
// RST (those change the flow's state) or UDP. Everything else goes through the flow table.

export interface FrameKey {
  tcp: boolean;
  family: 4 | 6;
  /** Where the source address starts; the destination follows it. */
  srcAt: number;
  dstAt: number;
  sport: number;
  dport: number;
  /** IP datagram length as its header states it. */
  ipLength: number;
}

// One result object, overwritten by every call: no garbage per packet.
const hit: FrameKey = { tcp: false, family: 4, srcAt: 0, dstAt: 0, sport: 0, dport: 0, ipLength: 0 };

/**
 * Where the 5-tuple of the Ethernet frame `f[start, end)` is (offsets into `f`; valid until
 * the next call), or null: decode it.
 */
export function frameKey(f: Buffer, start: number, end: number): FrameKey | null {
  if (end - start < 14 + 28) return null;
  let type = (f[start + 12]! << 8) | f[start + 13]!;
  let off = start + 14;
  if (type === 0x8100) {
    type = (f[start + 16]! << 8) | f[start + 17]!;
    off = start + 18;
  }
  if (type === 0x0800) return f[off]! >> 4 === 4 ? ipKey(f, off, end) : null;
  if (type === 0x86dd) return f[off]! >> 4 === 6 ? ipKey(f, off, end) : null;
  return null;
}

/**
 * The same for the raw IP packet `f[off, end)` (IPv4 or IPv6 by its version nibble), or
 * null: decode it.
 */
export function ipKey(f: Buffer, off: number, end: number): FrameKey | null {
  let l4: number;
  const version = f[off]! >> 4;
  if (version === 4) {
    if (f[off] !== 0x45 || end < off + 28) return null;
    if ((((f[off + 6]! << 8) | f[off + 7]!) & 0x3fff) !== 0) return null; // MF or an offset
    const proto = f[off + 9]!;
    if (proto === 6) {
      if (end < off + 34 || (f[off + 33]! & 0x07) !== 0) return null;
    } else if (proto !== 17) return null;
    hit.tcp = proto === 6;
    hit.family = 4;
    hit.srcAt = off + 12;
    hit.dstAt = off + 16;
    hit.ipLength = (f[off + 2]! << 8) | f[off + 3]!;
    l4 = off + 20;
  } else if (version === 6) {
    if (end < off + 48) return null;
    const next = f[off + 6]!;
    if (next === 6) {
      if (end < off + 54 || (f[off + 53]! & 0x07) !== 0) return null;
    } else if (next !== 17) return null;
    hit.tcp = next === 6;
    hit.family = 6;
    hit.srcAt = off + 8;
    hit.dstAt = off + 24;
    hit.ipLength = 40 + ((f[off + 4]! << 8) | f[off + 5]!);
    l4 = off + 40;
  } else return null;
  hit.sport = (f[l4]! << 8) | f[l4 + 1]!;
  hit.dport = (f[l4 + 2]! << 8) | f[l4 + 3]!;
  return hit;
}
