// Per-flow dissection inside the inspection window: the raw bytes (NULs kept) of each
// direction are kept, bounded, from the first packet when a dissector could apply, and the
// dissector that fits the flow's matched pattern reads them: TLS (ssl), QUIC (quic), HTTP
// (http, http2, httpconnect, websocket), DNS (dns). The pattern decides the protocol; the
// dissector adds the host name and details, and may hold the verdict until what it reads
// is complete (a ClientHello over several segments or Initial packets, a header block),
// never past the window.

import { dissectTlsStream, tlsVersionName } from "../dissect/tls.ts";
import { QuicDissector, looksLikeQuic } from "../dissect/quic.ts";
import { dissectHttpStream, looksLikeHttp } from "../dissect/http.ts";
import { parseDnsMessage, looksLikeDnsMessage, type DnsCache } from "../dissect/dns.ts";

export type DissectorKind = "tls" | "quic" | "http" | "dns";

/** Which dissector reads the flows of a pattern (by pattern name). */
export const DISSECTOR_OF_PROTOCOL: Readonly<Record<string, DissectorKind>> = {
  ssl: "tls",
  tls: "tls",
  quic: "quic",
  http: "http",
  http2: "http",
  httpconnect: "http",
  websocket: "http",
  dns: "dns",
};

export type HostnameSource = "sni" | "quic-sni" | "http-host" | "dns-cache" | "dns-query";

/** What the dissectors read in a flow (the parts that apply). */
export interface FlowL7 {
  tls?: {
    sni: string | null;
    alpn: string[];
    /** Highest version offered, e.g. "TLSv1.3". */
    version: string;
    legacyVersion: string;
    supportedVersions: string[];
    ech: boolean;
  };
  quic?: {
    /** "v1", "v2", "draft-29", "mvfst-27", "Q046", "T051", ... */
    version: string;
    sni: string | null;
    alpn: string[];
    ech: boolean;
    userAgent: string | null;
  };
  http?: {
    version: "1.0" | "1.1" | "2";
    method: string | null;
    host: string | null;
    userAgent: string | null;
  };
  dns?: {
    /** The first question's name. */
    query: string | null;
    /** Addresses learned into the DNS cache from this flow's responses. */
    learned: number;
  };
}

const KIND_BIT: Readonly<Record<DissectorKind, number>> = { tls: 1, http: 2, quic: 4, dns: 8 };

/**
 * The dissectors that could read a flow, from the first bytes its client sent (a bit per
 * kind, see KIND_BIT); 0: none could, and the flow needs no dissection state at all.
 */
export function dissectorCandidates(l4: "tcp" | "udp", first: Buffer): number {
  let bits = 0;
  if (l4 === "tcp") {
    if (first[0] === 0x16) bits |= KIND_BIT.tls;
    else if (looksLikeHttp(first)) bits |= KIND_BIT.http;
    if (looksLikeDnsMessage(first, true)) bits |= KIND_BIT.dns;
  } else {
    if (looksLikeQuic(first)) bits |= KIND_BIT.quic;
    if (looksLikeDnsMessage(first, false)) bits |= KIND_BIT.dns;
  }
  return bits;
}

export class FlowDissection {
  readonly l4: "tcp" | "udp";
  readonly maxBytes: number;
  /** Bits of KIND_BIT: the dissectors the client's first bytes allow. */
  private candidates = 0;
  private sniffed = false;
  private c2s: Buffer[] = [];
  c2sBytes = 0;
  private s2c: Buffer[] = [];
  s2cBytes = 0;
  private quic: QuicDissector | null = null;
  private quicFed = 0;
  /** The dissector chosen by the matched pattern (null: none applies). */
  active: DissectorKind | null = null;
  l7: FlowL7 = {};
  hostname: string | null = null;
  hostnameSource: HostnameSource | null = null;
  private dnsDone = false;

  /**
   * `candidates`: already sniffed from the client's first bytes (dissectorCandidates);
   * undefined: sniffed from the first client chunk fed.
   */
  constructor(l4: "tcp" | "udp", maxBytes: number, candidates?: number) {
    this.l4 = l4;
    this.maxBytes = maxBytes;
    if (candidates !== undefined) {
      this.candidates = candidates;
      this.sniffed = true;
    }
  }

