// The pattern subject of a flow under inspection: the payload of both directions in
// arrival order, NULs stripped (as l7-filter does), at most the window's bytes. It is held
// as UTF-8 bytes with every byte >= 0x80 spelled as its latin1 character (the dialect's
// translation matches those characters), which is what RE2 runs on: handing RE2 a Buffer
// spares it a string-to-UTF-8 conversion (and a Buffer allocation) per pattern set per
// packet. The bytes live in the thread's subject arena (flow/subject-arena.ts) and go back
// to it when the flow is decided or leaves the table (`clear`).

import { isAscii } from "node:buffer";
import { SubjectArena, subjectArena } from "./subject-arena.ts";

export class FlowSubject {
  /** Payload bytes held (NULs stripped): the window's count. */
  chars = 0;
  /**
   * Owned storage (UTF-8): a block of the thread's subject arena (`block` >= 0) or, past
   * the arena's largest block, a Buffer of its own; none until the flow needs more than
   * one packet.
   */
  private block = -1;
  private big: Buffer | null = null;
  private capacity = 0;
  private used = 0;
  /** A packet's converted bytes not yet copied into the storage (see `persist`). */
  private fresh: Buffer | null = null;
  private freshMore: Buffer[] | null = null;
  private freshBytes = 0;

  /** Appends one chunk, up to `limit` chars in all; false when nothing was added. */
  append(chunk: Buffer, limit: number): boolean {
    const room = limit - this.chars;
    if (room <= 0 || chunk.length === 0) return false;
    let b = chunk.indexOf(0) < 0 ? chunk : withoutNuls(chunk);
    if (b.length === 0) return false;
    if (b.length > room) b = b.subarray(0, room);
    this.chars += b.length;
    // Through a latin1 string: ~40x faster than buffer.transcode (ICU) for a packet.
    const u = isAscii(b) ? b : Buffer.from(b.toString("latin1"), "utf8");
    if (this.fresh === null) this.fresh = u;
    else (this.freshMore ??= []).push(u);
    this.freshBytes += u.length;
    return true;
  }

  /** The subject as RE2 reads it (valid until the next append). */
  view(): Buffer {
    if (this.used === 0 && this.fresh !== null && this.freshMore === null) return this.fresh;
    this.persist();
    return this.stored();
  }

  private stored(): Buffer {
    return this.big ? this.big.subarray(0, this.used) : subjectArena.view(this.block, this.used);
  }

  /**
   * Copies the packet's bytes into the flow's own storage: the chunks may be views into a
   * capture's read buffer or a queue's packet buffer, which must not be kept.
   */
  persist(): void {
    if (this.fresh === null) return;
    const need = this.used + this.freshBytes;
    if (need > this.capacity) {
      // The arena's block sizes grow by x1.5 at most: no headroom on top of that.
      const size = SubjectArena.blockSize(need);
      const want = size || Math.ceil(need * 1.5);
      const old = this.used ? this.stored() : null;
      let grown: Buffer;
      if (size) {
        const block = subjectArena.alloc(size);
        grown = subjectArena.view(block, size);
        if (old) old.copy(grown);
        this.free();
        this.block = block;
        this.capacity = size;
      } else {
        grown = Buffer.allocUnsafeSlow(want);
        if (old) old.copy(grown);
        this.free();
        this.big = grown;
        this.capacity = want;
      }
    }
    const store = this.big ?? subjectArena.view(this.block, this.capacity);
    this.used += this.fresh.copy(store, this.used);
    if (this.freshMore) for (const f of this.freshMore) this.used += f.copy(store, this.used);
    this.fresh = null;
    this.freshMore = null;
    this.freshBytes = 0;
  }

  /** Forgets everything (the flow stops being matched against patterns). */
  clear(): void {
    this.free();
    this.used = 0;
    this.fresh = null;
    this.freshMore = null;
    this.freshBytes = 0;
  }

  private free(): void {
    if (this.block >= 0) subjectArena.release(this.block);
    this.block = -1;
    this.big = null;
    this.capacity = 0;
  }
}

/** The bytes of `b` without its NULs (a copy). */
function withoutNuls(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  let from = 0;
  for (;;) {
    const z = b.indexOf(0, from);
    const end = z < 0 ? b.length : z;
    if (end > from) n += b.copy(out, n, from, end);
    if (z < 0) break;
    from = z + 1;
  }
  return out.subarray(0, n);
}
