import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compilePatterns,
  FlowTable,
  TcpStream,
  classifyPayloads,
  decodeFrame,
  type DecodedPacket,
} from "../src/index.ts";
import { ipPacket, tcpConversation, type FrameSpec } from "./helpers/frames.ts";

const set = compilePatterns([
  { file: "hello.pat", text: "hello\n^hello world\n" },
  { file: "ping.pat", text: "ping\nping.*pong\n" },
  { file: "late.pat", text: "late\nmarker\n" },
]);

function pkt(spec: FrameSpec): DecodedPacket {
  const d = decodeFrame(101, ipPacket(spec));
  if (!d.ok) throw new Error(d.reason);
  return d.packet;
}

const tx = (s: string) => Buffer.from(s, "latin1");

test("unset while inspecting, the pattern as soon as it matches, buffer freed", () => {
  const table = new FlowTable(set);
  const conv = tcpConversation(
    ["10.0.0.1", 40000],
    ["10.0.0.2", 7],
    [
      { dir: "c2s", data: "hello " },
      { dir: "s2c", data: "???" },
      { dir: "c2s", data: "world" },
    ],
  );
  const results = conv.map((s) => table.observe(pkt(s), 1));
  assert.equal(results[3]!.flow.protocol, "unset");
  assert.equal(results[3]!.flow.mark, 1);
  // Both directions are appended in arrival order: "hello ???world" does not match ^hello world.
  assert.equal(results[5]!.flow.protocol, "unset");
  const t2 = new FlowTable(set);
  const conv2 = tcpConversation(
    ["10.0.0.1", 40001],
    ["10.0.0.2", 7],
    [
      { dir: "c2s", data: "hello " },
      { dir: "c2s", data: "world" },
    ],
  );
  const r2 = conv2.map((s) => t2.observe(pkt(s), 1));
  assert.equal(r2[4]!.decided, true);
  assert.equal(r2[4]!.flow.protocol, "hello");
  assert.equal(r2[4]!.flow.verdict, "matched");
  assert.equal(r2[4]!.flow.decidedAtPacket, 5);
  assert.equal(r2[4]!.flow.inspecting, false);
});

test("both directions count: a pattern spanning request and reply matches", () => {
  const f = classifyPayloads(set, "tcp", [
    { dir: "c2s", payload: tx("ping\r\n") },
    { dir: "s2c", payload: tx("pong\r\n") },
  ]);
  assert.equal(f.protocol, "ping");
});

test("unknown once the packet window is spent (handshake included), not before", () => {
  const seven = Array.from({ length: 7 }, (_, i) => ({
    dir: (i % 2 ? "s2c" : "c2s") as "c2s" | "s2c",
    payload: tx("x"),
  }));
  const f = classifyPayloads(set, "tcp", seven); // 3 handshake + 7 = 10 packets
  assert.equal(f.protocol, "unknown");
  assert.equal(f.mark, 2);
  assert.equal(f.decidedAtPacket, 10);
  const six = classifyPayloads(set, "tcp", seven.slice(0, 6));
  assert.equal(six.protocol, "unset");
  // A marker in packet 11 is never seen.
  const late = classifyPayloads(set, "tcp", [...seven, { dir: "c2s", payload: tx("marker") }]);
  assert.equal(late.protocol, "unknown");
  // With a larger window (userspace -n) it is.
  const wide = classifyPayloads(set, "tcp", [...seven, { dir: "c2s", payload: tx("marker") }], {
    window: { packets: 20 },
  });
  assert.equal(wide.protocol, "late");
});

test("unknown once the byte window is spent; a match straddling the limit is not seen", () => {
  const filler = tx("x".repeat(2045)); // "marker" would end at byte 2051
  const f = classifyPayloads(set, "udp", [
    { dir: "c2s", payload: filler },
    { dir: "c2s", payload: tx("marker") },
  ]);
  assert.equal(f.protocol, "unknown");
  assert.equal(f.inspectedBytes, 2048);
  const g = classifyPayloads(
    set,
    "udp",
    [
      { dir: "c2s", payload: filler },
      { dir: "c2s", payload: tx("marker") },
    ],
    {
      window: { bytes: 4096 },
    },
  );
  assert.equal(g.protocol, "late");
  // NULs do not count toward the byte window: they are stripped first.
  const h = classifyPayloads(set, "udp", [
    { dir: "c2s", payload: Buffer.alloc(5000) },
    { dir: "c2s", payload: tx("marker") },
  ]);
  assert.equal(h.protocol, "late");
});

test("TCP: retransmissions and overlaps are trimmed, out-of-order segments wait for the gap", () => {
  const s = new TcpStream(4096);
  assert.deepEqual(s.push(100, true, Buffer.alloc(0)), []);
  assert.deepEqual(s.push(107, false, tx("world")), []); // early: held
  assert.equal(s.bufferedBytes, 5);
  assert.equal(Buffer.concat(s.push(101, false, tx("hello "))).toString(), "hello world");
  assert.deepEqual(s.push(101, false, tx("hello ")), []); // duplicate
  assert.equal(Buffer.concat(s.push(110, false, tx("ld!!"))).toString(), "!!"); // overlap trimmed
  // Sequence wrap-around.
  const w = new TcpStream(4096);
  w.push(0xfffffffe, false, tx("ab"));
  assert.equal(Buffer.concat(w.push(0, false, tx("cd"))).toString(), "cd");
  assert.equal(w.next, 2);

  // Through the flow table: the classifier sees "hello world" despite reordering and a duplicate.
  const table = new FlowTable(set);
  const conv = tcpConversation(
    ["10.0.0.1", 40002],
    ["10.0.0.2", 7],
    [
      { dir: "c2s", data: "hello " },
      { dir: "c2s", data: "world" },
    ],
  );
  const [syn, synack, ack, a, b] = conv;
  let last;
  for (const s2 of [syn!, synack!, ack!, b!, a!, a!]) last = table.observe(pkt(s2), 1);
  assert.equal(last!.flow.protocol, "hello");
});

