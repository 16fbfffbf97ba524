// HPACK (RFC 7541) header block decoding: the static table, the dynamic table, integers
// with an N-bit prefix and Huffman-coded strings (Appendix B). Enough to read the first
// HEADERS frame of an HTTP/2 connection (:authority, :method, user-agent).

/** RFC 7541 Appendix A. */
export const HPACK_STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** RFC 7541 Appendix B: the code of each byte value (the lengths are in HUFFMAN_LENGTHS). */
const HUFFMAN_CODES: readonly number[] = [
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7, 0xfffffe8, 0xffffea,
  0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec, 0xfffffed, 0xfffffee, 0xfffffef,
  0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3, 0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7,
  0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb, 0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, 0x3fa,
  0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18, 0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x5c,
  0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc, 0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
  0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0,
  0x1ffc, 0x3ffc, 0x22, 0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, 0x27, 0x6, 0x74, 0x75, 0x28, 0x29,
  0x2a, 0x7, 0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd,
  0xffffffc, 0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9, 0x3fffd6, 0x7fffda,
  0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf, 0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0,
  0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3, 0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6,
  0x7fffe7, 0xffffef, 0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde, 0x7fffea,
  0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec, 0x1fffe0, 0x1fffe1, 0x3fffe0,
  0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef, 0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5,
  0x3fffe6, 0x7ffff1, 0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed, 0x7fff2, 0x1fffe3,
  0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2, 0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9,
  0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5, 0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7,
  0x1fffe8, 0x7ffff3, 0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea, 0x7ffffeb,
  0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
];

export const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
];

/** Binary decoding tree: node = [child0, child1]; a leaf is a byte value (number >= 0). */
type Node = [Node | number | null, Node | number | null];
let tree: Node | null = null;

function huffmanTree(): Node {
  if (tree) return tree;
  const root: Node = [null, null];
  for (let sym = 0; sym < 256; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let n = root;
    for (let i = len - 1; i > 0; i--) {
      const bit = ((code >>> i) & 1) as 0 | 1;
      let next = n[bit];
      if (next === null) {
        next = [null, null];
        n[bit] = next;
      }
      if (typeof next === "number") throw new Error("HPACK Huffman table is not a prefix code");
      n = next;
    }
    n[(code & 1) as 0 | 1] = sym;
  }
  tree = root;
  return root;
}

/**
 * The decoding tree as a state machine read four bits at a time (as nghttp2 does): a
 * state is an inner node of the tree, and per state and nibble one entry says the state
 * after it, the byte it completed if any (codes are at least 5 bits: one at most), or
 * that the bits lead nowhere. Walking the tree bit by bit cost most of an HTTP/2 flow's
 * dissection (header blocks are mostly Huffman-coded, cookies included).
 */
interface HuffmanMachine {
  /** Per state * 16 + nibble: next state << 10 | EMIT | FAIL | the byte. */
  table: Int32Array;
  /** Per state: a string may end here (fewer than 8 bits since its last byte, all ones). */
  accepts: Uint8Array;
}
const EMIT = 0x100;
const FAIL = 0x200;
let machine: HuffmanMachine | null = null;

function huffmanMachine(): HuffmanMachine {
  if (machine) return machine;
  const root = huffmanTree();
  const nodes: Node[] = [root];
  const ids = new Map<Node, number>([[root, 0]]);
  const depths = [0];
  // On the all-ones path from the root within 7 bits: a valid padding.
  const accepting = [true];
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[k]!;
    for (const bit of [0, 1] as const) {
      const c = n[bit];
      if (c === null || typeof c === "number") continue;
      ids.set(c, nodes.length);
      nodes.push(c);
      depths.push(depths[k]! + 1);
      accepting.push(accepting[k]! && bit === 1 && depths[k]! + 1 <= 7);
    }
  }
  const table = new Int32Array(nodes.length * 16);
  for (let k = 0; k < nodes.length; k++) {
    for (let v = 0; v < 16; v++) {
      let n = nodes[k]!;
      let e = 0;
      for (let i = 3; i >= 0; i--) {
        const next = n[((v >> i) & 1) as 0 | 1];
        if (next === null) {
          e = FAIL;
          break;
        }
        if (typeof next === "number") {
          if (e & EMIT) throw new Error("HPACK Huffman table has a code shorter than 5 bits");
          e = EMIT | next;
          n = root;
        } else n = next;
      }
      table[k * 16 + v] = e & FAIL ? FAIL : (ids.get(n)! << 10) | e;
    }
  }
  machine = { table, accepts: Uint8Array.from(accepting, (a) => (a ? 1 : 0)) };
  return machine;
}

