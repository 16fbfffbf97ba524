import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FlowTable, compilePatterns, decodeFrame, subjectArena, type Flow } from "../src/index.ts";
import { udpSender } from "./helpers/udp-sender.ts";
import { ipPacket, type FrameSpec } from "./helpers/frames.ts";

const set = compilePatterns([
  { file: "hello.pat", text: "hello\n^hello world\n" },
  { file: "ping.pat", text: "ping\nping.*pong\n" },
  { file: "dns.pat", text: "dnsish\n^\\x12\\x34\n" },
]);

const view = (f: Flow) => ({
  id: f.id,
  l4: f.l4,
  family: f.family,
  client: `${f.clientIp}|${f.clientPort}`,
  server: `${f.serverIp}|${f.serverPort}`,
  firstSeen: f.firstSeen,
  lastSeen: f.lastSeen,
  packets: [f.packetsC2S, f.packetsS2C, f.bytesC2S, f.bytesS2C],
  verdict: f.verdict,
  protocol: f.protocol,
  mark: f.mark,
  decidedAtPacket: f.decidedAtPacket,
  inspectedBytes: f.inspectedBytes,
  inspecting: f.inspecting,
  hostname: f.hostname,
  fin: [f.finC2S, f.finS2C, f.rst],
});

const payloads = [
  "",
  "hel",
  "lo world",
  "hello world",
  "ping",
  "x".repeat(300),
  "pong",
  "\x12\x34ab",
  "\0\xff\xfe",
];
const packetArb = fc.record({
  flow: fc.integer({ min: 0, max: 11 }),
  reply: fc.boolean(),
  payload: fc.constantFrom(...payloads),
  syn: fc.boolean(),
  fin: fc.boolean(),
  dt: fc.constantFrom(0, 0, 1, 40),
});

test("a compact table (plain flows kept in slots between packets) decides and counts as a plain one", () => {
  fc.assert(
    fc.property(fc.array(packetArb, { maxLength: 300 }), (packets) => {
      const before = subjectArena.inUse;
      const opts = {
        maxFlows: 6,
        udpIdleSeconds: 30,
        tcpIdleSeconds: 60,
        window: { packets: 6, bytes: 512 },
      };
      const plain = new FlowTable(set, opts);
      const compact = new FlowTable(set, { ...opts, compact: true });
      const ended: [string[], string[]] = [[], []];
      plain.onFlowEnd = (f, why) => ended[0].push(`${why} ${JSON.stringify(view(f))}`);
      compact.onFlowEnd = (f, why) => ended[1].push(`${why} ${JSON.stringify(view(f))}`);
      let t = 1000;
      for (const p of packets) {
        t += p.dt;
        const tcp = p.flow % 3 === 0;
        const v6 = p.flow % 4 === 1;
        const a = v6 ? `2001:db8::${p.flow}` : `10.0.0.${p.flow}`;
        const b = v6 ? "2001:db8::ff" : "10.0.1.1";
        const spec: FrameSpec = {
          src: p.reply ? b : a,
          dst: p.reply ? a : b,
          sport: p.reply ? 80 : 40000 + p.flow,
          dport: p.reply ? 40000 + p.flow : 80,
          l4: tcp ? "tcp" : "udp",
          payload: Buffer.from(p.payload, "latin1"),
          flags: tcp ? { syn: p.syn && !p.reply, ack: p.reply || !p.syn, fin: p.fin } : undefined,
        };
        const d = decodeFrame(101, ipPacket(spec));
        if (!d.ok) throw new Error(d.reason);
        // The data plane's order: `has` first, then `observe` reusing its lookup.
        assert.equal(compact.has(d.packet), plain.has(d.packet));
        const x = plain.observe(d.packet, t, true);
        const y = compact.observe(d.packet, t, true);
        assert.deepEqual(
          { ...view(y.flow), direction: y.direction, decided: y.decided },
          { ...view(x.flow), direction: x.direction, decided: x.decided },
        );
        assert.deepEqual(compact.stats().inspecting, plain.stats().inspecting);
      }
      assert.deepEqual(
        [...compact.active()].map((f) => view(f)),
        [...plain.active()].map((f) => view(f)),
      );
      assert.equal(compact.expire(t + 45), plain.expire(t + 45));
      assert.deepEqual(ended[1], ended[0]);
      assert.deepEqual(
        compact.drain().map((f) => view(f)),
        plain.drain().map((f) => view(f)),
      );
      assert.equal(subjectArena.inUse, before, "every subject went back to the arena");
    }),
    { numRuns: 200 },
  );
});

test("a compact table keeps a flow under plain inspection as no object between its packets", () => {
  const table = new FlowTable(set, { compact: true });
  const send = udpSender(table);
  const first = send(1000, "pi").flow;
  send(1001, "junk");
  const again = send(1000, "ng and more").flow;
  assert.notEqual(again, first, "made again from its slot");
  assert.equal(again.id, first.id);
  assert.equal(again.packetsC2S, 2);
  assert.equal(again.protocol, "unset");
  const done = send(1000, " pong");
  assert.equal(done.decided, true, "its subject kept the first packet's bytes");
  assert.equal(done.flow.protocol, "ping");
  table.drain();
});

test("a compact table gives a dormant flow seen again its second chance before eviction", () => {
  const ends = (compact: boolean) => {
    const table = new FlowTable(set, { maxFlows: 3, compact });
    const ended: string[] = [];
    table.onFlowEnd = (f, why) => ended.push(`${f.clientPort} ${why}`);
    for (const port of [1, 1, 2, 3, 4, 1, 5, 6, 7, 8]) {
      const d = decodeFrame(
        101,
        ipPacket({ src: "10.0.0.1", dst: "10.0.0.2", sport: port, dport: 9, l4: "udp", payload: "x" }),
      );
      if (!d.ok) throw new Error(d.reason);
      table.has(d.packet);
      table.observe(d.packet, 1, true);
    }
    return ended;
  };
  assert.deepEqual(
    ends(false),
    ["2 evicted", "3 evicted", "4 evicted", "5 evicted", "1 evicted"],
    "1 had its second chance",
  );
  assert.deepEqual(ends(true), ends(false));
});
