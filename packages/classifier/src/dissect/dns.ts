// DNS message dissector (RFC 1035) and the address -> name cache it fills. A response's
// A and AAAA records are followed back through its CNAME chain to the name the client
// asked for, so a later connection to that address (a TLS flow without SNI, or with
// Encrypted Client Hello, a QUIC flow we could not read, a STUN flow...) gets the name its
// client looked up. Port-independent: the flow's pattern says it is DNS, not its port.

import { ipv6 } from "../capture/decode.ts";

export interface DnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** A/AAAA: the address as text; CNAME: the target name; other types: null. */
  data: string | null;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: { name: string; type: number }[];
  answers: DnsRecord[];
}

export const DNS_TYPE = { A: 1, CNAME: 5, AAAA: 28 } as const;

/**
 * A name's text is spelled into this scratch buffer and read out as one latin1 string: at
 * most 64 labels of 63 bytes and their dots.
 */
const nameScratch = Buffer.allocUnsafeSlow(64 * 64);

/** Each byte's lower case as `String.prototype.toLowerCase` gives it for latin1 text. */
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = String.fromCharCode(c).toLowerCase().charCodeAt(0);

/** Reads a possibly compressed name at `off`; returns the name (lower case) and the offset after it. */
function readName(b: Buffer, off: number): { name: string; next: number } {
  // Labels and their dots written into one scratch buffer, lowered by table, and read out
  // as one string: no string per label, no concatenation, no toLowerCase per name.
  let w = 0;
  let next = -1;
  let o = off;
  for (let hops = 0; hops < 64; hops++) {
    if (o >= b.length) throw new RangeError("DNS name truncated");
    const len = b[o]!;
    if (len === 0) {
      if (next < 0) next = o + 1;
      return { name: w === 0 ? "" : nameScratch.toString("latin1", 0, w), next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= b.length) throw new RangeError("DNS pointer truncated");
      if (next < 0) next = o + 2;
      o = ((len & 0x3f) << 8) | b[o + 1]!;
      continue;
    }
    if (len > 63 || o + 1 + len > b.length) throw new RangeError("DNS label truncated");
    if (w !== 0) nameScratch[w++] = 0x2e;
    for (let i = o + 1; i <= o + len; i++) nameScratch[w++] = LOWER[b[i]!]!;
    o += 1 + len;
  }
  throw new RangeError("DNS name: too many labels or a pointer loop");
}

/** Parses a DNS message (UDP payload, or one message of a TCP stream without its length). */
export function parseDnsMessage(b: Buffer): DnsMessage | null {
  if (b.length < 12) return null;
  try {
    const flags = b.readUInt16BE(2);
    const qd = b.readUInt16BE(4);
    const an = b.readUInt16BE(6);
    if (qd > 16 || an > 256) return null;
    const msg: DnsMessage = {
      id: b.readUInt16BE(0),
      response: (flags & 0x8000) !== 0,
      opcode: (flags >> 11) & 0xf,
      rcode: flags & 0xf,
      questions: [],
      answers: [],
    };
    let o = 12;
    for (let i = 0; i < qd; i++) {
      const n = readName(b, o);
      if (n.next + 4 > b.length) return null;
      msg.questions.push({ name: n.name, type: b.readUInt16BE(n.next) });
      o = n.next + 4;
    }
    for (let i = 0; i < an; i++) {
      const n = readName(b, o);
      if (n.next + 10 > b.length) break;
      const type = b.readUInt16BE(n.next);
      const ttl = b.readUInt32BE(n.next + 4);
      const rdlen = b.readUInt16BE(n.next + 8);
      const rd = n.next + 10;
      if (rd + rdlen > b.length) break;
      let data: string | null = null;
      if (type === DNS_TYPE.A && rdlen === 4) data = `${b[rd]}.${b[rd + 1]}.${b[rd + 2]}.${b[rd + 3]}`;
      else if (type === DNS_TYPE.AAAA && rdlen === 16) data = ipv6(b.subarray(rd, rd + 16));
      else if (type === DNS_TYPE.CNAME) data = readName(b, rd).name;
      msg.answers.push({ name: n.name, type, ttl, data });
      o = rd + rdlen;
    }
    return msg;
  } catch {
    return null;
  }
}

