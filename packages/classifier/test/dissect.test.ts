// The dissectors on hand-built and reference inputs: TLS ClientHellos (split over records
// and segments, ECH, GREASE), QUIC Initials (RFC 9001 and RFC 9369 test vectors, CRYPTO
// frames split over packets and out of order, drafts, gQUIC), HTTP/1 and HTTP/2 (HPACK with
// Huffman), DNS responses and the address cache (CNAME chains, TTL, LRU); and the flow
// table using them: a verdict waits for a split ClientHello, never past the window, and a
// flow without SNI gets the name its client looked up.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createServer, type AddressInfo } from "node:net";
import { connect as h2connect } from "node:http2";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildClientHello,
  tlsRecords,
  dissectTlsStream,
  dissectHandshake,
  isGrease,
  quicInitialKeys,
  QuicDissector,
  QUIC_V1,
  QUIC_V2,
  dissectHttpStream,
  hostOnly,
  HpackDecoder,
  huffmanDecode,
  huffmanEncode,
  HUFFMAN_LENGTHS,
  H2_PREFACE,
  parseDnsMessage,
  addressNames,
  DnsCache,
  FlowTable,
  classifyPayloads,
  loadPatternDirs,
  decodeFrame,
  type DecodedPacket,
} from "../src/index.ts";
import {
  RFC_DCID,
  RFC9001_A1,
  RFC9369_A1,
  RFC9001_CLIENT_INITIAL,
  RFC9369_CLIENT_INITIAL,
  RFC_CLIENT_CRYPTO_FRAME,
} from "./helpers/quic-vectors.ts";
import { protectInitial, cryptoFrame } from "./helpers/quic-build.ts";
import { ipPacket, tcpConversation, type FrameSpec } from "./helpers/frames.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const set = loadPatternDirs([join(ROOT, "protocols")]);
const hex = (s: string) => Buffer.from(s, "hex");

function pkt(spec: FrameSpec): DecodedPacket {
  const d = decodeFrame(101, ipPacket(spec));
  if (!d.ok) throw new Error(d.reason);
  return d.packet;
}

// ---------------------------------------------------------------------------------------
// TLS

test("TLS: SNI, ALPN, versions from a ClientHello, whole or cut anywhere", () => {
  const hs = buildClientHello({
    sni: "www.example.org",
    alpn: ["h2", "http/1.1"],
    versions: [0x0a0a, 0x0304, 0x0303],
  });
  const stream = tlsRecords(hs);
  const r = dissectTlsStream(stream);
  assert.equal(r.status, "done");
  assert.ok(r.status === "done");
  assert.deepEqual(r.hello, {
    sni: "www.example.org",
    alpn: ["h2", "http/1.1"],
    legacyVersion: 0x0303,
    supportedVersions: [0x0304, 0x0303], // GREASE 0x0a0a left out
    maxVersion: 0x0304,
    ech: false,
  });
  assert.ok(isGrease(0x0a0a) && isGrease(0xfafa) && !isGrease(0x0304));
  // Every prefix is "need more", never a wrong answer.
  for (let cut = 0; cut < stream.length; cut += 7)
    assert.equal(dissectTlsStream(stream.subarray(0, cut)).status, "need-more");
  // The handshake message over several records (a record layer fragmenting it).
  const fragmented = tlsRecords(hs, 50);
  const f = dissectTlsStream(fragmented);
  assert.ok(f.status === "done" && f.hello.sni === "www.example.org");
  // Not a ClientHello.
  assert.equal(dissectTlsStream(Buffer.from("GET / HTTP/1.1\r\n")).status, "invalid");
  assert.equal(dissectTlsStream(Buffer.from([0x16, 3, 3, 0, 4, 2, 0, 0, 0])).status, "invalid"); // ServerHello
  const bare = dissectHandshake(hs);
  assert.ok(bare.status === "done" && bare.hello.alpn[0] === "h2");
});

