// A set of byte values, the unit in which the l7 dialect's classes, literals and `.` are
// expressed before they become RE2 syntax. Working in byte sets makes case folding and
// negation exact over the 256-byte alphabet, independent of RE2's Unicode rules.

export class ByteSet {
  private readonly bits = new Uint8Array(256);

  static of(...bytes: number[]): ByteSet {
    const s = new ByteSet();
    for (const b of bytes) s.add(b);
    return s;
  }

  static range(lo: number, hi: number): ByteSet {
    return new ByteSet().addRange(lo, hi);
  }

  add(b: number): this {
    this.bits[b] = 1;
    return this;
  }

  addRange(lo: number, hi: number): this {
    for (let b = lo; b <= hi; b++) this.bits[b] = 1;
    return this;
  }

  addSet(other: ByteSet): this {
    for (let b = 0; b < 256; b++) if (other.bits[b]) this.bits[b] = 1;
    return this;
  }

  delete(b: number): this {
    this.bits[b] = 0;
    return this;
  }

  has(b: number): boolean {
    return this.bits[b] === 1;
  }

  complement(): ByteSet {
    const s = new ByteSet();
    for (let b = 0; b < 256; b++) if (!this.bits[b]) s.bits[b] = 1;
    return s;
  }

  /** ASCII-only case folding: l7-filter lowercases ASCII and leaves bytes >= 0x80 alone. */
  foldAsciiCase(): this {
    for (let b = 0x41; b <= 0x5a; b++) {
      if (this.bits[b] || this.bits[b + 0x20]) {
        this.bits[b] = 1;
        this.bits[b + 0x20] = 1;
      }
    }
    return this;
  }

  get size(): number {
    let n = 0;
    for (let b = 0; b < 256; b++) n += this.bits[b]!;
    return n;
  }

  /** The members in ascending order. */
  values(): number[] {
    const out: number[] = [];
    for (let b = 0; b < 256; b++) if (this.bits[b]) out.push(b);
    return out;
  }

  /** Runs of consecutive members as [lo, hi] pairs. */
  ranges(): [number, number][] {
    const out: [number, number][] = [];
    let b = 0;
    while (b < 256) {
      if (!this.bits[b]) {
        b++;
        continue;
      }
      const lo = b;
      while (b < 256 && this.bits[b]) b++;
      out.push([lo, b - 1]);
    }
    return out;
  }
}

/** RE2 text for one byte, as a code point of the latin1-mapped subject string. */
export function re2Byte(b: number): string {
  const c = String.fromCharCode(b);
  if (/[A-Za-z0-9]/.test(c)) return c;
  return `\\x{${b.toString(16).padStart(2, "0")}}`;
}

/** RE2 text matching exactly one byte of the set (one code point of the latin1 string). */
export function re2Class(set: ByteSet): string {
  const ranges = set.ranges();
  if (ranges.length === 0) return "[^\\x{0}-\\x{10ffff}]"; // matches nothing
  if (ranges.length === 1 && ranges[0]![0] === ranges[0]![1]) return re2Byte(ranges[0]![0]);
  const body = ranges
    .map(([lo, hi]) =>
      lo === hi ? re2Byte(lo) : hi === lo + 1 ? re2Byte(lo) + re2Byte(hi) : `${re2Byte(lo)}-${re2Byte(hi)}`,
    )
    .join("");
  return `[${body}]`;
}