/** Decodes a Huffman-coded string; throws on an invalid code or padding. */
export function huffmanDecode(b: Buffer): Buffer {
  const { table, accepts } = huffmanMachine();
  // Codes are 5 bits or more: at most 8/5 bytes out per byte in.
  const out = Buffer.allocUnsafe(Math.floor((b.length * 8) / 5));
  let n = 0;
  let state = 0;
  for (let i = 0; i < b.length; i++) {
    const byte = b[i]!;
    let e = table[state * 16 + (byte >> 4)]!;
    if (e & FAIL) throw new RangeError("invalid Huffman code");
    if (e & EMIT) out[n++] = e & 0xff;
    e = table[(e >> 10) * 16 + (byte & 0x0f)]!;
    if (e & FAIL) throw new RangeError("invalid Huffman code");
    if (e & EMIT) out[n++] = e & 0xff;
    state = e >> 10;
  }
  // Padding: fewer than 8 bits, all ones (the most significant bits of EOS).
  if (!accepts[state]) throw new RangeError("invalid Huffman padding");
  return out.subarray(0, n);
}

/** Huffman-encodes a string (tests). */
export function huffmanEncode(s: Buffer): Buffer {
  const out: number[] = [];
  let acc = 0n;
  let bits = 0;
  for (const c of s) {
    acc = (acc << BigInt(HUFFMAN_LENGTHS[c]!)) | BigInt(HUFFMAN_CODES[c]!);
    bits += HUFFMAN_LENGTHS[c]!;
    while (bits >= 8) {
      bits -= 8;
      out.push(Number((acc >> BigInt(bits)) & 0xffn));
    }
  }
  if (bits > 0) out.push(Number(((acc << BigInt(8 - bits)) | ((1n << BigInt(8 - bits)) - 1n)) & 0xffn));
  return Buffer.from(out);
}

export interface HeaderField {
  name: string;
  value: string;
}

/** One direction's HPACK decoding context (the dynamic table persists across header blocks). */
export class HpackDecoder {
  private dynamic: [string, string][] = [];
  private size = 0;
  private maxSize = 4096;

  private entry(i: number): readonly [string, string] {
    if (i >= 1 && i <= HPACK_STATIC_TABLE.length) return HPACK_STATIC_TABLE[i - 1]!;
    const d = this.dynamic[i - HPACK_STATIC_TABLE.length - 1];
    if (!d) throw new RangeError(`HPACK index ${i} out of range`);
    return d;
  }

  private add(name: string, value: string): void {
    this.dynamic.unshift([name, value]);
    this.size += name.length + value.length + 32;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize && this.dynamic.length) {
      const [n, v] = this.dynamic.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }

  /** Decodes a complete header block. Throws when it is malformed. */
  decode(block: Buffer): HeaderField[] {
    const out: HeaderField[] = [];
    let o = 0;
    const int = (prefix: number): number => {
      const max = (1 << prefix) - 1;
      let v = block[o++]! & max;
      if (v < max) return v;
      let m = 0;
      for (;;) {
        if (o >= block.length) throw new RangeError("HPACK integer truncated");
        const b = block[o++]!;
        v += (b & 0x7f) * 2 ** m;
        m += 7;
        if ((b & 0x80) === 0) return v;
        if (m > 28) throw new RangeError("HPACK integer too large");
      }
    };
    const str = (): string => {
      if (o >= block.length) throw new RangeError("HPACK string truncated");
      const huff = (block[o]! & 0x80) !== 0;
      const len = int(7);
      if (o + len > block.length) throw new RangeError("HPACK string truncated");
      const raw = block.subarray(o, o + len);
      o += len;
      return (huff ? huffmanDecode(raw) : raw).toString("latin1");
    };
    while (o < block.length) {
      const b = block[o]!;
      if (b & 0x80) {
        const [name, value] = this.entry(int(7));
        out.push({ name, value });
      } else if ((b & 0xc0) === 0x40) {
        const idx = int(6);
        const name = idx ? this.entry(idx)[0] : str();
        const value = str();
        this.add(name, value);
        out.push({ name, value });
      } else if ((b & 0xe0) === 0x20) {
        this.maxSize = int(5);
        this.evict();
      } else {
        // literal without indexing (0000) or never indexed (0001)
        const idx = int(4);
        const name = idx ? this.entry(idx)[0] : str();
        out.push({ name, value: str() });
      }
    }
    return out;
  }
}
