// TLS ClientHello dissector (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the server name (SNI,
// RFC 6066), ALPN (RFC 7301), the legacy and supported versions, and whether the hello
// carries an Encrypted Client Hello (extension 0xfe0d): then its SNI is the outer, public
// name. Pure functions over raw bytes: the client's reassembled TCP stream (records), or
// a bare handshake message (QUIC CRYPTO frames carry no record layer).

export interface ClientHello {
  /** The server_name extension's host name, as sent (null when absent). */
  sni: string | null;
  /** ALPN protocol names, in the client's order (empty when absent). */
  alpn: string[];
  /** legacy_version of the hello (0x0303 for TLS 1.2 and 1.3). */
  legacyVersion: number;
  /** supported_versions (TLS 1.3), GREASE values removed; empty when absent. */
  supportedVersions: number[];
  /** The highest version offered: max(supportedVersions) or legacyVersion. */
  maxVersion: number;
  /** An Encrypted Client Hello extension is present: `sni` is the public (outer) name. */
  ech: boolean;
}

export type HelloStatus =
  /** More bytes are needed (the hello is not complete yet). */
  | { status: "need-more" }
  /** The bytes are not a TLS handshake starting with a ClientHello. */
  | { status: "invalid"; reason: string }
  | { status: "done"; hello: ClientHello };

const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
const EXT_SUPPORTED_VERSIONS = 0x002b;
export const EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d;

/** GREASE values (RFC 8701) have the form 0x?a?a. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** Version numbers the way people say them. */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0300:
      return "SSLv3";
    case 0x0301:
      return "TLSv1.0";
    case 0x0302:
      return "TLSv1.1";
    case 0x0303:
      return "TLSv1.2";
    case 0x0304:
      return "TLSv1.3";
    default:
      return v >> 8 === 0x7f ? `TLSv1.3-draft${v & 0xff}` : `0x${v.toString(16).padStart(4, "0")}`;
  }
}

/**
 * Dissects the client's TCP stream from its first byte: TLS records of type handshake (22)
 * whose payloads are concatenated until the first handshake message (a ClientHello) is
 * complete, however many records and TCP segments it spans.
 */
export function dissectTlsStream(stream: Buffer): HelloStatus {
  let off = 0;
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1; // handshake message length incl. its 4-byte header, once known
  while (need < 0 || have < need) {
    if (stream.length < off + 5) return { status: "need-more" };
    const type = stream[off]!;
    if (type !== 22) {
      return { status: "invalid", reason: `record type ${type}, not handshake` };
    }
    if (stream[off + 1] !== 3) return { status: "invalid", reason: "record version is not 3.x" };
    const len = stream.readUInt16BE(off + 3);
    if (len === 0 || len > 16384 + 2048) return { status: "invalid", reason: `record length ${len}` };
    const end = off + 5 + len;
    const frag = stream.subarray(off + 5, Math.min(end, stream.length));
    fragments.push(frag);
    have += frag.length;
    if (need < 0 && have >= 4) {
      const head = fragments.length === 1 ? frag : Buffer.concat(fragments);
      if (head[0] !== 1) return { status: "invalid", reason: `handshake type ${head[0]}, not ClientHello` };
      need = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
    }
    if (end > stream.length) {
      if (need >= 0 && have >= need) break; // the hello ends inside this partial record
      return { status: "need-more" };
    }
    off = end;
  }
  const msg = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
  return parseHandshake(msg.subarray(0, need));
}

/**
 * Dissects a bare handshake message (type, 24-bit length, body), e.g. the reassembled
 * CRYPTO stream of a QUIC Initial.
 */
export function dissectHandshake(msg: Buffer): HelloStatus {
  if (msg.length < 4) return { status: "need-more" };
  if (msg[0] !== 1) return { status: "invalid", reason: `handshake type ${msg[0]}, not ClientHello` };
  const need = 4 + ((msg[1]! << 16) | (msg[2]! << 8) | msg[3]!);
  if (msg.length < need) return { status: "need-more" };
  return parseHandshake(msg.subarray(0, need));
}

function parseHandshake(msg: Buffer): HelloStatus {
  try {
    return { status: "done", hello: parseClientHelloBody(msg.subarray(4)) };
  } catch (e) {
    return { status: "invalid", reason: (e as Error).message };
  }
}

