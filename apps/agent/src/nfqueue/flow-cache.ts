// The data plane's fast path for packets of flows that already have their verdict: a map
// from a packet's raw 5-tuple bytes (one short latin1 string, per direction) to the decided
// Flow, so such a packet costs one string and one map lookup instead of a full decode and a
// flow-table update. With Sluice's rules these packets are rare (a decided connection's mark
// keeps it out of the queue); they are the ones already queued when the verdict came, and
// every packet when a rule queues without the connbytes/mark gate.
//
// Only plain cases take the fast path: TCP without SYN/FIN/RST (those update the flow's
// state in the flow table) and UDP, unfragmented, IPv4 without options or IPv6 without
// extension headers. The flow's packets/bytes/lastSeen are kept up to date (so idle expiry
// still sees it alive); per-direction counters and LRU order are only updated on the slow path.

import type { Flow } from "@sluice/classifier";

export class DecidedFlowCache {
  private readonly byKey = new Map<string, Flow>();
  private readonly keysOf = new Map<Flow, string[]>();

  get size(): number {
    return this.byKey.size;
  }

  /**
   * The fast-path key of the raw IP packet at buf[off, off+len) (its direction's 5-tuple),
   * or null when the packet must take the slow path.
   */
  static key(buf: Buffer, off: number, len: number): string | null {
    const v = buf[off]! >> 4;
    if (v === 4) {
      if (len < 28 || buf[off]! !== 0x45) return null; // options: slow path
      if ((buf.readUInt16BE(off + 6) & 0x3fff) !== 0) return null; // MF or an offset
      const proto = buf[off + 9]!;
      if (proto === 6) {
        if (len < 34 || (buf[off + 33]! & 0x07) !== 0) return null; // FIN/SYN/RST
        return buf.toString("latin1", off + 12, off + 24) + "t";
      }
      return proto === 17 ? buf.toString("latin1", off + 12, off + 24) + "u" : null;
    }
    if (v === 6) {
      if (len < 48) return null;
      const next = buf[off + 6]!;
      if (next === 6) {
        if (len < 54 || (buf[off + 53]! & 0x07) !== 0) return null;
        return buf.toString("latin1", off + 8, off + 44) + "t";
      }
      return next === 17 ? buf.toString("latin1", off + 8, off + 44) + "u" : null;
    }
    return null;
  }

  get(key: string): Flow | undefined {
    return this.byKey.get(key);
  }

  /** Remembers a decided flow under one of its directions' keys. */
  add(key: string, flow: Flow): void {
    if (this.byKey.has(key)) return;
    this.byKey.set(key, flow);
    const keys = this.keysOf.get(flow);
    if (keys) keys.push(key);
    else this.keysOf.set(flow, [key]);
  }

  /** Forgets a flow (it left the flow table). */
  drop(flow: Flow): void {
    const keys = this.keysOf.get(flow);
    if (!keys) return;
    this.keysOf.delete(flow);
    for (const k of keys) if (this.byKey.get(k) === flow) this.byKey.delete(k);
  }

  clear(): void {
    this.byKey.clear();
    this.keysOf.clear();
  }
}
