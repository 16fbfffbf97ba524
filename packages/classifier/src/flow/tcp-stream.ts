// One direction of a TCP connection, reassembled inside the inspection window: duplicate
// and overlapping retransmissions are trimmed, segments that arrive early wait (bounded)
// until the gap before them is filled, so the classifier sees the real byte stream.

/** Signed distance a - b in 32-bit sequence space. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** The empty result, shared (callers only read it). */
const NOTHING: Buffer[] = [];

export class TcpStream {
  /** Next expected sequence number, or null until the first SYN or data segment. */
  next: number | null = null;
  /** Early segments (null until the first one: most streams never have any). */
  private pending: { seq: number; data: Buffer }[] | null = null;
  private pendingBytes = 0;
  /** Early segments held at most; beyond this they are dropped (the window is small anyway). */
  readonly maxPendingBytes: number;

  constructor(maxPendingBytes: number) {
    this.maxPendingBytes = maxPendingBytes;
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds one segment; returns the bytes that became in-order because of it. */
  push(seq: number, syn: boolean, payload: Buffer): Buffer[] {
    if (syn) {
      if (this.next === null) this.next = (seq + 1) >>> 0;
      seq = (seq + 1) >>> 0; // SYN consumes one sequence number; data after it (TFO) follows
    }
    if (payload.length === 0) return NOTHING;
    if (this.next === null) this.next = seq; // picked up mid-stream
    const d = seqDiff(seq, this.next);
    if (d > 0) {
      this.hold(seq, payload);
      return NOTHING;
    }
    const out: Buffer[] = [];
    this.deliver(seq, payload, out);
    this.drain(out);
    return out;
  }

  private deliver(seq: number, payload: Buffer, out: Buffer[]): void {
    const skip = -seqDiff(seq, this.next!);
    if (skip >= payload.length) return; // pure retransmission
    const fresh = payload.subarray(skip);
    out.push(fresh);
    this.next = (this.next! + fresh.length) >>> 0;
  }

  private hold(seq: number, payload: Buffer): void {
    this.pending ??= [];
    if (this.pending.some((p) => p.seq === seq && p.data.length >= payload.length)) return;
    if (this.pendingBytes + payload.length > this.maxPendingBytes) return;
    this.pending.push({ seq, data: Buffer.from(payload) });
    this.pendingBytes += payload.length;
  }

  private drain(out: Buffer[]): void {
    const pending = this.pending;
    if (!pending) return;
    for (;;) {
      const i = pending.findIndex((p) => seqDiff(p.seq, this.next!) <= 0);
      if (i < 0) return;
      const [p] = pending.splice(i, 1);
      this.pendingBytes -= p!.data.length;
      this.deliver(p!.seq, p!.data, out);
    }
  }
}