test("TLS: Encrypted Client Hello is recognised; the SNI is then the public name", () => {
  const hs = buildClientHello({ sni: "cloudflare-ech.com", ech: true, versions: [0x0304] });
  const r = dissectTlsStream(tlsRecords(hs));
  assert.ok(r.status === "done");
  assert.equal(r.hello.ech, true);
  assert.equal(r.hello.sni, "cloudflare-ech.com");
  const none = dissectTlsStream(tlsRecords(buildClientHello({})));
  assert.ok(none.status === "done" && none.hello.sni === null && !none.hello.ech);
});

test("flow table: a ClientHello split over TCP segments holds the verdict until it is complete", () => {
  const records = tlsRecords(buildClientHello({ sni: "video.example.net", alpn: ["h2"], padding: 1400 }));
  assert.ok(records.length > 1460);
  const parts = [records.subarray(0, 1000), records.subarray(1000)];
  const conv = tcpConversation(
    ["10.0.0.1", 41000],
    ["10.0.0.2", 443],
    parts.map((data) => ({ dir: "c2s" as const, data })),
  );
  const table = new FlowTable(set);
  const seen = conv.map((s) => {
    const r = table.observe(pkt(s), 1);
    return {
      protocol: r.flow.protocol,
      decided: r.decided,
      hostname: r.flow.hostname,
      pending: table.stats().pending,
    };
  });
  // Packet 4 matches ssl, but the hello is incomplete: still unset (mark 1).
  assert.deepEqual(seen[3], { protocol: "unset", decided: false, hostname: null, pending: 1 });
  assert.deepEqual(seen[4], { protocol: "ssl", decided: true, hostname: "video.example.net", pending: 0 });
  const flow = [...table.active()][0]!;
  assert.equal(flow.decidedAtPacket, 5);
  assert.equal(flow.hostnameSource, "sni");
  assert.equal(flow.l7?.tls?.version, "TLSv1.2");
  assert.deepEqual(flow.l7?.tls?.alpn, ["h2"]);
  assert.equal(flow.inspecting, false);

  // Reordered segments: the second arrives first and waits in the reassembler.
  const t2 = new FlowTable(set);
  let last;
  for (const s of [conv[0]!, conv[1]!, conv[2]!, conv[4]!, conv[3]!]) last = t2.observe(pkt(s), 1);
  assert.equal(last!.flow.hostname, "video.example.net");

  // A window that ends before the rest: decided as ssl at its last packet, without a name.
  const t3 = new FlowTable(set, { window: { packets: 4, bytes: 2048 } });
  const r3 = conv.slice(0, 4).map((s) => t3.observe(pkt(s), 1));
  assert.equal(r3[3]!.decided, true);
  assert.equal(r3[3]!.flow.protocol, "ssl");
  assert.equal(r3[3]!.flow.hostname, null);

  // The capture ends with the hello incomplete: the pending match is the verdict.
  const cut = classifyPayloads(set, "tcp", [{ dir: "c2s", payload: parts[0]! }]);
  assert.equal(cut.protocol, "ssl");
  assert.equal(cut.hostname, null);

  // Dissection off: plain l7-filter, decided on the first segment.
  const t4 = new FlowTable(set, { dissect: false });
  const r4 = conv.map((s) => t4.observe(pkt(s), 1));
  assert.equal(r4[3]!.decided, true);
  assert.equal(r4[3]!.flow.hostname, null);
});

// ---------------------------------------------------------------------------------------
// QUIC

