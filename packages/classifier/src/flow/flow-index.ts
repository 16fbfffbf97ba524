// Flows by 5-tuple without a string per packet. The tuple is written as ten int32 words
// (transport and family, both ports, both addresses as four words each; IPv4 uses the
// first), its two endpoints in a fixed order so that both directions of a connection
// share one key. Keys live in typed arrays: four words per entry (the transport, the ports,
// each address's first word: all of an IPv4 key) and the IPv6 addresses' other six words
// apart, allocated with the first IPv6 entry (an IPv4-only table: 16 B per entry, not 40), found through an open-addressing table (linear
// probing, backward-shift deletion). Entries also form a list in insertion order: the
// flow table's LRU queue (second chance moves an entry to the back).

const W = 10;
/** Words per entry in `keys`: key words 0, 1, 2 and 6. */
const K = 4;
/** Words per entry in `tails`: key words 3, 4, 5, 7, 8, 9 (zero for IPv4). */
const T = 6;
/** Key word 0's family bits for IPv6 (see setKeyFromBytes). */
const V6 = 0x600;
const NONE = -1;

export class FlowIndex<T> {
  /** The key being looked up or inserted, written by `setKey*`. */
  private readonly key = new Int32Array(W);
  private keyHash = 0;
  /** The packet's source is the key's second endpoint (set by `setKey*`). */
  swapped = false;
  /** Both endpoints are the same address and port. */
  sameEnds = false;

  private keys: Int32Array;
  private tails: Int32Array | null = null;
  private hashes: Int32Array;
  /** Per entry: a small value of the caller's (the flow table: which endpoint is the client). */
  aux: Int8Array;
  private prev: Int32Array;
  private next: Int32Array;
  private values: (T | undefined)[] = [];
  private buckets: Int32Array;
  private mask: number;
  private freeList: number[] = [];
  private used = 0;
  size = 0;
  head = NONE;
  private tail = NONE;

  constructor(capacity = 1024) {
    this.keys = new Int32Array(capacity * K);
    this.hashes = new Int32Array(capacity);
    this.aux = new Int8Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.buckets = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
  }

  /**
   * The key of a packet from its raw address bytes (4 or 16 each, network order) at
   * `srcAt` and `dstAt` of `b`; `proto` 6 or 17.
   */
  setKeyFromBytes(
    proto: number,
    family: 4 | 6,
    b: Uint8Array,
    srcAt: number,
    dstAt: number,
    sport: number,
    dport: number,
  ): void {
    const k = this.key;
    if (family === 4) {
      const s = (b[srcAt]! << 24) | (b[srcAt + 1]! << 16) | (b[srcAt + 2]! << 8) | b[srcAt + 3]!;
      const d = (b[dstAt]! << 24) | (b[dstAt + 1]! << 16) | (b[dstAt + 2]! << 8) | b[dstAt + 3]!;
      const swap = s > d || (s === d && sport > dport);
      this.swapped = swap;
      this.sameEnds = s === d && sport === dport;
      const w0 = proto | 0x400;
      const w1 = swap ? (dport << 16) | sport : (sport << 16) | dport;
      const w2 = swap ? d : s;
      const w6 = swap ? s : d;
      k[0] = w0;
      k[1] = w1;
      k[2] = w2;
      k[6] = w6;
      // Words 3-5 and 7-9 are zero in an IPv4 key and nothing reads them (`find` and
      // `insert` read an IPv6 key's tail only): not written. The hash is `hashKey`'s, with
      // those words' rounds spelled out (same values, so the same table layout; computed
      // from the locals instead of written to and read back from `key`: ~30 ns a packet).
      this.keyHash = hashV4(w0, w1, w2, w6);
    } else {
      let cmp = 0;
      for (let i = 0; i < 16 && cmp === 0; i++) cmp = b[srcAt + i]! - b[dstAt + i]!;
      const swap = cmp > 0 || (cmp === 0 && sport > dport);
      this.swapped = swap;
      this.sameEnds = cmp === 0 && sport === dport;
      k[0] = proto | 0x600;
      k[1] = swap ? (dport << 16) | sport : (sport << 16) | dport;
      const lo = swap ? dstAt : srcAt;
      const hi = swap ? srcAt : dstAt;
      for (let i = 0; i < 4; i++) {
        const a = lo + 4 * i;
        const c = hi + 4 * i;
        k[2 + i] = (b[a]! << 24) | (b[a + 1]! << 16) | (b[a + 2]! << 8) | b[a + 3]!;
        k[6 + i] = (b[c]! << 24) | (b[c + 1]! << 16) | (b[c + 2]! << 8) | b[c + 3]!;
      }
      this.keyHash = hashKey(k);
    }
  }

