// AES-128 encryption of one 16-byte block (FIPS-197), for QUIC header protection
// (RFC 9001 §5.4.3: the mask is AES-ECB of a 16-byte sample under the `hp` key). A
// node:crypto cipher costs ~4-5 µs to set up per key (a KeyObject, a cipher context),
// and every QUIC flow has keys of its own used for one or two blocks; this T-table
// form expands the key once (~44 words) and encrypts a block in well under a
// microsecond. Header protection hides nothing secret (the key derives from the
// client's connection ID), so a table-driven (not constant-time) AES is fine here.

const SBOX = new Uint8Array(256);
/** Round tables: TE0[x] = (2·S[x], S[x], S[x], 3·S[x]) big-endian; TE1..3 its rotations. */
const TE0 = new Uint32Array(256);
const TE1 = new Uint32Array(256);
const TE2 = new Uint32Array(256);
const TE3 = new Uint32Array(256);

{
  const rotl8 = (x: number, s: number) => ((x << s) | (x >>> (8 - s))) & 0xff;
  // p runs over the multiplicative group (times 3), q over its inverses (divided by 3).
  let p = 1;
  let q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    SBOX[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x]!;
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x1b : 0)) & 0xff;
    const w = ((s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s)) >>> 0;
    TE0[x] = w;
    TE1[x] = ((w >>> 8) | (w << 24)) >>> 0;
    TE2[x] = ((w >>> 16) | (w << 16)) >>> 0;
    TE3[x] = ((w >>> 24) | (w << 8)) >>> 0;
  }
}

const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

/** The 44 round-key words of a 16-byte key. */
export function aes128KeySchedule(key: Uint8Array): Uint32Array {
  if (key.length !== 16) throw new RangeError("AES-128 needs a 16-byte key");
  const w = new Uint32Array(44);
  for (let i = 0; i < 4; i++)
    w[i] = ((key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!) >>> 0;
  for (let i = 4; i < 44; i++) {
    let t = w[i - 1]!;
    if ((i & 3) === 0) {
      // SubWord(RotWord(t)) ^ Rcon
      t =
        ((SBOX[(t >>> 16) & 0xff]! << 24) |
          (SBOX[(t >>> 8) & 0xff]! << 16) |
          (SBOX[t & 0xff]! << 8) |
          SBOX[t >>> 24]!) ^
        (RCON[(i >> 2) - 1]! << 24);
    }
    w[i] = (w[i - 4]! ^ t) >>> 0;
  }
  return w;
}

/** Encrypts the 16 bytes of `input` at `at` under the schedule into `out` (16 bytes). */
export function aes128EncryptBlock(rk: Uint32Array, input: Uint8Array, at: number, out: Uint8Array): void {
  let s0 = ((input[at]! << 24) | (input[at + 1]! << 16) | (input[at + 2]! << 8) | input[at + 3]!) ^ rk[0]!;
  let s1 =
    ((input[at + 4]! << 24) | (input[at + 5]! << 16) | (input[at + 6]! << 8) | input[at + 7]!) ^ rk[1]!;
  let s2 =
    ((input[at + 8]! << 24) | (input[at + 9]! << 16) | (input[at + 10]! << 8) | input[at + 11]!) ^ rk[2]!;
  let s3 =
    ((input[at + 12]! << 24) | (input[at + 13]! << 16) | (input[at + 14]! << 8) | input[at + 15]!) ^ rk[3]!;
  for (let r = 4; r < 40; r += 4) {
    const t0 =
      TE0[s0 >>> 24]! ^ TE1[(s1 >>> 16) & 0xff]! ^ TE2[(s2 >>> 8) & 0xff]! ^ TE3[s3 & 0xff]! ^ rk[r]!;
    const t1 =
      TE0[s1 >>> 24]! ^ TE1[(s2 >>> 16) & 0xff]! ^ TE2[(s3 >>> 8) & 0xff]! ^ TE3[s0 & 0xff]! ^ rk[r + 1]!;
    const t2 =
      TE0[s2 >>> 24]! ^ TE1[(s3 >>> 16) & 0xff]! ^ TE2[(s0 >>> 8) & 0xff]! ^ TE3[s1 & 0xff]! ^ rk[r + 2]!;
    const t3 =
      TE0[s3 >>> 24]! ^ TE1[(s0 >>> 16) & 0xff]! ^ TE2[(s1 >>> 8) & 0xff]! ^ TE3[s2 & 0xff]! ^ rk[r + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  const last = (a: number, b: number, c: number, d: number, k: number, o: number) => {
    const v =
      ((SBOX[a >>> 24]! << 24) |
        (SBOX[(b >>> 16) & 0xff]! << 16) |
        (SBOX[(c >>> 8) & 0xff]! << 8) |
        SBOX[d & 0xff]!) ^
      k;
    out[o] = v >>> 24;
    out[o + 1] = v >>> 16;
    out[o + 2] = v >>> 8;
    out[o + 3] = v;
  };
  last(s0, s1, s2, s3, rk[40]!, 0);
  last(s1, s2, s3, s0, rk[41]!, 4);
  last(s2, s3, s0, s1, rk[42]!, 8);
  last(s3, s0, s1, s2, rk[43]!, 12);
}
