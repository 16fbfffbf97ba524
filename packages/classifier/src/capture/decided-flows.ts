// The capture path's shortcut for packets of flows that already have their verdict (most
// packets of a capture): the frame's raw 5-tuple bytes (one short latin1 string per
// direction) lead straight to the decided Flow, whose counters are updated in place, with
// no decode, no address strings and no flow-table lookup. The agent's data plane has the
// same idea for queued packets (apps/agent/src/nfqueue/flow-cache.ts).
//
// Only plain cases take the shortcut: Ethernet (one optional 802.1Q tag) carrying IPv4
// without options or IPv6 without extension headers, unfragmented, TCP without SYN, FIN or
// RST (those change the flow's state) or UDP. Everything else goes through the flow table.

import type { Flow } from "../flow/flow-table.ts";

export interface FrameKey {
  /** The addresses and ports as latin1 chars, one map per transport (no concatenation). */
  key: string;
  tcp: boolean;
  /** IP datagram length as its header states it. */
  ipLength: number;
}

const hit: FrameKey = { key: "", tcp: false, ipLength: 0 };

/** The shortcut key of an Ethernet frame, or null when the frame must be decoded. */
export function frameKey(f: Buffer): FrameKey | null {
  let off = 14;
  if (f.length < 14 + 28) return null;
  let type = (f[12]! << 8) | f[13]!;
  if (type === 0x8100) {
    type = (f[16]! << 8) | f[17]!;
    off = 18;
  }
  if (type === 0x0800) {
    if (f[off] !== 0x45 || f.length < off + 28) return null;
    if ((((f[off + 6]! << 8) | f[off + 7]!) & 0x3fff) !== 0) return null; // MF or an offset
    const proto = f[off + 9]!;
    if (proto === 6) {
      if (f.length < off + 34 || (f[off + 33]! & 0x07) !== 0) return null;
    } else if (proto !== 17) return null;
    hit.key = f.toString("latin1", off + 12, off + 24);
    hit.tcp = proto === 6;
    hit.ipLength = (f[off + 2]! << 8) | f[off + 3]!;
    return hit;
  }
  if (type === 0x86dd) {
    if (f.length < off + 48 || f[off]! >> 4 !== 6) return null;
    const next = f[off + 6]!;
    if (next === 6) {
      if (f.length < off + 54 || (f[off + 53]! & 0x07) !== 0) return null;
    } else if (next !== 17) return null;
    hit.key = f.toString("latin1", off + 8, off + 44);
    hit.tcp = next === 6;
    hit.ipLength = 40 + ((f[off + 4]! << 8) | f[off + 5]!);
    return hit;
  }
  return null;
}

interface Entry {
  flow: Flow;
  c2s: boolean;
}

export class DecidedFlows {
  private readonly tcp = new Map<string, Entry>();
  private readonly udp = new Map<string, Entry>();
  private readonly keysOf = new Map<Flow, string[]>();

  get size(): number {
    return this.tcp.size + this.udp.size;
  }

  get(k: FrameKey): Entry | undefined {
    return (k.tcp ? this.tcp : this.udp).get(k.key);
  }

  /** Remembers a decided flow under the key of one of its directions. */
  add(key: string, tcp: boolean, flow: Flow, c2s: boolean): void {
    const map = tcp ? this.tcp : this.udp;
    if (map.has(key)) return;
    map.set(key, { flow, c2s });
    const keys = this.keysOf.get(flow);
    if (keys) keys.push(key);
    else this.keysOf.set(flow, [key]);
  }

  /** Forgets a flow (it left the flow table). */
  drop(flow: Flow): void {
    const keys = this.keysOf.get(flow);
    if (!keys) return;
    this.keysOf.delete(flow);
    const map = flow.l4 === "tcp" ? this.tcp : this.udp;
    for (const k of keys) if (map.get(k)?.flow === flow) map.delete(k);
  }
}