  /** The same key from address strings (packets built by hand, not decoded from bytes). */
  setKeyFromText(proto: number, family: 4 | 6, src: string, dst: string, sport: number, dport: number): void {
    const b = textScratch;
    addressBytes(src, family, b, 0);
    addressBytes(dst, family, b, 16);
    this.setKeyFromBytes(proto, family, b, 0, 16, sport, dport);
  }

  /** The entry of the current key, or -1. */
  find(): number {
    const k = this.key;
    const h = this.keyHash;
    const keys = this.keys;
    for (let b = h & this.mask; ; b = (b + 1) & this.mask) {
      const e = this.buckets[b]!;
      if (e === 0) return NONE;
      const s = e - 1;
      if (this.hashes[s] !== h) continue;
      const o = s * K;
      if (
        keys[o + 1] === k[1] &&
        keys[o + 2] === k[2] &&
        keys[o + 3] === k[6] &&
        keys[o] === k[0] &&
        ((k[0]! & V6) !== V6 || this.tailMatches(s))
      )
        return s;
    }
  }

  value(entry: number): T {
    return this.values[entry]!;
  }

  /** Replaces the value of a live entry. */
  setValue(entry: number, value: T): void {
    this.values[entry] = value;
  }

  /** Adds `value` under the current key (which must not be present); returns its entry. */
  insert(value: T): number {
    let s = this.freeList.pop();
    if (s === undefined) {
      if (this.used === this.hashes.length) this.growEntries();
      s = this.used++;
    }
    const k = this.key;
    const o = s * K;
    const keys = this.keys;
    keys[o] = k[0]!;
    keys[o + 1] = k[1]!;
    keys[o + 2] = k[2]!;
    keys[o + 3] = k[6]!;
    if ((k[0]! & V6) === V6) {
      const t = (this.tails ??= new Int32Array(this.hashes.length * T));
      const u = s * T;
      t[u] = k[3]!;
      t[u + 1] = k[4]!;
      t[u + 2] = k[5]!;
      t[u + 3] = k[7]!;
      t[u + 4] = k[8]!;
      t[u + 5] = k[9]!;
    }
    this.hashes[s] = this.keyHash;
    this.aux[s] = 0;
    this.values[s] = value;
    this.size++;
    if (this.size * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.place(s);
    // Append to the list.
    this.prev[s] = this.tail;
    this.next[s] = NONE;
    if (this.tail === NONE) this.head = s;
    else this.next[this.tail] = s;
    this.tail = s;
    return s;
  }

  /** Removes an entry (the current key is left as it was). */
  remove(s: number): void {
    const mask = this.mask;
    const buckets = this.buckets;
    let i = this.hashes[s]! & mask;
    while (buckets[i] !== s + 1) i = (i + 1) & mask;
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    for (;;) {
      buckets[i] = 0;
      let j = i;
      for (;;) {
        j = (j + 1) & mask;
        const e = buckets[j]!;
        if (e === 0) {
          this.unlink(s);
          this.values[s] = undefined;
          this.freeList.push(s);
          this.size--;
          return;
        }
        const home = this.hashes[e - 1]! & mask;
        // The entry at j may move to i only if its home is not cyclically within (i, j].
        if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
        buckets[i] = e;
        i = j;
        break;
      }
    }
  }

  /** Moves an entry to the back of the list (second chance). */
  moveToBack(s: number): void {
    if (this.tail === s) return;
    this.unlink(s);
    this.prev[s] = this.tail;
    this.next[s] = NONE;
    if (this.tail === NONE) this.head = s;
    else this.next[this.tail] = s;
    this.tail = s;
  }

  /** Entry slots ever used: every live entry is below this (free ones hold no value). */
  get slots(): number {
    return this.used;
  }

  /** The value in slot `s`, undefined for a free slot. */
  valueAt(s: number): T | undefined {
    return this.values[s];
  }

  /** The entry after `s` in list order, or -1. */
  after(s: number): number {
    return this.next[s]!;
  }

  /** Every value, front of the list first. */
  *entries(): IterableIterator<T> {
    for (let s = this.head; s !== NONE; s = this.next[s]!) yield this.values[s]!;
  }

  clear(): void {
    this.buckets.fill(0);
    this.values = [];
    this.freeList = [];
    this.used = 0;
    this.size = 0;
    this.head = this.tail = NONE;
  }

  /** Whether entry `s`'s IPv6 words are the current key's (its first words matched). */
  private tailMatches(s: number): boolean {
    const k = this.key;
    const t = this.tails!;
    const u = s * T;
    return (
      t[u] === k[3] &&
      t[u + 1] === k[4] &&
      t[u + 2] === k[5] &&
      t[u + 3] === k[7] &&
      t[u + 4] === k[8] &&
      t[u + 5] === k[9]
    );
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  private place(s: number): void {
    const mask = this.mask;
    let b = this.hashes[s]! & mask;
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = s + 1;
  }

  private rehash(n: number): void {
    this.buckets = new Int32Array(n);
    this.mask = n - 1;
    for (let s = 0; s < this.used; s++) if (this.values[s] !== undefined) this.place(s);
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    const grow = <A extends Int32Array | Int8Array>(a: A, size: number, make: (n: number) => A): A => {
      const g = make(size);
      g.set(a);
      return g;
    };
    this.keys = grow(this.keys, n * K, (x) => new Int32Array(x));
    if (this.tails) this.tails = grow(this.tails, n * T, (x) => new Int32Array(x));
    this.hashes = grow(this.hashes, n, (x) => new Int32Array(x));
    this.aux = grow(this.aux, n, (x) => new Int8Array(x));
    this.prev = grow(this.prev, n, (x) => new Int32Array(x));
    this.next = grow(this.next, n, (x) => new Int32Array(x));
  }
}

/** `hashKey` of an IPv4 key: words 0, 1, 2 and 6, the others zero (exported for tests). */
export function hashV4(w0: number, w1: number, w2: number, w6: number): number {
  let h = SEED;
  h = Math.imul(h ^ w0, MIX);
  h ^= h >>> 15;
  h = Math.imul(h ^ w1, MIX);
  h ^= h >>> 15;
  h = Math.imul(h ^ w2, MIX);
  h ^= h >>> 15;
  for (let i = 3; i < 6; i++) {
    h = Math.imul(h, MIX);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ w6, MIX);
  h ^= h >>> 15;
  for (let i = 7; i < W; i++) {
    h = Math.imul(h, MIX);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), FINAL);
  return h ^ (h >>> 13);
}

// The key hash's constants, one set for `hashKey` and its IPv4 spelling `hashV4`.
const SEED = 0x2545f491;
const MIX = 0x9e3779b1;
const FINAL = 0x85ebca6b;

/** The hash of a ten-word key (exported for tests). */
export function hashKey(k: Int32Array): number {
  let h = SEED;
  for (let i = 0; i < W; i++) {
    h = Math.imul(h ^ k[i]!, MIX);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), FINAL);
  return h ^ (h >>> 13);
}

