// The data plane's memory of decided flows. Once a flow has its verdict, the kernel keeps
// it (the connection's mark), so the worker drops the flow from its flow table and keeps
// only a compact record here: the verdict's mark, app id and host name (the inputs of the
// packet-mark bits, recomputed after an apply) under one key for both directions. The
// packets it serves are the few that were already queued when the verdict came (a decided
// connection's mark keeps its later packets out of the queue), and every packet when a
// rule queues without the connbytes/mark gate; such a packet costs one short string and
// one map lookup, no decode.
//
// Bounded twice: records not seen for `idleSeconds`..2x`idleSeconds` are forgotten (two
// generations of maps, swapped; a hit moves a record to the current one), and the current
// generation is swapped early when it holds `maxEntries / 2`.
//
// Only plain packets are keyed: TCP or UDP, unfragmented, IPv4 without options or IPv6
// without extension headers. A TCP SYN without ACK opens a new connection on the tuple:
// the caller drops the old record (isNewSyn) and sends the packet to the flow table.

export interface DecidedRecord {
  /** l7-filter mark: 2 unknown, >= 3 a protocol. */
  mark: number;
  /** Catalogue app id, 0 none. */
  appId: number;
  hostname: string | null;
  /** Packet-mark bits for the routing `generation` (see worker.ts). */
  bits: number;
  hostRule: number;
  generation: number;
}

/** The latin1 key: transport, then the lower endpoint (address, port) and the higher one. */
const scratch = Buffer.alloc(1 + 2 * 18);

export class DecidedFlowCache {
  private current = new Map<string, DecidedRecord>();
  private previous = new Map<string, DecidedRecord>();
  private swappedAt: number;
  private readonly maxEntries: number;
  private readonly idleSeconds: number;

  constructor(maxEntries = 131072, idleSeconds = 60, now = 0) {
    this.maxEntries = maxEntries;
    this.idleSeconds = idleSeconds;
    this.swappedAt = now;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /**
   * The key of the raw IP packet at buf[off, off+len) (the same for both directions), or
   * null when the packet must take the slow path.
   */
  static key(buf: Buffer, off: number, len: number): string | null {
    const v = buf[off]! >> 4;
    let proto: number;
    let addr: number;
    let alen: number;
    let l4: number;
    if (v === 4) {
      if (len < 28 || buf[off]! !== 0x45) return null; // options: slow path
      if ((buf.readUInt16BE(off + 6) & 0x3fff) !== 0) return null; // MF or an offset
      proto = buf[off + 9]!;
      addr = off + 12;
      alen = 4;
      l4 = off + 20;
    } else if (v === 6) {
      if (len < 48) return null;
      proto = buf[off + 6]!;
      addr = off + 8;
      alen = 16;
      l4 = off + 40;
    } else return null;
    if (proto === 6) {
      if (len < l4 - off + 14) return null;
    } else if (proto !== 17) return null;
    // Endpoint a (source address, source port) against b (destination ones), bytewise.
    let cmp = 0;
    for (let i = 0; i < alen && cmp === 0; i++) cmp = buf[addr + i]! - buf[addr + alen + i]!;
    if (cmp === 0) cmp = buf.readUInt16BE(l4) - buf.readUInt16BE(l4 + 2);
    const a = cmp <= 0 ? 0 : alen;
    const b = alen - a;
    const pa = cmp <= 0 ? 0 : 2;
    const pb = 2 - pa;
    scratch[0] = proto;
    buf.copy(scratch, 1, addr + a, addr + a + alen);
    buf.copy(scratch, 1 + alen, l4 + pa, l4 + pa + 2);
    buf.copy(scratch, 3 + alen, addr + b, addr + b + alen);
    buf.copy(scratch, 3 + 2 * alen, l4 + pb, l4 + pb + 2);
    return scratch.toString("latin1", 0, 5 + 2 * alen);
  }

  /** A TCP SYN without ACK (a new connection on its tuple)? For packets `key` accepted. */
  static isNewSyn(buf: Buffer, off: number): boolean {
    const v4 = buf[off]! >> 4 === 4;
    const l4 = off + (v4 ? 20 : 40);
    return buf[v4 ? off + 9 : off + 6] === 6 && (buf[l4 + 13]! & 0x12) === 0x02;
  }

  get(key: string, now: number): DecidedRecord | undefined {
    this.age(now);
    let r = this.current.get(key);
    if (r === undefined) {
      r = this.previous.get(key);
      if (r !== undefined) {
        this.previous.delete(key);
        this.current.set(key, r);
      }
    }
    return r;
  }

  set(key: string, record: DecidedRecord, now: number): void {
    this.age(now);
    this.previous.delete(key);
    this.current.set(key, record);
  }

  delete(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  private age(now: number): void {
    if (now - this.swappedAt < this.idleSeconds && this.current.size < this.maxEntries / 2) return;
    this.previous = this.current;
    this.current = new Map();
    this.swappedAt = now;
  }
}