test("QUIC v1: RFC 9001 Appendix A keys and the client Initial of A.2", () => {
  const k = quicInitialKeys(QUIC_V1, hex(RFC_DCID))!;
  assert.equal(k.initialSecret.toString("hex"), RFC9001_A1.initialSecret);
  assert.equal(k.clientSecret.toString("hex"), RFC9001_A1.clientSecret);
  assert.equal(k.key.toString("hex"), RFC9001_A1.key);
  assert.equal(k.iv.toString("hex"), RFC9001_A1.iv);
  assert.equal(k.hp.toString("hex"), RFC9001_A1.hp);
  const q = new QuicDissector();
  q.push(hex(RFC9001_CLIENT_INITIAL));
  const r = q.evaluate();
  assert.ok(r.status === "done", JSON.stringify(r));
  assert.equal(r.hello.versionName, "v1");
  assert.equal(r.hello.sni, "example.com");
  assert.deepEqual(r.hello.alpn, ["alpn"]);
  assert.deepEqual(r.hello.tls?.supportedVersions, [0x0304]);
  // Our own packet builder produces the RFC's bytes for the RFC's frames and packet number.
  const frames = Buffer.concat([hex(RFC_CLIENT_CRYPTO_FRAME), Buffer.alloc(917)]);
  const built = protectInitial(QUIC_V1, hex(RFC_DCID), 2, frames, { scid: Buffer.alloc(0), minSize: 0 });
  assert.equal(built.toString("hex"), RFC9001_CLIENT_INITIAL);
  // One flipped ciphertext bit: the packet does not authenticate, nothing is read.
  const bad = hex(RFC9001_CLIENT_INITIAL);
  bad[100]! ^= 1;
  const qb = new QuicDissector();
  qb.push(bad);
  assert.equal(qb.evaluate().status, "need-more");
});

test("QUIC v2: RFC 9369 Appendix A keys and client Initial", () => {
  const k = quicInitialKeys(QUIC_V2, hex(RFC_DCID))!;
  assert.equal(k.clientSecret.toString("hex"), RFC9369_A1.clientSecret);
  assert.equal(k.key.toString("hex"), RFC9369_A1.key);
  assert.equal(k.iv.toString("hex"), RFC9369_A1.iv);
  assert.equal(k.hp.toString("hex"), RFC9369_A1.hp);
  const q = new QuicDissector();
  q.push(hex(RFC9369_CLIENT_INITIAL));
  const r = q.evaluate();
  assert.ok(r.status === "done");
  assert.equal(r.hello.versionName, "v2");
  assert.equal(r.hello.version, 0x6b3343cf);
  assert.equal(r.hello.sni, "example.com");
});

test("QUIC: CRYPTO frames over several Initials, out of order, in one packet or several", () => {
  const hs = buildClientHello({
    sni: "rr3---sn-abc.googlevideo.com",
    alpn: ["h3"],
    versions: [0x0304],
    padding: 1500,
  });
  const dcid = hex("1122334455667788");
  const a = hs.subarray(0, 900);
  const b = hs.subarray(900);
  for (const version of [QUIC_V1, QUIC_V2, 0xff00001d /* draft-29 */]) {
    // Two datagrams, the second half first.
    const q = new QuicDissector();
    q.push(protectInitial(version, dcid, 1, cryptoFrame(900, b)));
    assert.equal(q.evaluate().status, "need-more");
    q.push(protectInitial(version, dcid, 0, cryptoFrame(0, a)));
    const r = q.evaluate();
    assert.ok(r.status === "done", `${version}: ${JSON.stringify(r)}`);
    assert.equal(r.hello.sni, "rr3---sn-abc.googlevideo.com");
  }
  // One packet, frames reversed and overlapping.
  const q = new QuicDissector();
  const frames = Buffer.concat([cryptoFrame(600, hs.subarray(600)), cryptoFrame(0, hs.subarray(0, 700))]);
  q.push(protectInitial(QUIC_V1, dcid, 0, frames, { minSize: 2400 }));
  const r = q.evaluate();
  assert.ok(r.status === "done" && r.hello.versionName === "v1");
  // The second Initial goes to the server's chosen DCID, but keys stay those of the first.
  const q2 = new QuicDissector();
  q2.push(protectInitial(QUIC_V1, dcid, 0, cryptoFrame(0, a)));
  const later = protectInitial(QUIC_V1, dcid, 1, cryptoFrame(900, b));
  const serverCid = hex("aabbccdd");
  // Rewrite the DCID of `later` (same length) - the keys still come from the first DCID.
  const rewritten = Buffer.from(later);
  serverCid.copy(rewritten, 6, 0, 4);
  assert.equal(q2.evaluate().status, "need-more");
  q2.push(later);
  assert.equal(q2.evaluate().status, "done");
});