const textScratch = new Uint8Array(32);

/** Writes an address's bytes (4 for IPv4, 16 for IPv6) at `at`; throws on a malformed one. */
export function addressBytes(ip: string, family: 4 | 6, out: Uint8Array, at: number): void {
  if (family === 4) {
    if (!dotted(ip, out, at)) throw new RangeError(`not an IPv4 address: ${ip}`);
    return;
  }
  out.fill(0, at, at + 16);
  const halves = ip.split("::");
  if (halves.length > 2) throw new RangeError(`not an IPv6 address: ${ip}`);
  const groups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const words: number[] = [];
  const push = (gs: string[]) => {
    for (const g of gs) {
      if (g.includes(".")) {
        const v4 = new Uint8Array(4);
        if (!dotted(g, v4, 0)) throw new RangeError(`not an IPv6 address: ${ip}`);
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        const w = parseInt(g, 16);
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new RangeError(`not an IPv6 address: ${ip}`);
        words.push(w);
      }
    }
  };
  push(head);
  const headLen = words.length;
  push(tail);
  const tailLen = words.length - headLen;
  if (words.length > 8 || (halves.length === 1 && words.length !== 8))
    throw new RangeError(`not an IPv6 address: ${ip}`);
  for (let i = 0; i < headLen; i++) {
    out[at + 2 * i] = words[i]! >> 8;
    out[at + 2 * i + 1] = words[i]! & 0xff;
  }
  for (let i = 0; i < tailLen; i++) {
    const pos = 8 - tailLen + i;
    out[at + 2 * pos] = words[headLen + i]! >> 8;
    out[at + 2 * pos + 1] = words[headLen + i]! & 0xff;
  }
}

function dotted(ip: string, out: Uint8Array, at: number): boolean {
  const parts = ip.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const v = Number(parts[i]);
    if (!/^\d{1,3}$/.test(parts[i]!) || v > 255) return false;
    out[at + i] = v;
  }
  return true;
}
