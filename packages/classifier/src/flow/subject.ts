// The pattern subject of a flow under inspection: the payload of both directions in
// arrival order, NULs stripped (as l7-filter does), at most the window's bytes. It is held
// as UTF-8 bytes with every byte >= 0x80 spelled as its latin1 character (the dialect's
// translation matches those characters), which is what RE2 runs on: handing RE2 a Buffer
// spares it a string-to-UTF-8 conversion (and a Buffer allocation) per pattern set per
// packet.

import { isAscii } from "node:buffer";

export class FlowSubject {
  /** Payload bytes held (NULs stripped): the window's count. */
  chars = 0;
  /** Owned storage (UTF-8), or null until the flow needs more than one packet. */
  private store: Buffer | null = null;
  private used = 0;
  /** A packet's converted bytes not yet copied into `store` (see `persist`). */
  private fresh: Buffer[] = [];
  private freshBytes = 0;

  /** Appends one chunk, up to `limit` chars in all; false when nothing was added. */
  append(chunk: Buffer, limit: number): boolean {
    const room = limit - this.chars;
    if (room <= 0 || chunk.length === 0) return false;
    if (chunk.indexOf(0) < 0 && isAscii(chunk)) {
      // The common text case: the packet's own bytes, no copy until `persist`.
      const b = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chars += b.length;
      this.fresh.push(b);
      this.freshBytes += b.length;
      return true;
    }
    // NULs or bytes >= 0x80: written straight into the flow's storage, NULs dropped and
    // each high byte as its two-byte UTF-8 form (no string, no intermediate Buffer).
    this.persist();
    const store = this.reserve(this.used + 2 * Math.min(chunk.length, room));
    let u = this.used;
    let n = 0;
    for (let i = 0; i < chunk.length && n < room; i++) {
      const c = chunk[i]!;
      if (c === 0) continue;
      n++;
      if (c < 0x80) store[u++] = c;
      else {
        store[u++] = 0xc0 | (c >> 6);
        store[u++] = 0x80 | (c & 0x3f);
      }
    }
    this.used = u;
    this.chars += n;
    return n > 0;
  }

  /** The storage, grown to hold `need` bytes. */
  private reserve(need: number): Buffer {
    if (this.store && this.store.length >= need) return this.store;
    const grown = Buffer.allocUnsafeSlow(Math.max(need, Math.min(2 * need, 4096)));
    if (this.store) this.store.copy(grown, 0, 0, this.used);
    return (this.store = grown);
  }

  /** The subject as RE2 reads it (valid until the next append). */
  view(): Buffer {
    if (this.used === 0 && this.fresh.length === 1) return this.fresh[0]!;
    this.persist();
    return this.store!.subarray(0, this.used);
  }

  /**
   * Copies the packet's bytes into the flow's own storage: the chunks may be views into a
   * capture's read buffer or a queue's packet buffer, which must not be kept.
   */
  persist(): void {
    if (this.fresh.length === 0) return;
    const store = this.reserve(this.used + this.freshBytes);
    for (const f of this.fresh) {
      f.copy(store, this.used);
      this.used += f.length;
    }
    this.fresh.length = 0; // the same array for the flow's life: no garbage per packet
    this.freshBytes = 0;
  }

  /** Forgets everything (the flow stops being matched against patterns). */
  clear(): void {
    this.store = null;
    this.used = 0;
    this.fresh.length = 0;
    this.freshBytes = 0;
  }
}