test("QUIC: versions told apart; unknown versions are QUIC without a name", () => {
  const q = new QuicDissector();
  const neg = Buffer.alloc(1200);
  neg[0] = 0xc3;
  neg.writeUInt32BE(0x1a2a3a4a, 1);
  neg[5] = 8;
  q.push(neg);
  const r = q.evaluate();
  assert.ok(r.status === "done");
  assert.equal(r.hello.versionName, "0x1a2a3a4a");
  assert.equal(r.hello.sni, null);
});

test("flow table: a QUIC flow whose ClientHello spans two Initials is decided at the second", () => {
  const hs = buildClientHello({ sni: "www.youtube.com", alpn: ["h3"], versions: [0x0304], padding: 1500 });
  const dcid = hex("0102030405060708");
  const p1 = protectInitial(QUIC_V1, dcid, 0, cryptoFrame(0, hs.subarray(0, 1000)));
  const p2 = protectInitial(QUIC_V1, dcid, 1, cryptoFrame(1000, hs.subarray(1000)));
  const table = new FlowTable(set);
  const udp = (payload: Buffer) =>
    table.observe(pkt({ src: "10.0.0.1", sport: 50000, dst: "10.0.0.2", dport: 443, l4: "udp", payload }), 1);
  const r1 = udp(p1);
  assert.equal(r1.flow.protocol, "unset");
  const r2 = udp(p2);
  assert.equal(r2.decided, true);
  assert.equal(r2.flow.protocol, "quic");
  assert.equal(r2.flow.hostname, "www.youtube.com");
  assert.equal(r2.flow.hostnameSource, "quic-sni");
  assert.equal(r2.flow.l7?.quic?.version, "v1");
  // Without dissectors the first Initial decides.
  const t0 = new FlowTable(set, { dissect: false });
  const r0 = t0.observe(
    pkt({ src: "10.0.0.1", sport: 50000, dst: "10.0.0.2", dport: 443, l4: "udp", payload: p1 }),
    1,
  );
  assert.equal(r0.flow.protocol, "quic");
});

// ---------------------------------------------------------------------------------------
// HTTP

test("HTTP/1.x: method, Host (port removed), User-Agent; absolute form and CONNECT", () => {
  const r = dissectHttpStream(
    Buffer.from("GET /a HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nUser-Agent: curl/8.5\r\n\r\n"),
  );
  assert.deepEqual(r, {
    status: "done",
    request: { version: "1.1", method: "GET", host: "www.example.com", userAgent: "curl/8.5" },
  });
  const abs = dissectHttpStream(Buffer.from("GET http://proxy.example:3128/x HTTP/1.0\r\n\r\n"));
  assert.ok(abs.status === "done" && abs.request.host === "proxy.example");
  const conn = dissectHttpStream(Buffer.from("CONNECT upload.example.org:443 HTTP/1.1\r\n\r\n"));
  assert.ok(conn.status === "done" && conn.request.host === "upload.example.org");
  // Headers cut in the middle: more is needed, unless the window is spent.
  const part = Buffer.from("POST /u HTTP/1.1\r\nHost: a.example\r\nUser-Ag");
  assert.equal(dissectHttpStream(part).status, "need-more");
  const fin = dissectHttpStream(part, true);
  assert.ok(fin.status === "done" && fin.request.host === "a.example" && fin.request.userAgent === null);
  assert.equal(dissectHttpStream(Buffer.from("\x16\x03\x01")).status, "invalid");
  assert.equal(hostOnly("[2001:db8::1]:443"), "2001:db8::1");
  assert.equal(hostOnly("user@Host.Example."), "host.example");
});

test("HTTP/1.x in the flow table: a User-Agent split over two segments", () => {
  const f = classifyPayloads(set, "tcp", [
    { dir: "c2s", payload: Buffer.from("GET / HTTP/1.1\r\nHost: updates.example.com\r\nUser-Agent: Moz") },
    { dir: "c2s", payload: Buffer.from("illa/5.0\r\nAccept: */*\r\n\r\n") },
  ]);
  assert.equal(f.protocol, "http");
  assert.equal(f.decidedAtPacket, 5);
  assert.equal(f.hostname, "updates.example.com");
  assert.equal(f.hostnameSource, "http-host");
  assert.equal(f.l7?.http?.userAgent, "Mozilla/5.0");
});

