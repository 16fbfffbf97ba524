// HMAC-SHA-256 from keys hashed once, for the QUIC Initial keys (a salt, a DCID, HKDF
// labels: keys of at most 64 bytes, messages that fit one block). The compression function
// is @noble/hashes' SHA-256; what this adds is running it on a state kept as eight words:
// an HMAC of a short message is two compressions and allocates nothing but its result.
// Through the library's hasher objects (a keyed state cloned per call: two hasher objects,
// their buffers and views, a digest copy) the five HMACs of a QUIC flow cost ~30 µs.

import { _SHA256, sha256 } from "@noble/hashes/sha2.js";

/** A key's inner and outer states (words 0-7 and 8-15) after its padded block. */
export type HmacKey = Int32Array;

/** noble's SHA-256 with its compression function run on a given state. */
class Compressor extends _SHA256 {
  readonly padded = new Uint8Array(64);
  private readonly paddedView = new DataView(this.padded.buffer);

  /** Compresses `padded` into the eight words of `state` at `at`. */
  compress(state: Int32Array, at: number): void {
    this.set(
      state[at]!,
      state[at + 1]!,
      state[at + 2]!,
      state[at + 3]!,
      state[at + 4]!,
      state[at + 5]!,
      state[at + 6]!,
      state[at + 7]!,
    );
    this.process(this.paddedView, 0);
    state[at] = this.A;
    state[at + 1] = this.B;
    state[at + 2] = this.C;
    state[at + 3] = this.D;
    state[at + 4] = this.E;
    state[at + 5] = this.F;
    state[at + 6] = this.G;
    state[at + 7] = this.H;
  }

  /**
   * Hashes `data` and SHA-256's padding into the state at `at`, the message being `prefix`
   * bytes already hashed (a multiple of 64) followed by `data`.
   */
  finish(state: Int32Array, at: number, data: Uint8Array, prefix: number): void {
    const b = this.padded;
    let off = 0;
    for (; data.length - off >= 64; off += 64) {
      b.set(data.subarray(off, off + 64));
      this.compress(state, at);
    }
    const rest = data.length - off;
    b.fill(0);
    b.set(off === 0 ? data : data.subarray(off));
    b[rest] = 0x80;
    if (rest >= 56) {
      this.compress(state, at);
      b.fill(0);
    }
    const bits = (prefix + data.length) * 8;
    this.paddedView.setUint32(56, Math.floor(bits / 2 ** 32), false);
    this.paddedView.setUint32(60, bits >>> 0, false);
    this.compress(state, at);
  }
}

const sha = new Compressor();
/** SHA-256's initial state (FIPS 180-4 §5.3.3). */
const IV = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);
const state = new Int32Array(8);
const digest = new Uint8Array(32);

/** The inner and outer states of HMAC-SHA-256 with `key`. */
export function hmacKey(key: Uint8Array): HmacKey {
  // RFC 2104: a key longer than the block is replaced by its hash.
  if (key.length > 64) key = sha256(key);
  const out = new Int32Array(16);
  for (const [pad, at] of [
    [0x36, 0],
    [0x5c, 8],
  ] as const) {
    const b = sha.padded;
    b.fill(pad);
    for (let i = 0; i < key.length; i++) b[i] = key[i]! ^ pad;
    out.set(IV, at);
    sha.compress(out, at);
  }
  return out;
}

/** HMAC-SHA-256(key, data): a new 32-byte Buffer. */
export function hmacSha256(key: HmacKey, data: Uint8Array): Buffer {
  // Inner hash: the key's inner state (after the 64-byte ipad block) over data.
  state.set(key.subarray(0, 8));
  sha.finish(state, 0, data, 64);
  writeWords(state, digest);
  // Outer hash: the outer state over the inner digest.
  state.set(key.subarray(8, 16));
  sha.finish(state, 0, digest, 64);
  const out = Buffer.allocUnsafe(32);
  writeWords(state, out);
  return out;
}

function writeWords(words: Int32Array, into: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    into[4 * i] = w >>> 24;
    into[4 * i + 1] = (w >>> 16) & 0xff;
    into[4 * i + 2] = (w >>> 8) & 0xff;
    into[4 * i + 3] = w & 0xff;
  }
}
