// Each connection's byte count at the last conntrack pass, by the kernel's connection id (a
// u32): the sampler's rates come from the difference. In typed arrays rather than a Map: at
// 100,000 connections a Map of number keys holds ~5 MB of V8 heap, and two are alive during
// a pass (the last one and the one being filled); this holds 13 bytes per slot outside the
// heap, and nothing for the garbage collector to walk. Filled once per pass, never deleted
// from: the next pass starts a new one, sized from this one.

export class IdBytes {
  private readonly keys: Uint32Array;
  private readonly values: Float64Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  size = 0;

  /** Room for `expected` ids before it grows (it grows when half full). */
  constructor(expected = 1024) {
    let cap = 16;
    while (cap < 2 * expected) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.values = new Float64Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  private slot(id: number): number {
    // Fibonacci hashing: ids are often sequential or pointer-like.
    let i = (Math.imul(id, 0x9e3779b1) >>> 0) & this.mask;
    while (this.used[i] && this.keys[i] !== id) i = (i + 1) & this.mask;
    return i;
  }

  get(id: number): number | undefined {
    const i = this.slot(id >>> 0);
    return this.used[i] ? this.values[i] : undefined;
  }

  /** Sets `id`'s count; returns the map to keep using (a bigger one when this one filled up). */
  set(id: number, bytes: number): IdBytes {
    const k = id >>> 0;
    const i = this.slot(k);
    if (!this.used[i]) {
      if (2 * (this.size + 1) > this.keys.length) return this.grown().set(k, bytes);
      this.used[i] = 1;
      this.keys[i] = k;
      this.size++;
    }
    this.values[i] = bytes;
    return this;
  }

  private grown(): IdBytes {
    const next = new IdBytes(this.keys.length);
    for (let i = 0; i < this.keys.length; i++) if (this.used[i]) next.set(this.keys[i]!, this.values[i]!);
    return next;
  }
}