class Reader {
  off = 0;
  readonly b: Buffer;
  constructor(b: Buffer) {
    this.b = b;
  }
  need(n: number): void {
    if (this.off + n > this.b.length) throw new RangeError(`ClientHello truncated at byte ${this.off}`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.off++]!;
  }
  u16(): number {
    this.need(2);
    // By hand: Buffer's readUInt16BE checks its arguments at a cost in allocations.
    const v = (this.b[this.off]! << 8) | this.b[this.off + 1]!;
    this.off += 2;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  get left(): number {
    return this.b.length - this.off;
  }
}

/** Parses a ClientHello body (after the 4-byte handshake header). Throws when malformed. */
export function parseClientHelloBody(body: Buffer): ClientHello {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  r.bytes(32); // random
  r.bytes(r.u8()); // legacy_session_id
  r.bytes(r.u16()); // cipher_suites
  r.bytes(r.u8()); // legacy_compression_methods
  const hello: ClientHello = {
    sni: null,
    alpn: [],
    legacyVersion,
    supportedVersions: [],
    maxVersion: legacyVersion,
    ech: false,
  };
  if (r.left === 0) return hello; // no extensions (SSLv3-era hello)
  // The extensions by offsets into the body, bounds checked as the Reader does: no
  // Reader and no Buffer view per extension (a hello has 10-20 of them).
  const b = body;
  const extLen = r.u16();
  const extEnd = r.off + extLen;
  r.need(extLen);
  let o = r.off;
  const within = (from: number, n: number, end: number): number => {
    if (from + n > end) throw new RangeError(`ClientHello truncated at byte ${from}`);
    return from + n;
  };
  while (extEnd - o >= 4) {
    const type = (b[o]! << 8) | b[o + 1]!;
    const len = (b[o + 2]! << 8) | b[o + 3]!;
    const d = o + 4;
    const dEnd = within(d, len, extEnd);
    o = dEnd;
    switch (type) {
      case EXT_SERVER_NAME: {
        within(d, 2, dEnd);
        const listEnd = within(d + 2, (b[d]! << 8) | b[d + 1]!, dEnd);
        let l = d + 2;
        while (listEnd - l >= 3) {
          const nameType = b[l]!;
          const nameLen = (b[l + 1]! << 8) | b[l + 2]!;
          const nameEnd = within(l + 3, nameLen, listEnd);
          if (nameType === 0 && hello.sni === null) hello.sni = b.toString("latin1", l + 3, nameEnd);
          l = nameEnd;
        }
        break;
      }
      case EXT_ALPN: {
        within(d, 2, dEnd);
        const listEnd = within(d + 2, (b[d]! << 8) | b[d + 1]!, dEnd);
        let l = d + 2;
        while (listEnd - l >= 1) {
          const end = within(l + 1, b[l]!, listEnd);
          hello.alpn.push(b.toString("latin1", l + 1, end));
          l = end;
        }
        break;
      }
      case EXT_SUPPORTED_VERSIONS: {
        within(d, 1, dEnd);
        const listEnd = within(d + 1, b[d]!, dEnd);
        for (let l = d + 1; listEnd - l >= 2; l += 2) {
          const v = (b[l]! << 8) | b[l + 1]!;
          if (!isGrease(v)) hello.supportedVersions.push(v);
        }
        break;
      }
      case EXT_ENCRYPTED_CLIENT_HELLO:
        hello.ech = true;
        break;
    }
  }
  if (hello.supportedVersions.length) hello.maxVersion = Math.max(...hello.supportedVersions);
  return hello;
}

/** Builds a ClientHello handshake message (tests, benchmarks): the given extensions, in order. */
export function buildClientHello(opts: {
  sni?: string;
  alpn?: string[];
  versions?: number[];
  ech?: boolean;
  /** Extra bytes of padding extension (21), to make the hello span segments. */
  padding?: number;
}): Buffer {
  const exts: Buffer[] = [];
  const ext = (type: number, data: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(data.length, 2);
    exts.push(h, data);
  };
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  if (opts.sni !== undefined) {
    const name = Buffer.from(opts.sni, "latin1");
    ext(EXT_SERVER_NAME, Buffer.concat([u16(name.length + 3), Buffer.from([0]), u16(name.length), name]));
  }
  if (opts.alpn) {
    const list = Buffer.concat(
      opts.alpn.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])),
    );
    ext(EXT_ALPN, Buffer.concat([u16(list.length), list]));
  }
  if (opts.versions) {
    ext(
      EXT_SUPPORTED_VERSIONS,
      Buffer.concat([Buffer.from([opts.versions.length * 2]), ...opts.versions.map(u16)]),
    );
  }
  if (opts.ech) ext(EXT_ENCRYPTED_CLIENT_HELLO, Buffer.from([0, 0, 1, 0, 1, 0x2a, 0, 0, 0, 0])); // outer, stub
  if (opts.padding) ext(21, Buffer.alloc(opts.padding));
  const extensions = Buffer.concat(exts);
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 0x11),
    Buffer.from([32]),
    Buffer.alloc(32, 0x22),
    u16(4),
    u16(0x1301),
    u16(0x1302),
    Buffer.from([1, 0]),
    u16(extensions.length),
    extensions,
  ]);
  const head = Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]);
  return Buffer.concat([head, body]);
}

/** Wraps a handshake message in TLS records of at most `maxRecord` bytes each. */
export function tlsRecords(handshake: Buffer, maxRecord = 16384): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < handshake.length; off += maxRecord) {
    const frag = handshake.subarray(off, off + maxRecord);
    out.push(Buffer.from([22, 3, 1, frag.length >> 8, frag.length & 0xff]), frag);
  }
  return Buffer.concat(out);
}