/**
 * The address -> name pairs a response teaches: every A/AAAA answer, named after the
 * question its CNAME chain starts from (the name the client looked up).
 */
export function addressNames(msg: DnsMessage): { address: string; name: string; ttl: number }[] {
  if (!msg.response || msg.rcode !== 0) return [];
  const cnameOf = new Map<string, string>(); // alias target -> owner
  for (const a of msg.answers) if (a.type === DNS_TYPE.CNAME && a.data) cnameOf.set(a.data, a.name);
  const asked = new Set(msg.questions.map((q) => q.name));
  const out: { address: string; name: string; ttl: number }[] = [];
  for (const a of msg.answers) {
    if ((a.type !== DNS_TYPE.A && a.type !== DNS_TYPE.AAAA) || !a.data) continue;
    let name = a.name;
    for (let hops = 0; hops < 16 && !asked.has(name); hops++) {
      const owner = cnameOf.get(name);
      if (owner === undefined) break;
      name = owner;
    }
    out.push({ address: a.data, name, ttl: a.ttl });
  }
  return out;
}

export interface DnsCacheOptions {
  /** Addresses remembered at most (least recently used go first). */
  maxEntries: number;
  /** Seconds added to every record's TTL (clients keep using an address a little past it). */
  graceSeconds: number;
  /** Upper bound on a record's lifetime in seconds. */
  maxTtl: number;
}

export const DEFAULT_DNS_CACHE: DnsCacheOptions = { maxEntries: 16384, graceSeconds: 0, maxTtl: 86400 };

interface CacheEntry {
  name: string;
  expires: number;
}

/** Bounded LRU map from an address to the name last looked up for it, with TTLs. */
export class DnsCache {
  readonly options: DnsCacheOptions;
  private readonly map = new Map<string, CacheEntry>();
  /** Responses learned from, and address lookups answered (for stats). */
  learned = 0;
  hits = 0;

  constructor(options: Partial<DnsCacheOptions> = {}) {
    this.options = { ...DEFAULT_DNS_CACHE, ...options };
    if (this.options.maxEntries < 1) throw new RangeError("maxEntries must be at least 1");
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Remembers that `address` is `name` until now + ttl (seconds): for everyone, and, when
   * `client` is given, for that client (a CDN address serves many names; the one a client
   * looked up is the name of its next connection there).
   */
  set(address: string, name: string, ttl: number, now: number, client?: string | null): void {
    const life = Math.min(Math.max(0, ttl), this.options.maxTtl) + this.options.graceSeconds;
    this.put(address, { name, expires: now + life });
    if (client) this.put(`${client}>${address}`, { name, expires: now + life });
  }

  private put(key: string, e: CacheEntry): void {
    this.map.delete(key);
    this.map.set(key, e);
    while (this.map.size > this.options.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  /**
   * The name of `address` at time `now`: the one `client` looked up when known, else the
   * last one anybody looked up; null when unknown or expired.
   */
  get(address: string, now: number, client?: string | null): string | null {
    const own = client ? this.lookup(`${client}>${address}`, now) : null;
    return own ?? this.lookup(address, now);
  }

  private lookup(key: string, now: number): string | null {
    const e = this.map.get(key);
    if (!e) return null;
    if (now > e.expires) {
      this.map.delete(key);
      return null;
    }
    this.map.delete(key); // LRU: touch
    this.map.set(key, e);
    this.hits++;
    return e.name;
  }

  /** Learns from a DNS message (sent to `client`, when known); returns how many addresses it named. */
  learn(msg: DnsMessage, now: number, client?: string | null): number {
    const pairs = addressNames(msg);
    for (const p of pairs) this.set(p.address, p.name, p.ttl, now, client);
    if (pairs.length) this.learned++;
    return pairs.length;
  }

  clear(): void {
    this.map.clear();
  }
}

/** Quick test on a flow's first payload: could it be a DNS message (UDP, or TCP with its length)? */
export function looksLikeDnsMessage(b: Buffer, tcp: boolean): boolean {
  const o = tcp ? 2 : 0;
  if (b.length < o + 17) return false;
  const flags = b.readUInt16BE(o + 2);
  return ((flags >> 11) & 0xf) === 0 && b.readUInt16BE(o + 4) === 1;
}