  /** Stores the raw bytes of one packet (a UDP datagram, or the in-order TCP bytes it released). */
  feed(direction: "c2s" | "s2c", chunks: Buffer[]): void {
    if (chunks.length === 0) return;
    if (direction === "c2s" && !this.sniffed) {
      this.sniffed = true;
      this.candidates = dissectorCandidates(this.l4, chunks[0]!);
    }
    if (this.candidates === 0) return;
    if (direction === "c2s") {
      if (!this.wantsC2S()) return;
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        if (this.c2sBytes >= this.maxBytes) break;
        const part =
          c.length + this.c2sBytes > this.maxBytes ? c.subarray(0, this.maxBytes - this.c2sBytes) : c;
        this.c2s.push(Buffer.from(part));
        this.c2sBytes += part.length;
      }
    } else if (this.candidates & KIND_BIT.dns && this.active === null) {
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        if (this.s2cBytes + c.length > this.maxBytes) break;
        this.s2c.push(Buffer.from(c));
        this.s2cBytes += c.length;
      }
    }
  }

  private wantsC2S(): boolean {
    return this.candidates !== 0;
  }

  /** Whether the raw budget of the client's direction is spent. */
  get budgetSpent(): boolean {
    return this.c2sBytes >= this.maxBytes;
  }

  /**
   * Chooses the dissector for the matched pattern and reads what is there. Returns true
   * when the dissector is done (or none applies): the flow can be decided. With `final`,
   * no more bytes will come and the dissector says what it can.
   */
  evaluate(protocol: string, final: boolean): boolean {
    if (this.active === null) {
      const kind = DISSECTOR_OF_PROTOCOL[protocol];
      if (kind === undefined || !(this.candidates & KIND_BIT[kind])) return true;
      this.active = kind;
    }
    switch (this.active) {
      case "tls":
        return this.evalTls(final);
      case "http":
        return this.evalHttp(final);
      case "quic":
        return this.evalQuic(final);
      case "dns":
        return true; // the verdict does not wait for DNS; responses are read while lingering
    }
  }

  private stream(): Buffer {
    if (this.c2s.length > 1) this.c2s = [Buffer.concat(this.c2s)];
    return this.c2s[0] ?? Buffer.alloc(0);
  }

  private evalTls(final: boolean): boolean {
    const r = dissectTlsStream(this.stream());
    if (r.status === "need-more") return final || this.budgetSpent;
    if (r.status === "done") {
      const h = r.hello;
      this.l7.tls = {
        sni: h.sni,
        alpn: h.alpn,
        version: tlsVersionName(h.maxVersion),
        legacyVersion: tlsVersionName(h.legacyVersion),
        supportedVersions: h.supportedVersions.map(tlsVersionName),
        ech: h.ech,
      };
      if (h.sni) this.setHostname(h.sni, "sni");
    }
    return true;
  }

  private evalHttp(final: boolean): boolean {
    const r = dissectHttpStream(this.stream(), final || this.budgetSpent);
    if (r.status === "need-more") return false;
    if (r.status === "done") {
      this.l7.http = { ...r.request };
      if (r.request.host) this.setHostname(r.request.host, "http-host");
    }
    return true;
  }

  private evalQuic(final: boolean): boolean {
    this.quic ??= new QuicDissector(this.maxBytes);
    for (; this.quicFed < this.c2s.length; this.quicFed++) this.quic.push(this.c2s[this.quicFed]!, true);
    const r = this.quic.evaluate();
    if (r.status === "need-more") return final || this.budgetSpent;
    if (r.status === "done") {
      const h = r.hello;
      this.l7.quic = { version: h.versionName, sni: h.sni, alpn: h.alpn, ech: h.ech, userAgent: h.userAgent };
      if (h.sni) this.setHostname(h.sni, "quic-sni");
    }
    return true;
  }

  private setHostname(name: string, source: HostnameSource): void {
    const l = name.trim().toLowerCase();
    const n = l.endsWith(".") ? l.slice(0, -1) : l; // no regex run per named flow
    if (!n) return;
    this.hostname = n;
    this.hostnameSource = source;
  }

  /** The raw payloads the dissector is done with are dropped (the flow is decided). */
  release(): void {
    this.c2s = [];
    this.quic = null;
    if (this.active !== "dns") this.s2c = [];
  }

  // -------------------------------------------------------------------------------------
  // DNS: the query names the flow; every response teaches the cache.

  /** True when this flow is a DNS flow whose responses should still be read. */
  get lingers(): boolean {
    return this.active === "dns" && !this.dnsDone;
  }

  /** Reads the stored and new DNS messages; true when done (a response was read). */
  dns(
    cache: DnsCache | null,
    now: number,
    direction?: "c2s" | "s2c",
    chunks?: Buffer[],
    client?: string,
  ): boolean {
    this.l7.dns ??= { query: null, learned: 0 };
    if (chunks?.length) {
      for (const c of chunks) {
        if (direction === "c2s") this.c2s.push(Buffer.from(c));
        else this.s2c.push(Buffer.from(c));
      }
    }
    // The client's messages first, then the server's (as stored), no array spread per call.
    const fromClient = this.messages(this.c2s);
    const fromServer = this.messages(this.s2c);
    for (let i = 0; i < fromClient.length + fromServer.length; i++) {
      const m = i < fromClient.length ? fromClient[i]! : fromServer[i - fromClient.length]!;
      const msg = parseDnsMessage(m);
      if (!msg) continue;
      const q = msg.questions[0]?.name ?? null;
      if (q && !this.l7.dns.query) {
        this.l7.dns.query = q;
        if (!this.hostname) this.setHostname(q, "dns-query");
      }
      if (!msg.response) continue;
      if (cache) this.l7.dns.learned += cache.learn(msg, now, client);
      this.dnsDone = true;
    }
    return this.dnsDone;
  }

  /** Takes the complete DNS messages out of a direction's stored bytes. */
  private messages(store: Buffer[]): Buffer[] {
    if (store.length === 0) return [];
    if (this.l4 === "udp") return store.splice(0, store.length);
    let s = store.length === 1 ? store[0]! : Buffer.concat(store);
    const out: Buffer[] = [];
    while (s.length >= 2 && s.length >= 2 + s.readUInt16BE(0)) {
      const len = s.readUInt16BE(0);
      out.push(s.subarray(2, 2 + len));
      s = s.subarray(2 + len);
    }
    store.splice(0, store.length, ...(s.length ? [s] : []));
    return out;
  }
}
