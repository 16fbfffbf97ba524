// The pattern subject of a flow under inspection: the payload of both directions in
// arrival order, NULs stripped (as l7-filter does), at most the window's bytes. It is held
// as UTF-8 bytes with every byte >= 0x80 spelled as its latin1 character (the dialect's
// translation matches those characters), which is what RE2 runs on: handing RE2 a Buffer
// spares it a string-to-UTF-8 conversion (and a Buffer allocation) per pattern set per
// packet. The bytes live in the thread's subject arena (flow/subject-arena.ts) and go back
// to it when the flow is decided or leaves the table (`clear`).

import { isAscii } from "node:buffer";
import { SubjectArena, subjectArena } from "./subject-arena.ts";
import { indexOfByte } from "../literal-prefilter.ts";

const EMPTY = Buffer.alloc(0);

/** Per byte: the first byte of its subject form (itself, or a high byte's UTF-8 lead)... */
const UTF8_LEAD = new Uint8Array(256);
/** ...and how many bytes that form has (0: a NUL, dropped). */
const UTF8_STEP = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  UTF8_LEAD[c] = c < 0x80 ? c : 0xc0 | (c >> 6);
  UTF8_STEP[c] = c === 0 ? 0 : c < 0x80 ? 1 : 2;
}

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
  /** A packet's bytes not yet copied into the storage (see `persist`). */
  private fresh: Buffer | null = null;
  private freshMore: Buffer[] | null = null;
  private freshBytes = 0;

  /** Appends one chunk, up to `limit` chars in all; false when nothing was added. */
  append(chunk: Buffer, limit: number): boolean {
    const room = limit - this.chars;
    if (room <= 0 || chunk.length === 0) return false;
    if (indexOfByte(chunk, 0) < 0 && isAscii(chunk)) {
      // The common text case: the packet's own bytes, no copy until `persist`.
      const b = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chars += b.length;
      if (this.fresh === null) this.fresh = b;
      else (this.freshMore ??= []).push(b);
      this.freshBytes += b.length;
      return true;
    }
    // NULs or bytes >= 0x80: written straight into the flow's storage, NULs dropped and
    // each high byte as its two-byte UTF-8 form (no string, no intermediate Buffer).
    this.persist();
    const store = this.reserve(this.used + 2 * Math.min(chunk.length, room));
    // Without a branch on the byte (in binary payloads such as QUIC's, whether a byte is
    // NUL, ASCII or high is a coin toss the CPU keeps losing: ~2.5x slower): both UTF-8
    // bytes are written, and the position moves by the byte's step (0 for NUL, 1, or 2).
    let u = this.used;
    let n = 0;
    const len = chunk.length;
    for (let i = 0; i < len && n < room; i++) {
      const c = chunk[i]!;
      const step = UTF8_STEP[c]!;
      store[u] = UTF8_LEAD[c]!;
      store[u + 1] = 0x80 | (c & 0x3f);
      u += step;
      n += (step + 1) >> 1;
    }
    this.used = u;
    this.chars += n;
    return n > 0;
  }

  /** The storage (all of its capacity), grown to hold `need` bytes, `used` of them kept. */
  private reserve(need: number): Buffer {
    if (need <= this.capacity) return this.storage();
    // The arena's block sizes grow by x1.5 at most: no headroom on top of that.
    const size = SubjectArena.blockSize(need);
    const old = this.used ? this.storage() : null;
    let grown: Buffer;
    if (size) {
      const block = subjectArena.alloc(size);
      grown = subjectArena.view(block, size);
      if (old) old.copy(grown, 0, 0, this.used);
      this.free();
      this.block = block;
      this.capacity = size;
    } else {
      grown = Buffer.allocUnsafeSlow(Math.ceil(need * 1.5));
      if (old) old.copy(grown, 0, 0, this.used);
      this.free();
      this.big = grown;
      this.capacity = grown.length;
    }
    return grown;
  }

  private storage(): Buffer {
    return this.big ?? subjectArena.view(this.block, this.capacity);
  }

  /** The subject as RE2 reads it (valid until the next append). */
  view(): Buffer {
    if (this.used === 0 && this.fresh !== null && this.freshMore === null) return this.fresh;
    this.persist();
    // One view of the used bytes (not a view of the storage, then one of that).
    if (!this.capacity) return EMPTY;
    return this.big ? this.big.subarray(0, this.used) : subjectArena.view(this.block, this.used);
  }

  /**
   * Copies the packet's bytes into the flow's own storage: the chunks may be views into a
   * capture's read buffer or a queue's packet buffer, which must not be kept.
   */
  persist(): void {
    if (this.fresh === null) return;
    const store = this.reserve(this.used + this.freshBytes);
    // TypedArray#set: a few dozen bytes, without Buffer#copy's argument handling.
    store.set(this.fresh, this.used);
    this.used += this.fresh.length;
    if (this.freshMore)
      for (const f of this.freshMore) {
        store.set(f, this.used);
        this.used += f.length;
      }
    this.fresh = null;
    this.freshMore = null;
    this.freshBytes = 0;
  }

  /**
   * Takes over a flow's stored subject (see `unload`): the flow table keeps each flow's
   * subject as two numbers and runs one FlowSubject over the flow being inspected. Whatever
   * this subject still held (a packet whose classification threw) is freed first.
   */
  load(block: number, used: number, chars: number, big: Buffer | null): void {
    if (this.block >= 0 || this.big !== null || this.fresh !== null) this.clear();
    this.block = block;
    this.big = big;
    this.used = used;
    this.chars = chars;
    this.capacity = big ? big.length : block >= 0 ? subjectArena.sizeOf(block) : 0;
  }

  /**
   * Copies the packet's bytes in (`persist`) and hands the storage over: its arena block
   * and bytes used into `to`, its own Buffer (past the arena's blocks) returned. This
   * subject is left empty.
   */
  unload(to: { subjectBlock: number; subjectUsed: number }): Buffer | null {
    this.persist();
    const big = this.big;
    to.subjectBlock = this.block;
    to.subjectUsed = this.used;
    this.block = -1;
    this.big = null;
    this.capacity = 0;
    this.used = 0;
    this.chars = 0;
    return big;
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