test("HPACK: the Huffman code is complete; RFC 7541 C.4.1 decodes; literals round-trip", () => {
  // Kraft: the 256 codes plus EOS (30 bits) fill the code space exactly.
  const kraft = HUFFMAN_LENGTHS.reduce((s, l) => s + 2 ** (30 - l), 0) + 1;
  assert.equal(kraft, 2 ** 30);
  const fields = new HpackDecoder().decode(hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"));
  assert.deepEqual(fields, [
    { name: ":method", value: "GET" },
    { name: ":scheme", value: "http" },
    { name: ":path", value: "/" },
    { name: ":authority", value: "www.example.com" },
  ]);
  for (const s of ["", "a", "custom-key", "Mozilla/5.0 (X11; Linux x86_64)", "\u00ff\u0000~"]) {
    const b = Buffer.from(s, "latin1");
    assert.equal(huffmanDecode(huffmanEncode(b)).toString("latin1"), s);
  }
  assert.throws(() => huffmanDecode(Buffer.from([0x00])), /padding/);
  // h2 prior knowledge: preface, SETTINGS, HEADERS (split by CONTINUATION).
  const block = hex("828684418cf1e3c2e5f23a6ba0ab90f4ff");
  const frame = (type: number, flags: number, payload: Buffer) =>
    Buffer.concat([
      Buffer.from([0, payload.length >> 8, payload.length & 0xff, type, flags, 0, 0, 0, 1]),
      payload,
    ]);
  const s = Buffer.concat([
    H2_PREFACE,
    frame(4, 0, Buffer.alloc(0)),
    frame(1, 0, block.subarray(0, 5)),
    frame(9, 4, block.subarray(5)),
  ]);
  const r = dissectHttpStream(s);
  assert.ok(r.status === "done");
  assert.deepEqual(r.request, { version: "2", method: "GET", host: "www.example.com", userAgent: null });
  assert.equal(dissectHttpStream(s.subarray(0, 40)).status, "need-more");
});

test("HTTP/2: what Node's own client sends is read (:authority, Huffman-coded)", async () => {
  const got: Buffer[] = [];
  const server = createServer((sock) => {
    sock.on("data", (d) => got.push(d));
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as AddressInfo).port;
  const client = h2connect(`http://127.0.0.1:${port}`);
  client.on("error", () => {});
  const req = client.request({
    ":authority": "media.example.test:8443",
    ":path": "/v",
    "user-agent": "sluice-test/1",
  });
  req.on("error", () => {});
  req.end();
  // Wait for the request's bytes (not for a fixed time: a loaded machine is slow), 10 s at most.
  for (let i = 0; i < 200 && dissectHttpStream(Buffer.concat(got)).status !== "done"; i++)
    await new Promise((res) => setTimeout(res, 50));
  client.destroy();
  server.close();
  const r = dissectHttpStream(Buffer.concat(got));
  assert.ok(r.status === "done", JSON.stringify(r));
  assert.equal(r.request.version, "2");
  assert.equal(r.request.host, "media.example.test");
  assert.equal(r.request.method, "GET");
  assert.equal(r.request.userAgent, "sluice-test/1");
});

// ---------------------------------------------------------------------------------------
// DNS

function name(n: string): Buffer {
  return Buffer.concat([
    ...n.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function rr(owner: Buffer, type: number, ttl: number, data: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt32BE(ttl, 4);
  h.writeUInt16BE(data.length, 8);
  return Buffer.concat([owner, h, data]);
}

/** A response for `q` (A): q CNAME alias, alias A addr (TTL ttl), alias AAAA addr6. */
export function dnsResponse(
  q: string,
  alias: string,
  addr: string,
  addr6: Buffer,
  ttl = 60,
  id = 0x1234,
): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x8180, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(3, 6);
  const question = Buffer.concat([name(q), Buffer.from([0, 1, 0, 1])]);
  const qptr = Buffer.from([0xc0, 12]);
  const aliasName = name(alias);
  const aliasOff = 12 + question.length + 2 + 10; // where the CNAME's rdata (alias) starts
  const aptr = Buffer.from([0xc0 | (aliasOff >> 8), aliasOff & 0xff]);
  return Buffer.concat([
    head,
    question,
    rr(qptr, 5, 300, aliasName),
    rr(aptr, 1, ttl, Buffer.from(addr.split(".").map(Number))),
    rr(aptr, 28, ttl, addr6),
  ]);
}

export function dnsQuery(q: string, id = 0x1234): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, name(q), Buffer.from([0, 1, 0, 1])]);
}

const V6 = hex("20010db8000000000000000000000042");

test("DNS: a response's addresses are named after the question their CNAME chain starts from", () => {
  const msg = parseDnsMessage(dnsResponse("www.video.example", "edge.cdn.example", "192.0.2.7", V6))!;
  assert.equal(msg.response, true);
  assert.deepEqual(msg.questions, [{ name: "www.video.example", type: 1 }]);
  assert.deepEqual(
    msg.answers.map((a) => [a.name, a.type, a.data]),
    [
      ["www.video.example", 5, "edge.cdn.example"],
      ["edge.cdn.example", 1, "192.0.2.7"],
      ["edge.cdn.example", 28, "2001:db8::42"],
    ],
  );
  assert.deepEqual(addressNames(msg), [
    { address: "192.0.2.7", name: "www.video.example", ttl: 60 },
    { address: "2001:db8::42", name: "www.video.example", ttl: 60 },
  ]);
  assert.equal(parseDnsMessage(Buffer.from("garbage")), null);
  // A pointer loop does not hang.
  const loop = Buffer.concat([dnsQuery("a.example").subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(parseDnsMessage(loop), null);
});

test("DNS cache: TTL and LRU bounds", () => {
  const c = new DnsCache({ maxEntries: 2 });
  c.set("192.0.2.1", "a.example", 30, 100);
  c.set("192.0.2.2", "b.example", 30, 100);
  assert.equal(c.get("192.0.2.1", 129), "a.example"); // touches 1
  assert.equal(c.get("192.0.2.1", 131), null); // expired (and dropped)
  c.set("192.0.2.1", "a.example", 30, 131);
  c.set("192.0.2.3", "c.example", 30, 131); // evicts the least recently used: 2
  assert.equal(c.get("192.0.2.2", 131), null);
  assert.equal(c.get("192.0.2.3", 131), "c.example");
  assert.equal(c.size, 2);
  const g = new DnsCache({ graceSeconds: 10, maxTtl: 60 });
  g.set("192.0.2.9", "x.example", 86400, 0);
  assert.equal(g.get("192.0.2.9", 69), "x.example");
  assert.equal(g.get("192.0.2.9", 71), null);
});

test("DNS cache: per-client names through eviction and expiry, as one LRU map of `client>address` keys", () => {
  // The reference: every entry under one key in one LRU map, a per-client key looked up
  // for every flow. The cache skips that look-up for clients with no entry left.
  class Reference {
    readonly map = new Map<string, { name: string; expires: number }>();
    readonly max: number;
    constructor(max: number) {
      this.max = max;
    }
    put(key: string, e: { name: string; expires: number }) {
      this.map.delete(key);
      this.map.set(key, e);
      while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
    }
    set(address: string, name: string, ttl: number, now: number, client?: string) {
      this.put(address, { name, expires: now + ttl });
      if (client) this.put(`${client}>${address}`, { name, expires: now + ttl });
    }
    lookup(key: string, now: number): string | null {
      const e = this.map.get(key);
      if (!e) return null;
      this.map.delete(key);
      if (now > e.expires) return null;
      this.map.set(key, e);
      return e.name;
    }
    get(address: string, now: number, client?: string) {
      return (client ? this.lookup(`${client}>${address}`, now) : null) ?? this.lookup(address, now);
    }
  }
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 12) % n; // the low bits of this generator cycle too soon
  };
  for (const max of [1, 2, 3, 5, 8, 13, 40]) {
    const c = new DnsCache({ maxEntries: max });
    const r = new Reference(max);
    let now = 0;
    for (let i = 0; i < 4000; i++) {
      now += rnd(3);
      const address = `192.0.2.${rnd(6)}`;
      const client = rnd(4) ? `10.0.0.${rnd(4)}` : undefined;
      if (rnd(2)) {
        const name = `n${rnd(5)}.example`;
        const ttl = rnd(8);
        c.set(address, name, ttl, now, client);
        r.set(address, name, ttl, now, client);
      } else assert.equal(c.get(address, now, client), r.get(address, now, client), `max ${max}, step ${i}`);
      assert.equal(c.size, r.map.size);
    }
  }
});

test("DNS cache: a shared CDN address is named after what each client looked up", () => {
  const c = new DnsCache();
  c.learn(
    parseDnsMessage(dnsResponse("video.example", "edge.cdn.example", "192.0.2.7", V6))!,
    10,
    "10.0.0.1",
  );
  c.learn(parseDnsMessage(dnsResponse("shop.example", "edge.cdn.example", "192.0.2.7", V6))!, 11, "10.0.0.2");
  assert.equal(c.get("192.0.2.7", 12, "10.0.0.1"), "video.example");
  assert.equal(c.get("192.0.2.7", 12, "10.0.0.2"), "shop.example");
  // Someone whose lookup was not seen gets the last name anybody looked up.
  assert.equal(c.get("192.0.2.7", 12, "10.0.0.3"), "shop.example");
  assert.equal(c.get("192.0.2.7", 12), "shop.example");
});

test("flow table: DNS responses name later flows without SNI, and flows with ECH", () => {
  const cache = new DnsCache();
  const table = new FlowTable(set, { dnsCache: cache });
  const dns = (dir: "c2s" | "s2c", payload: Buffer, t: number) =>
    table.observe(
      pkt(
        dir === "c2s"
          ? { src: "10.0.0.1", sport: 40053, dst: "10.0.0.53", dport: 53, l4: "udp", payload }
          : { src: "10.0.0.53", sport: 53, dst: "10.0.0.1", dport: 40053, l4: "udp", payload },
      ),
      t,
    );
  const q = dns("c2s", dnsQuery("www.video.example"), 10);
  assert.equal(q.flow.protocol, "dns");
  assert.equal(q.decided, true);
  assert.equal(q.flow.hostname, "www.video.example");
  assert.equal(q.flow.hostnameSource, "dns-query");
  assert.equal(q.flow.inspecting, true); // still reading the response
  const a = dns("s2c", dnsResponse("www.video.example", "edge.cdn.example", "192.0.2.7", V6, 60), 10.01);
  assert.equal(a.decided, false);
  assert.equal(a.flow.inspecting, false);
  assert.equal(a.flow.l7?.dns?.learned, 2);
  assert.equal(cache.get("192.0.2.7", 11), "www.video.example");

  const hello = (client: number, server: string, sni: string | undefined, ech: boolean, t: number) => {
    const conv = tcpConversation(
      [server.includes(":") ? "2001:db8::1" : "10.0.0.1", client],
      [server, 443],
      [{ dir: "c2s", data: tlsRecords(buildClientHello({ sni, ech })) }],
    );
    let r;
    for (const s of conv) r = table.observe(pkt(s), t);
    return r!.flow;
  };
  const noSni = hello(42000, "192.0.2.7", undefined, false, 20);
  assert.equal(noSni.protocol, "ssl");
  assert.deepEqual([noSni.hostname, noSni.hostnameSource], ["www.video.example", "dns-cache"]);
  const ech = hello(42001, "2001:db8::42", "public.cdn.example", true, 20);
  assert.equal(ech.l7?.tls?.ech, true);
  assert.equal(ech.l7?.tls?.sni, "public.cdn.example");
  assert.deepEqual([ech.hostname, ech.hostnameSource], ["www.video.example", "dns-cache"]);
  // With SNI (no ECH), the SNI wins; past the TTL, the cache no longer names.
  const sni = hello(42002, "192.0.2.7", "other.example", false, 20);
  assert.deepEqual([sni.hostname, sni.hostnameSource], ["other.example", "sni"]);
  const late = hello(42003, "192.0.2.7", undefined, false, 200);
  assert.equal(late.hostname, null);
  // An ECH flow without a cached name keeps the public name.
  const pub = hello(42004, "198.51.100.9", "public.cdn.example", true, 20);
  assert.deepEqual([pub.hostname, pub.hostnameSource], ["public.cdn.example", "sni"]);
});

test("DNS over TCP: length-prefixed responses are read too", () => {
  const cache = new DnsCache();
  const table = new FlowTable(set, { dnsCache: cache });
  const framed = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  const resp = framed(dnsResponse("files.example", "s3.example", "203.0.113.5", V6));
  const conv = tcpConversation(
    ["10.0.0.1", 43000],
    ["10.0.0.53", 53],
    [
      { dir: "c2s", data: framed(dnsQuery("files.example")) },
      { dir: "s2c", data: resp.subarray(0, 20) },
      { dir: "s2c", data: resp.subarray(20) },
    ],
  );
  let last;
  for (const s of conv) last = table.observe(pkt(s), 5);
  assert.equal(last!.flow.protocol, "dns");
  assert.equal(cache.get("203.0.113.5", 6), "files.example");
});

test("QUIC frames: PADDING before, between and after CRYPTO frames", async () => {
  const { readIetfFrames, CryptoReassembler } = await import("../src/dissect/quic.ts");
  const crypto = (off: number, data: string) =>
    Buffer.concat([Buffer.from([0x06, off, data.length]), Buffer.from(data, "latin1")]);
  const zeros = (n: number) => Buffer.alloc(n);
  for (const [parts, want] of [
    [[zeros(300), crypto(0, "hello"), zeros(900)], "hello"],
    [[crypto(0, "ab"), zeros(7), Buffer.from([0x01]), zeros(3), crypto(2, "cd")], "abcd"],
    [[zeros(1), crypto(0, "x\u0000y"), zeros(1)], "x\u0000y"],
    [[crypto(0, "end")], "end"],
  ] as const) {
    const r = new CryptoReassembler(4096);
    assert.equal(readIetfFrames(Buffer.concat([...parts]), r, true), true);
    assert.equal(r.contiguous().toString("latin1"), want);
  }
  // A frame it cannot skip after padding still fails the packet.
  assert.equal(
    readIetfFrames(Buffer.concat([zeros(10), Buffer.from([0x30])]), new CryptoReassembler(64)),
    false,
  );
});

test("HPACK Huffman: the nibble state machine decodes as a walk of the code bit by bit", () => {
  // The reference: each byte's code read off the encoder, bits matched one at a time.
  const codes = new Map<string, number>();
  for (let c = 0; c < 256; c++) {
    const bits = [...huffmanEncode(Buffer.from([c]))].map((x) => x.toString(2).padStart(8, "0")).join("");
    codes.set(bits.slice(0, HUFFMAN_LENGTHS[c]!), c);
  }
  const reference = (b: Buffer): Buffer | "code" | "padding" => {
    const out: number[] = [];
    let run = "";
    for (const byte of b)
      for (let i = 7; i >= 0; i--) {
        run += (byte >> i) & 1;
        const c = codes.get(run);
        if (c !== undefined) {
          out.push(c);
          run = "";
        } else if (run.length >= 30) return "code";
      }
    return run.length > 7 || run.includes("0") ? "padding" : Buffer.from(out);
  };
  const decode = (b: Buffer): Buffer | "code" | "padding" => {
    try {
      return huffmanDecode(b);
    } catch (e) {
      return /padding/.test((e as Error).message) ? "padding" : "code";
    }
  };
  const encoded = fc
    .tuple(fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.nat(7), fc.boolean())
    .map(([s, at, bit, flip]) => {
      const b = Buffer.from(huffmanEncode(Buffer.from(s)));
      if (flip && b.length) b[at % b.length]! ^= 1 << bit;
      return b;
    });
  fc.assert(
    fc.property(
      fc.oneof(
        encoded,
        fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u)),
      ),
      (b) => {
        assert.deepEqual(decode(b), reference(b));
      },
    ),
    { numRuns: 3000 },
  );
  // Thirty ones: the EOS code, never a byte.
  assert.equal(decode(Buffer.from([0xff, 0xff, 0xff, 0xfc])), "code");
});
