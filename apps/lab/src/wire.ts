// Wire formats the lab's servers and generators speak: DNS, SSH transport framing,
// BitTorrent peer wire, RTP. Real formats, so Sluice's classifier sees the real thing.

import { randomBytes } from "node:crypto";
import { isIPv6 } from "node:net";

// ---------------------------------------------------------------- DNS (RFC 1035, 3596)

export const DNS_TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, ANY: 255 } as const;
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

export interface DnsQuestion {
  name: string;
  type: number;
  cls: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  data: Buffer;
}

export interface DnsMessage {
  id: number;
  flags: number;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.replace(/\.$/, "").split(".")) {
    if (!label) continue;
    const b = Buffer.from(label, "ascii");
    if (b.length > 63) throw new Error(`DNS label too long: ${label}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it. */
function decodeName(msg: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; ; hops++) {
    if (hops > 64 || off >= msg.length) throw new Error("bad DNS name");
    const len = msg[off]!;
    if (len === 0) {
      off += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length) throw new Error("bad DNS pointer");
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | msg[off + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0 || off + 1 + len > msg.length) throw new Error("bad DNS label");
    labels.push(msg.toString("ascii", off + 1, off + 1 + len));
    off += 1 + len;
  }
  return [labels.join("."), end >= 0 ? end : off];
}

export function encodeDnsQuery(id: number, name: string, type: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2); // IN
  return Buffer.concat([h, encodeName(name), q]);
}

export function parseDnsMessage(msg: Buffer): DnsMessage {
  if (msg.length < 12) throw new Error("DNS message shorter than its header");
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let off = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const [name, next] = decodeName(msg, off);
    if (next + 4 > msg.length) throw new Error("truncated DNS question");
    questions.push({ name, type: msg.readUInt16BE(next), cls: msg.readUInt16BE(next + 2) });
    off = next + 4;
  }
  const answers: DnsRecord[] = [];
  for (let i = 0; i < an; i++) {
    const [name, next] = decodeName(msg, off);
    if (next + 10 > msg.length) throw new Error("truncated DNS record");
    const rdlen = msg.readUInt16BE(next + 8);
    if (next + 10 + rdlen > msg.length) throw new Error("truncated DNS rdata");
    answers.push({
      name,
      type: msg.readUInt16BE(next),
      cls: msg.readUInt16BE(next + 2),
      ttl: msg.readUInt32BE(next + 4),
      data: msg.subarray(next + 10, next + 10 + rdlen),
    });
    off = next + 10 + rdlen;
  }
  return { id, flags, rcode: flags & 0xf, questions, answers };
}

/** 16 bytes of an IPv6 address (`::` expanded). */
export function ipv6Bytes(addr: string): Buffer {
  if (!isIPv6(addr)) throw new Error(`not an IPv6 address: ${addr}`);
  const [head, tail] = addr.includes("::") ? addr.split("::") : [addr, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || "0", 16), i * 2));
  return out;
}

export function formatIpv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** The answer's address, for A/AAAA records. */
export function recordAddress(r: DnsRecord): string | null {
  if (r.type === DNS_TYPE.A && r.data.length === 4) return [...r.data].join(".");
  if (r.type === DNS_TYPE.AAAA && r.data.length === 16) return formatIpv6(r.data);
  return null;
}

/**
 * Answers a query from `zone` (lower-case fqdn → addresses). Authoritative; NXDOMAIN for
 * names outside it; an empty NOERROR for other types of known names; FORMERR for junk
 * with a readable header. Returns null when there is nothing to answer.
 */
export function answerDnsQuery(
  query: Buffer,
  zone: ReadonlyMap<string, { a: readonly string[]; aaaa: readonly string[] }>,
  ttl = 60,
): Buffer | null {
  if (query.length < 12) return null;
  const id = query.readUInt16BE(0);
  const qflags = query.readUInt16BE(2);
  if (qflags & 0x8000) return null; // a response: ignore
  const header = (rcode: number, qd: number, an: number) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(0x8000 | (qflags & 0x7800) | 0x0400 | (qflags & 0x0100) | 0x0080 | rcode, 2);
    h.writeUInt16BE(qd, 4);
    h.writeUInt16BE(an, 6);
    return h;
  };
  let q: DnsQuestion;
  let qEnd: number;
  try {
    if (query.readUInt16BE(4) !== 1) throw new Error("one question expected");
    const [name, next] = decodeName(query, 12);
    if (next + 4 > query.length) throw new Error("truncated question");
    q = { name, type: query.readUInt16BE(next), cls: query.readUInt16BE(next + 2) };
    qEnd = next + 4;
  } catch {
    return header(DNS_RCODE.FORMERR, 0, 0);
  }
  const opcode = (qflags >> 11) & 0xf;
  const question = query.subarray(12, qEnd);
  if (opcode !== 0) return Buffer.concat([header(DNS_RCODE.NOTIMP, 1, 0), question]);
  const entry = zone.get(q.name.toLowerCase());
  if (!entry) return Buffer.concat([header(DNS_RCODE.NXDOMAIN, 1, 0), question]);
  const rdatas: [number, Buffer][] = [];
  if (q.type === DNS_TYPE.A || q.type === DNS_TYPE.ANY) {
    for (const a of entry.a) rdatas.push([DNS_TYPE.A, Buffer.from(a.split(".").map(Number))]);
  }
  if (q.type === DNS_TYPE.AAAA || q.type === DNS_TYPE.ANY) {
    for (const a of entry.aaaa) rdatas.push([DNS_TYPE.AAAA, ipv6Bytes(a)]);
  }
  const answers = rdatas.map(([type, data]) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header(DNS_RCODE.NOERROR, 1, answers.length), question, ...answers]);
}

// ---------------------------------------------------------------- SSH (RFC 4253)

export const SSH_SERVER_BANNER = "SSH-2.0-OpenSSH_9.2p1 Debian-2";
export const SSH_CLIENT_BANNER = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3";
export const SSH_MSG = { KEXINIT: 20, NEWKEYS: 21, KEX_ECDH_INIT: 30, KEX_ECDH_REPLY: 31 } as const;

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === "string" ? Buffer.from(b, "ascii") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/** An unencrypted binary packet: uint32 length, padding length, payload, random padding. */
export function sshPacket(payload: Buffer): Buffer {
  let pad = 8 - ((5 + payload.length) % 8);
  if (pad < 4) pad += 8;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(1 + payload.length + pad, 0);
  head[4] = pad;
  return Buffer.concat([head, payload, randomBytes(pad)]);
}

/** SSH_MSG_KEXINIT with OpenSSH 9.2's algorithm lists. */
export function sshKexinit(server: boolean): Buffer {
  const kex =
    "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org," +
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256," +
    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256" +
    (server ? ",kex-strict-s-v00@openssh.com" : ",ext-info-c,kex-strict-c-v00@openssh.com");
  const hostKey = server
    ? "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519"
    : "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-ed25519," +
      "ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256";
  const ciphers =
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com";
  const macs =
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com," +
    "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,hmac-sha2-256,hmac-sha2-512";
  const comp = server ? "none,zlib@openssh.com" : "none,zlib@openssh.com,zlib";
  return sshPacket(
    Buffer.concat([
      Buffer.from([SSH_MSG.KEXINIT]),
      randomBytes(16),
      ...[kex, hostKey, ciphers, ciphers, macs, macs, comp, comp, "", ""].map((s) => sshString(s)),
      Buffer.from([0, 0, 0, 0, 0]), // first_kex_packet_follows, reserved
    ]),
  );
}

/** Client's SSH_MSG_KEX_ECDH_INIT (a 32-byte curve25519 public key). */
export function sshKexEcdhInit(): Buffer {
  return sshPacket(Buffer.concat([Buffer.from([SSH_MSG.KEX_ECDH_INIT]), sshString(randomBytes(32))]));
}

/** Server's SSH_MSG_KEX_ECDH_REPLY: host key blob, ephemeral key, signature. */
export function sshKexEcdhReply(): Buffer {
  const hostKey = Buffer.concat([sshString("ssh-ed25519"), sshString(randomBytes(32))]);
  const sig = Buffer.concat([sshString("ssh-ed25519"), sshString(randomBytes(64))]);
  return sshPacket(
    Buffer.concat([
      Buffer.from([SSH_MSG.KEX_ECDH_REPLY]),
      sshString(hostKey),
      sshString(randomBytes(32)),
      sshString(sig),
    ]),
  );
}

export function sshNewkeys(): Buffer {
  return sshPacket(Buffer.from([SSH_MSG.NEWKEYS]));
}

/**
 * A post-NEWKEYS packet as aes256-gcm@openssh.com frames it: the uint32 length in the
 * clear, then `length` bytes of ciphertext (a multiple of 16) and a 16-byte tag.
 */
export function sshEncryptedPacket(payloadLen: number): Buffer {
  const len = Math.max(16, Math.ceil((payloadLen + 5) / 16) * 16);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(len, 0);
  return Buffer.concat([head, randomBytes(len + 16)]);
}

export const SSH_MAX_PACKET = 256 * 1024;

// ---------------------------------------------------------------- BitTorrent (BEP 3)

export const BT_PROTOCOL = "BitTorrent protocol";
export const BT_MSG = {
  CHOKE: 0,
  UNCHOKE: 1,
  INTERESTED: 2,
  NOT_INTERESTED: 3,
  HAVE: 4,
  BITFIELD: 5,
  REQUEST: 6,
  PIECE: 7,
  CANCEL: 8,
} as const;
export const BT_HANDSHAKE_LEN = 68;
export const BT_BLOCK = 16 * 1024;

/** `\x13BitTorrent protocol`, 8 reserved bytes (extension + DHT + fast bits), hash, id. */
export function btHandshake(infoHash: Buffer, peerId: Buffer): Buffer {
  const reserved = Buffer.from([0, 0, 0, 0, 0, 0x10, 0, 0x05]);
  return Buffer.concat([
    Buffer.from([BT_PROTOCOL.length]),
    Buffer.from(BT_PROTOCOL),
    reserved,
    infoHash,
    peerId,
  ]);
}

export function parseBtHandshake(b: Buffer): { infoHash: Buffer; peerId: Buffer } {
  if (b.length !== BT_HANDSHAKE_LEN || b[0] !== 19 || b.toString("latin1", 1, 20) !== BT_PROTOCOL) {
    throw new Error("not a BitTorrent handshake");
  }
  return { infoHash: b.subarray(28, 48), peerId: b.subarray(48, 68) };
}

/** A peer-wire message: uint32 length, id, payload. */
export function btMessage(id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(1 + payload.length, 0);
  h[4] = id;
  return Buffer.concat([h, payload]);
}

export function btRequest(index: number, begin: number, length: number): Buffer {
  const p = Buffer.alloc(12);
  p.writeUInt32BE(index, 0);
  p.writeUInt32BE(begin, 4);
  p.writeUInt32BE(length, 8);
  return btMessage(BT_MSG.REQUEST, p);
}

export function btPieceHeader(index: number, begin: number, blockLen: number): Buffer {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(9 + blockLen, 0);
  h[4] = BT_MSG.PIECE;
  h.writeUInt32BE(index, 5);
  h.writeUInt32BE(begin, 9);
  return h;
}

/** A peer id in Azureus style, e.g. `-qB4650-` + 12 random characters. */
export function btPeerId(prefix: string): Buffer {
  const chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let s = prefix;
  while (s.length < 20) s += chars[Math.floor(Math.random() * chars.length)];
  return Buffer.from(s, "latin1");
}

// ---------------------------------------------------------------- RTP (RFC 3550)

export const RTP_PCMU = 0;
export const RTP_PAYLOAD = 160; // 20 ms of 8 kHz G.711

export function rtpPacket(
  seq: number,
  timestamp: number,
  ssrc: number,
  payload: Buffer,
  marker = false,
): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80; // V=2, no padding/extension/CSRC
  h[1] = (marker ? 0x80 : 0) | RTP_PCMU;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

export function parseRtp(
  b: Buffer,
): { pt: number; seq: number; ts: number; ssrc: number; payload: Buffer } | null {
  if (b.length < 12 || b[0]! >> 6 !== 2) return null;
  const cc = b[0]! & 0x0f;
  const start = 12 + cc * 4;
  if (b.length < start) return null;
  return {
    pt: b[1]! & 0x7f,
    seq: b.readUInt16BE(2),
    ts: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(start),
  };
}

// ---------------------------------------------------------------- rsync daemon greeting

export const RSYNC_GREETING = "@RSYNCD: 31.0";