test("client is the side that sent the SYN, even when the SYN-ACK is seen first", () => {
  const table = new FlowTable(set);
  const conv = tcpConversation(["10.0.0.1", 40003], ["10.0.0.2", 7], []);
  const r = table.observe(pkt(conv[1]!), 1);
  assert.equal(r.flow.clientIp, "10.0.0.1");
  assert.equal(r.direction, "s2c");
  const mid = new FlowTable(set);
  const m = mid.observe(
    pkt({ src: "10.0.0.2", sport: 443, dst: "10.0.0.1", dport: 50000, l4: "tcp", payload: "x" }),
    1,
  );
  assert.equal(m.flow.clientPort, 50000);
});

test("bounded memory: LRU cap evicts the least recently seen flow; idle flows expire", () => {
  const ended: string[] = [];
  const table = new FlowTable(set, { maxFlows: 3, udpIdleSeconds: 10 });
  table.onFlowEnd = (f, why) => ended.push(`${f.clientPort}:${why}`);
  const udp = (port: number, t: number) =>
    table.observe(
      pkt({ src: "10.0.0.1", sport: port, dst: "10.0.0.2", dport: 53, l4: "udp", payload: "q" }),
      t,
    );
  udp(1, 0);
  udp(2, 1);
  udp(3, 2);
  udp(1, 3); // touch 1: now 2 is the oldest
  udp(4, 4);
  assert.deepEqual(ended, ["2:evicted"]);
  assert.equal(table.size, 3);
  udp(3, 20); // 3 was idle for 18 s > 10: a new flow
  assert.deepEqual(ended, ["2:evicted", "3:idle"]);
  assert.equal(table.expire(100), 3);
  assert.equal(table.size, 0);
  const st = table.stats();
  assert.equal(st.limits.maxFlows, 3);
  assert.deepEqual(st.ended, { idle: 4, evicted: 1, closed: 0, reused: 0 });
});

test("periodic expiry of a big table: every idle flow ends within a few sweeps, live ones stay", () => {
  // Larger than one sweep's share of entry slots (16,384): the sweep goes round in steps.
  const FLOWS = 40_000;
  const table = new FlowTable(set, { maxFlows: FLOWS + 10, udpIdleSeconds: 10 });
  const idle: number[] = [];
  table.onFlowEnd = (f, why) => {
    assert.equal(why, "idle");
    idle.push(f.clientPort);
  };
  const udp = (a: number, port: number, t: number) =>
    table.observe(
      pkt({ src: `10.1.${a}.1`, sport: port, dst: "10.0.0.2", dport: 9999, l4: "udp", payload: "q" }),
      t,
    );
  for (let i = 0; i < FLOWS; i++) udp(i >> 14, 1024 + (i & 16383), i < 100 ? 15 : 0);
  assert.equal(table.size, FLOWS);
  // At t=20 the flows seen at 0 are idle (20 s > 10), the first 100 (seen at 15) are not.
  // A sweep every 4096 packets of one busy flow.
  for (let n = 0; n < 5 * 4096; n++) udp(200, 1, 20);
  assert.equal(idle.length, FLOWS - 100);
  assert.equal(table.size, 101);
});

test("a new SYN on a closed 5-tuple starts a new connection", () => {
  const table = new FlowTable(set);
  const a = tcpConversation(["10.0.0.1", 40004], ["10.0.0.2", 7], [{ dir: "c2s", data: "hello world" }]);
  for (const s of a) table.observe(pkt(s), 1);
  table.observe(pkt({ ...a[0]!, flags: { rst: true, ack: true }, seq: 2000 }), 2);
  const again = table.observe(pkt(a[0]!), 3);
  assert.equal(again.flow.protocol, "unset");
  assert.equal(again.flow.packets, 1);
});

test("UDP: a later datagram that is a first message on its own decides the flow (not an overmatching pattern)", () => {
  const udp = compilePatterns([
    { file: "hello.pat", text: "hello\n^hello world\n" },
    { file: "noise.pat", text: "# Noise\n# Pattern attributes: marginal veryfast overmatch\nnoise\n^zz\n" },
  ]);
  // The concatenation "junk!hello world" does not match the anchored pattern; the datagram does.
  const f = classifyPayloads(udp, "udp", [
    { dir: "c2s", payload: tx("junk!") },
    { dir: "c2s", payload: tx("hello world") },
  ]);
  assert.equal(f.protocol, "hello");
  assert.equal(f.decidedAtPacket, 2);
  // TCP is a byte stream: no message boundaries to trust.
  const t = classifyPayloads(udp, "tcp", [
    { dir: "c2s", payload: tx("junk!") },
    { dir: "c2s", payload: tx("hello world") },
  ]);
  assert.equal(t.protocol, "unset");
  // An overmatch pattern is only tried on the whole flow, never per datagram.
  const n = classifyPayloads(udp, "udp", [
    { dir: "c2s", payload: tx("junk!") },
    { dir: "c2s", payload: tx("zz top") },
  ]);
  assert.equal(n.protocol, "unset");
});
