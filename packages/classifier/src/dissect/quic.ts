// QUIC Initial dissector: reads the ClientHello a client sends in its first Initial
// packets, for QUIC v1 (RFC 9000/9001), v2 (RFC 9369), the IETF drafts and Facebook's
// mvfst versions (same scheme, other salts), and Google QUIC: Q039-Q046 carry a plaintext
// CHLO, Q050/T050/T051 an encrypted one.
//
// For the IETF versions: the initial secrets are derived from the client's first
// Destination Connection ID with HKDF (RFC 9001 §5.2), header protection is removed with
// AES-128-ECB (§5.4), the payload decrypted with AEAD_AES_128_GCM (§5.3), the frames parsed
// and the CRYPTO frames reassembled by offset (several Initial packets, several datagrams,
// any order) until the ClientHello is complete.

import { createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { aes128EncryptBlock, aes128KeySchedule } from "./aes-block.ts";
import { hmacKey, hmacSha256, type HmacKey } from "./hmac-sha256.ts";
import { dissectHandshake, type ClientHello } from "./tls.ts";

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

const SALT = {
  v1: Buffer.from("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", "hex"),
  v2: Buffer.from("0dede3def700a6db819381be6e269dcbf9bd2ed9", "hex"),
  draft22: Buffer.from("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a", "hex"),
  draft23: Buffer.from("c3eef712c72ebb5a11a7d2432bb46365bef9f502", "hex"),
  draft29: Buffer.from("afbfec289993d24c9e9786f19c6111e04390a899", "hex"),
  q050: Buffer.from("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45", "hex"),
  t050: Buffer.from("7ff579e5acd072915580304c43a2367c60488310", "hex"),
  t051: Buffer.from("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d", "hex"),
};

export type QuicFamily = "ietf" | "gquic-plain" | "gquic-crypto" | "unsupported";

export interface QuicVersion {
  version: number;
  /** "v1", "v2", "draft-29", "mvfst-27", "Q046", "T051", "0x1a2a3a4a", ... */
  name: string;
  family: QuicFamily;
  /** Initial salt of the encrypted families. */
  salt: Buffer | null;
  /** HKDF label prefix: "quic " (v1, drafts, gQUIC) or "quicv2 " (v2). */
  labelPrefix: string;
  /** Long-header packet type of Initial: 0 (v1, drafts), 1 (v2). */
  initialType: number;
  /** The handshake inside is TLS (IETF, T05x) rather than a gQUIC CHLO. */
  tls: boolean;
}

function ascii(v: number): string {
  return String.fromCharCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** quicVersion's answers by version number: one object per version, not one per flow. */
const versions = new Map<number, QuicVersion>();

/** What a version number means to this dissector (the same object for every call). */
export function quicVersion(v: number): QuicVersion {
  let known = versions.get(v);
  if (known === undefined) {
    // Bounded: a flood of made-up versions must not grow the map without end.
    if (versions.size >= 256) versions.clear();
    known = Object.freeze(describeVersion(v));
    versions.set(v, known);
  }
  return known;
}

function describeVersion(v: number): QuicVersion {
  const base = { version: v, labelPrefix: "quic ", initialType: 0, tls: true };
  if (v === QUIC_V1) return { ...base, name: "v1", family: "ietf", salt: SALT.v1 };
  if (v === QUIC_V2)
    return { ...base, name: "v2", family: "ietf", salt: SALT.v2, labelPrefix: "quicv2 ", initialType: 1 };
  if (v >>> 8 === 0xff0000) {
    const d = v & 0xff;
    const salt = d <= 22 ? SALT.draft22 : d <= 28 ? SALT.draft23 : d <= 32 ? SALT.draft29 : SALT.v1;
    return { ...base, name: `draft-${d}`, family: "ietf", salt };
  }
  if (v === 0xfaceb001) return { ...base, name: "mvfst-22", family: "ietf", salt: SALT.draft22 };
  if (v === 0xfaceb002 || v === 0xfaceb00e)
    return { ...base, name: "mvfst-27", family: "ietf", salt: SALT.draft23 };
  const name = ascii(v);
  if (/^Q0[234][0-9]$/.test(name)) return { ...base, name, family: "gquic-plain", salt: null, tls: false };
  if (name === "Q050") return { ...base, name, family: "gquic-crypto", salt: SALT.q050, tls: false };
  if (name === "T050") return { ...base, name, family: "gquic-crypto", salt: SALT.t050 };
  if (name === "T051") return { ...base, name, family: "gquic-crypto", salt: SALT.t051 };
  return { ...base, name: `0x${v.toString(16).padStart(8, "0")}`, family: "unsupported", salt: null };
}

/**
 * HMAC keys (inner and outer states) of each salt: hashed once per salt, not once per flow
 * (a salt is the HKDF-Extract key of every flow of its versions).
 */
const saltKeys = new Map<Buffer, HmacKey>();

/** HKDF-Expand-Label infos (with the 0x01 counter) by label and length, built once each. */
const labelInfos = new Map<string, Buffer>();

function labelInfo(label: string, length: number): Buffer {
  const id = `${length} ${label}`;
  let info = labelInfos.get(id);
  if (info === undefined) {
    const full = Buffer.from(`tls13 ${label}`, "latin1");
    info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
    labelInfos.set(id, info);
  }
  return info;
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of at most 32 bytes. */
export function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  return expandLabelFrom(hmacKey(secret), label, length);
}

/** hkdfExpandLabel with the secret's HMAC key. */
function expandLabelFrom(key: HmacKey, label: string, length: number): Buffer {
  // info || 0x01: one HMAC block is enough for SHA-256 and length <= 32.
  return hmacSha256(key, labelInfo(label, length)).subarray(0, length);
}

export interface InitialKeys {
  initialSecret: Buffer;
  clientSecret: Buffer;
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
  /**
   * `key` as a KeyObject, made at its first use: node:crypto checks a Buffer key on every
   * cipher it creates (~12 µs a cipher on Node 24, most of an Initial's decryption), a
   * KeyObject at once.
   */
  keyObject?: KeyObject;
  /** `hp`'s AES round keys, made at their first use (header protection: aes-block.ts). */
  hpSchedule?: Uint32Array;
}

/** The client's Initial keys for a version and the client's first Destination Connection ID. */
export function quicInitialKeys(version: number | QuicVersion, dcid: Buffer): InitialKeys | null {
  const v = typeof version === "number" ? quicVersion(version) : version;
  if (!v.salt) return null;
  let salted = saltKeys.get(v.salt);
  if (salted === undefined) {
    salted = hmacKey(v.salt);
    saltKeys.set(v.salt, salted);
  }
  const initialSecret = hmacSha256(salted, dcid); // HKDF-Extract
  const infos = (infosByPrefix[v.labelPrefix] ??= {
    client: labelInfo("client in", 32),
    key: labelInfo(`${v.labelPrefix}key`, 16),
    iv: labelInfo(`${v.labelPrefix}iv`, 12),
    hp: labelInfo(`${v.labelPrefix}hp`, 16),
  });
  const clientSecret = hmacSha256(hmacKey(initialSecret), infos.client);
  // The three expansions share their key: it is hashed into a state once.
  const client = hmacKey(clientSecret);
  return {
    initialSecret,
    clientSecret,
    key: hmacSha256(client, infos.key).subarray(0, 16),
    iv: hmacSha256(client, infos.iv).subarray(0, 12),
    hp: hmacSha256(client, infos.hp).subarray(0, 16),
  };
}

/** The HKDF-Expand-Label infos of the Initial secrets, by label prefix ("quic ", "quicv2 "). */
const infosByPrefix: Record<string, { client: Buffer; key: Buffer; iv: Buffer; hp: Buffer }> = {};

/** A QUIC variable-length integer (RFC 9000 §16); null when truncated. */
export function readVarint(b: Buffer, off: number): { value: number; next: number } | null {
  if (off >= b.length) return null;
  const len = 1 << (b[off]! >> 6);
  if (off + len > b.length) return null;
  let v = b[off]! & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
  return { value: v, next: off + len };
}

interface LongHeader {
  first: number;
  version: number;
  type: number;
  dcid: Buffer;
  scid: Buffer;
  /** Offset of the packet number (after Length), for Initial packets. */
  pnOffset: number;
  /** End of this packet inside the datagram (coalesced packets follow). */
  end: number;
}

/** Parses an IETF-style long header at `off` (null when it is not one or is truncated). */
function parseLongHeader(d: Buffer, off: number, v: QuicVersion): LongHeader | null {
  if (d.length < off + 7) return null;
  const first = d[off]!;
  if ((first & 0x80) === 0) return null;
  const version = d.readUInt32BE(off + 1);
  let p = off + 5;
  const dcil = d[p++]!;
  if (dcil > 20 || d.length < p + dcil + 1) return null;
  const dcid = d.subarray(p, p + dcil);
  p += dcil;
  const scil = d[p++]!;
  if (scil > 20 || d.length < p + scil) return null;
  const scid = d.subarray(p, p + scil);
  p += scil;
  const type = (first >> 4) & 3;
  const retry = v.initialType === 0 ? 3 : 0;
  if (type === retry) return { first, version, type, dcid, scid, pnOffset: -1, end: d.length };
  if (type === v.initialType) {
    const tok = readVarint(d, p);
    if (!tok) return null;
    p = tok.next + tok.value;
  }
  const len = readVarint(d, p);
  if (!len) return null;
  const end = len.next + len.value;
  if (end > d.length) return null;
  return { first, version, type, dcid, scid, pnOffset: len.next, end };
}

let aadScratch = Buffer.allocUnsafeSlow(256);
const nonceScratch = Buffer.allocUnsafeSlow(12);
const maskScratch = new Uint8Array(16);

/** Removes header protection and decrypts one Initial packet; null when it does not authenticate. */
export function decryptInitial(
  d: Buffer,
  h: { first: number; pnOffset: number; end: number; start: number },
  keys: InitialKeys,
): Buffer | null {
  const { pnOffset, end, start } = h;
  if (pnOffset + 4 + 16 > end) return null;
  // The mask: AES-ECB of the 16-byte sample after the packet number's first 4 bytes, in
  // TypeScript (a node:crypto cipher per flow's key cost ~4-5 µs to set up).
  const mask = maskScratch;
  aes128EncryptBlock((keys.hpSchedule ??= aes128KeySchedule(keys.hp)), d, pnOffset + 4, mask);
  const first = h.first ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  // The unprotected header (the AAD) and the nonce go into scratch buffers: node:crypto
  // hands both to the cipher as it is set up, nothing keeps them.
  const headerLength = pnOffset + pnLen - start;
  if (aadScratch.length < headerLength) aadScratch = Buffer.allocUnsafeSlow(headerLength);
  const header = aadScratch.subarray(0, headerLength);
  d.copy(header, 0, start, pnOffset + pnLen);
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const b = d[pnOffset + i]! ^ mask[1 + i]!;
    header[pnOffset - start + i] = b;
    pn = pn * 256 + b;
  }
  const nonce = nonceScratch;
  keys.iv.copy(nonce);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  const ctEnd = end - 16;
  if (ctEnd <= pnOffset + pnLen) return null;
  try {
    const gcm = createDecipheriv("aes-128-gcm", (keys.keyObject ??= createSecretKey(keys.key)), nonce);
    gcm.setAAD(header);
    gcm.setAuthTag(d.subarray(ctEnd, end));
    // GCM's final() adds no bytes: it only checks the tag (and throws when it fails).
    const plain = gcm.update(d.subarray(pnOffset + pnLen, ctEnd));
    gcm.final();
    return plain;
  } catch {
    return null;
  }
}

/** CRYPTO stream data by offset, reassembled in order, bounded. */
export class CryptoReassembler {
  private chunks: { off: number; data: Buffer }[] = [];
  private bytes = 0;
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }
  /** `owned`: `data` is the caller's to give (a decrypted payload's view), kept uncopied. */
  add(off: number, data: Buffer, owned = false): void {
    if (data.length === 0 || off + data.length > this.maxBytes) return;
    if (this.chunks.some((c) => c.off <= off && c.off + c.data.length >= off + data.length)) return;
    this.chunks.push({ off, data: owned ? data : Buffer.from(data) });
    this.bytes += data.length;
  }
  /** The bytes contiguous from offset 0. */
  contiguous(): Buffer {
    const sorted = [...this.chunks].sort((a, b) => a.off - b.off);
    const parts: Buffer[] = [];
    let next = 0;
    for (const c of sorted) {
      if (c.off > next) break;
      const end = c.off + c.data.length;
      if (end <= next) continue;
      parts.push(c.data.subarray(next - c.off));
      next = end;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
  get size(): number {
    return this.bytes;
  }
}

/** Zero bytes to compare a run of PADDING frames with (an Initial is at most a datagram). */
const ZEROS = Buffer.alloc(2048);

/**
 * Walks the frames of a decrypted Initial payload, feeding CRYPTO frames; false on a frame
 * it cannot skip. `owned`: the payload is not used elsewhere, its CRYPTO data is kept as views.
 */
export function readIetfFrames(p: Buffer, crypto: CryptoReassembler, owned = false): boolean {
  let o = 0;
  const vi = () => {
    const r = readVarint(p, o);
    if (!r) throw new RangeError("truncated frame");
    o = r.next;
    return r.value;
  };
  try {
    while (o < p.length) {
      // PADDING (a one-byte 0x00) fills most of a client's Initial (to 1200 bytes): skipped
      // as a run, not read as a varint (an object) per byte.
      if (p[o] === 0x00) {
        // Mostly the rest of the packet: compared at once (memcmp) rather than read by byte;
        // else (padding before other frames) the run is stepped over.
        if (p.length - o <= ZEROS.length && p.compare(ZEROS, 0, p.length - o, o) === 0) return true;
        do o++;
        while (o < p.length && p[o] === 0x00);
        continue;
      }
      const type = vi();
      switch (type) {
        case 0x00: // PADDING
        case 0x01: // PING
          break;
        case 0x02:
        case 0x03: {
          // ACK: largest, delay, range count, first range, ranges, [ECN counts]
          vi();
          vi();
          const n = vi();
          vi();
          for (let i = 0; i < n; i++) {
            vi();
            vi();
          }
          if (type === 0x03) {
            vi();
            vi();
            vi();
          }
          break;
        }
        case 0x06: {
          const off = vi();
          const len = vi();
          if (o + len > p.length) return false;
          crypto.add(off, p.subarray(o, o + len), owned);
          o += len;
          break;
        }
        case 0x1c:
        case 0x1d: // CONNECTION_CLOSE: nothing after it matters
          return true;
        default:
          return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

export interface QuicHello {
  version: number;
  versionName: string;
  sni: string | null;
  alpn: string[];
  ech: boolean;
  /** gQUIC's UAID tag (the client's user agent), when present. */
  userAgent: string | null;
  /** The TLS ClientHello details (IETF versions and T05x). */
  tls: ClientHello | null;
}

export type QuicStatus =
  { status: "need-more" } | { status: "invalid"; reason: string } | { status: "done"; hello: QuicHello };

/** Parses a gQUIC CHLO message: its SNI and UAID tags. */
export function parseChlo(m: Buffer): { sni: string | null; userAgent: string | null } | null {
  if (m.length < 8 || m.toString("latin1", 0, 4) !== "CHLO") return null;
  const n = m.readUInt16LE(4);
  const base = 8 + 8 * n;
  if (base > m.length) return null;
  let prev = 0;
  let sni: string | null = null;
  let userAgent: string | null = null;
  for (let i = 0; i < n; i++) {
    const tag = m.toString("latin1", 8 + 8 * i, 12 + 8 * i);
    const end = m.readUInt32LE(12 + 8 * i);
    if (end < prev || base + end > m.length) break;
    if (tag === "SNI\0") sni = m.toString("latin1", base + prev, base + end);
    else if (tag === "UAID") userAgent = m.toString("latin1", base + prev, base + end);
    prev = end;
  }
  return { sni, userAgent };
}

/**
 * The client side of one QUIC connection: datagrams are stored as they come (a copy, cheap)
 * and dissected only when asked (`evaluate`), i.e. once the flow's pattern says QUIC.
 */
export class QuicDissector {
  private queue: Buffer[] = [];
  private queued = 0;
  private v: QuicVersion | null = null;
  private keys = new Map<string, InitialKeys | null>();
  private firstDcid: Buffer | null = null;
  private readonly crypto: CryptoReassembler;
  private state: QuicStatus = { status: "need-more" };
  readonly maxBytes: number;

  constructor(maxBytes = 8192) {
    this.maxBytes = maxBytes;
    this.crypto = new CryptoReassembler(maxBytes);
  }

  /**
   * Stores a client datagram; false once the byte budget is spent. `owned`: the caller
   * hands over a copy of its own (the flow's dissection state keeps one), no second copy.
   */
  push(datagram: Buffer, owned = false): boolean {
    if (this.state.status !== "need-more") return false;
    if (this.queued + datagram.length > this.maxBytes * 2) return false;
    this.queue.push(owned ? datagram : Buffer.from(datagram));
    this.queued += datagram.length;
    return true;
  }

  get budgetSpent(): boolean {
    return this.queued >= this.maxBytes * 2;
  }

  get status(): QuicStatus {
    return this.state;
  }

  /** Dissects the datagrams stored since the last call. */
  evaluate(): QuicStatus {
    while (this.queue.length && this.state.status === "need-more") {
      const d = this.queue.shift()!;
      this.state = this.datagram(d);
    }
    this.queue = [];
    return this.state;
  }

  private done(
    tls: ClientHello | null,
    extra: { sni?: string | null; userAgent?: string | null } = {},
  ): QuicStatus {
    const v = this.v!;
    return {
      status: "done",
      hello: {
        version: v.version,
        versionName: v.name,
        sni: extra.sni !== undefined ? extra.sni : (tls?.sni ?? null),
        alpn: tls?.alpn ?? [],
        ech: tls?.ech ?? false,
        userAgent: extra.userAgent ?? null,
        tls,
      },
    };
  }

  private datagram(d: Buffer): QuicStatus {
    if (d.length < 7) return { status: "need-more" };
    const first = d[0]!;
    let version: number;
    if (first & 0x80) version = d.readUInt32BE(1);
    else if (first & 0x01 && (first & 0x40) === 0 && d.length >= 13 && first & 0x08)
      version = d.readUInt32BE(9);
    else return { status: "need-more" }; // a short-header packet: not the client's first flight
    if (version === 0) return { status: "need-more" }; // version negotiation (from a server)
    if (!this.v) {
      this.v = quicVersion(version);
      if (this.v.family === "unsupported") return this.done(null);
    } else if (version !== this.v.version) {
      return { status: "need-more" };
    }
    const v = this.v;
    if (v.family === "gquic-plain") return this.gquicPlain(d, v);
    // IETF long header (also Q050/T05x): walk the coalesced packets.
    let off = 0;
    while (off < d.length) {
      if ((d[off]! & 0x80) === 0) break;
      const h = parseLongHeader(d, off, v);
      if (!h) break;
      if (h.type === v.initialType && h.pnOffset > 0 && h.dcid.length > 0) {
        const plain = this.decrypt(d, { ...h, start: off });
        if (plain) {
          if (v.family === "gquic-crypto") {
            const r = this.gquicCryptoFrames(plain, v);
            if (r) return r;
          } else {
            // The plaintext is this call's own (the decipher's output).
            readIetfFrames(plain, this.crypto, true);
            const hs = dissectHandshake(this.crypto.contiguous());
            if (hs.status === "done") return this.done(hs.hello);
            if (hs.status === "invalid") return { status: "invalid", reason: hs.reason };
          }
        }
      }
      if (h.end <= off) break;
      off = h.end;
    }
    return { status: "need-more" };
  }

  private decrypt(d: Buffer, h: LongHeader & { start: number }): Buffer | null {
    this.firstDcid ??= Buffer.from(h.dcid);
    // Keys come from the DCID of the client's first Initial, even after the server chose
    // another connection ID; after a Retry they come from the new DCID.
    const plain = this.decryptWith(this.firstDcid, d, h);
    if (plain !== undefined) return plain;
    // Another DCID (after a Retry): tried second, as before.
    return h.dcid.equals(this.firstDcid) ? null : (this.decryptWith(h.dcid, d, h) ?? null);
  }

  /** Decrypts with the keys of `dcid`: undefined when they do not authenticate it, null without keys. */
  private decryptWith(dcid: Buffer, d: Buffer, h: LongHeader & { start: number }): Buffer | null | undefined {
    const k = dcid.toString("hex");
    let keys = this.keys.get(k);
    if (keys === undefined) {
      keys = quicInitialKeys(this.v!, dcid);
      this.keys.set(k, keys);
    }
    if (!keys) return null;
    return decryptInitial(d, h, keys) ?? undefined;
  }

  /** Q050/T05x: after padding (and a possible ACK), a frame 0x08 carries the hello. */
  private gquicCryptoFrames(p: Buffer, v: QuicVersion): QuicStatus | null {
    let o = 0;
    while (o < p.length && p[o] === 0) o++;
    if (p[o] === 0x40 || p[o] === 0x60) o += p[o] === 0x40 ? 6 : 9;
    if (p[o] !== 0x08) return null;
    const id = readVarint(p, o + 1);
    if (!id) return null;
    const len = readVarint(p, id.next);
    if (!len || len.next + len.value > p.length) return null;
    const data = p.subarray(len.next, len.next + len.value);
    if (v.tls) {
      const hs = dissectHandshake(data);
      return hs.status === "done" ? this.done(hs.hello) : null;
    }
    const chlo = parseChlo(data);
    return chlo ? this.done(null, chlo) : null;
  }

  /** Q039-Q046: a plaintext CHLO in a stream frame on stream 1, after a 12-byte hash. */
  private gquicPlain(d: Buffer, v: QuicVersion): QuicStatus {
    const num = Number(v.name.slice(1));
    let o: number;
    if (num >= 46) {
      if (d[5] !== 0x50) return { status: "need-more" };
      o = 1 + 4 + 1 + 8 + 4 + 12;
    } else {
      const flags = d[0]!;
      const pnBits = (flags >> 4) & 3;
      o = 1 + (flags & 0x08 ? 8 : 0) + 4 + [1, 2, 4, 6][pnBits]! + 12 + (num < 34 ? 1 : 0);
    }
    while (o < d.length && d[o] === 0) o++;
    if (d[o] === 0x40 || d[o] === 0x60) o += d[o] === 0x40 ? 6 : 9;
    const t = d[o];
    if (t === undefined || (t & 0x80) === 0) return { status: "need-more" };
    const idLen = (t & 3) + 1;
    const ooo = (t >> 2) & 7;
    const offLen = ooo ? ooo + 1 : 0;
    o += 1;
    let id = 0;
    for (let i = 0; i < idLen; i++) id = id * 256 + (d[o + i] ?? 0);
    if (id !== 1) return { status: "need-more" };
    o += idLen + offLen;
    let len = d.length - o;
    if (t & 0x20) {
      if (o + 2 > d.length) return { status: "need-more" };
      len = num >= 39 ? d.readUInt16BE(o) : d.readUInt16LE(o);
      o += 2;
    }
    const chlo = parseChlo(d.subarray(o, Math.min(d.length, o + len)));
    if (!chlo) return { status: "need-more" };
    return this.done(null, chlo);
  }
}

/** Quick test on a client's first datagram: could it be a QUIC (IETF or gQUIC) long header? */
export function looksLikeQuic(d: Buffer): boolean {
  if (d.length < 13) return false;
  const first = d[0]!;
  if (first & 0x80) return (first & 0x40) !== 0 || d.readUInt32BE(1) !== 0 || d[1] === 0x51;
  return (first & 0x09) === 0x09 && (d[9] === 0x51 || d[9] === 0x54);
}
