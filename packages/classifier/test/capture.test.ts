import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compilePatterns,
  classifyCaptureBuffer,
  classifyCaptureFile,
  decodeFrame,
  decodeIpPacketAt,
  decodeIpPacketInto,
  PacketSlot,
  readCaptureBuffer,
  readCaptureFile,
  openCaptureFile,
  CaptureError,
  LINKTYPE,
  ipv6,
} from "../src/index.ts";
import { ethernetFrame, ipPacket, pcapFile, pcapngFile, tcpConversation } from "./helpers/frames.ts";

const set = compilePatterns([
  { file: "http.pat", text: "http\nhttp/1\\.[01] [1-5][0-9][0-9]\n" },
  { file: "dns.pat", text: "# Transport: udp\ndns\n^..\\x01\n" },
]);

const HTTP = tcpConversation(
  ["10.0.0.1", 40000],
  ["10.0.0.2", 80],
  [
    { dir: "c2s", data: "GET / HTTP/1.1\r\nHost: x\r\n\r\n" },
    { dir: "s2c", data: "HTTP/1.1 200 OK\r\n\r\n" },
  ],
);

test("pcap (both byte orders) and pcapng give the same connections", () => {
  const frames = HTTP.map((s) => ethernetFrame(s));
  for (const buf of [pcapFile(frames), pcapFile(frames, 1, { bigEndian: true }), pcapngFile(frames)]) {
    const s = classifyCaptureBuffer("t.pcap", buf, set);
    assert.equal(s.error, null);
    assert.equal(s.frames, 5);
    assert.equal(s.flows.length, 1);
    const f = s.flows[0]!;
    assert.equal(f.client, "10.0.0.1:40000");
    assert.equal(f.server, "10.0.0.2:80");
    assert.equal(f.protocol, "http");
    assert.equal(f.packets, 5);
    assert.equal(
      f.bytes,
      HTTP.reduce((n, x) => n + ipPacket(x).length, 0),
    );
    assert.equal(f.decided_at_packet, 5);
  }
});

test("link types: VLAN-tagged Ethernet, Linux cooked v1 and v2, raw IP, null/loopback", () => {
  const spec = HTTP[3]!;
  const ip = ipPacket(spec);
  const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00]), ip]);
  const sll2 = Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(18), ip]);
  const nul = Buffer.concat([Buffer.from([2, 0, 0, 0]), ip]);
  const loop = Buffer.concat([Buffer.from([0, 0, 0, 2]), ip]);
  const cases: [number, Buffer][] = [
    [LINKTYPE.ETHERNET, ethernetFrame(spec, 42)],
    [LINKTYPE.LINUX_SLL, sll],
    [LINKTYPE.LINUX_SLL2, sll2],
    [LINKTYPE.RAW, ip],
    [LINKTYPE.IPV4, ip],
    [LINKTYPE.NULL, nul],
    [LINKTYPE.LOOP, loop],
  ];
  for (const [lt, frame] of cases) {
    const d = decodeFrame(lt, frame);
    assert.ok(d.ok, `link type ${lt}`);
    assert.equal(d.packet.src, "10.0.0.1");
    assert.equal(d.packet.dport, 80);
    assert.equal(d.packet.payload.toString("latin1"), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  const vlan = decodeFrame(LINKTYPE.ETHERNET, ethernetFrame(spec, 42));
  assert.ok(vlan.ok && vlan.packet.vlan === 42);
  assert.deepEqual(decodeFrame(147, ip), { ok: false, reason: "unsupported-link" });
});

test("IPv6 with extension headers, compressed addresses", () => {
  const ip6 = ipPacket({
    src: "2001:db8::1",
    dst: "2001:db8::53",
    sport: 5353,
    dport: 53,
    l4: "udp",
    payload: "\x12\x34\x01\x00",
  });
  // Insert a hop-by-hop header (next header = UDP) after the fixed header.
  const hbh = Buffer.from([17, 0, 0, 0, 0, 0, 0, 0]);
  const fixed = Buffer.from(ip6.subarray(0, 40));
  fixed[6] = 0;
  fixed.writeUInt16BE(ip6.length - 40 + 8, 4);
  const d = decodeFrame(LINKTYPE.RAW, Buffer.concat([fixed, hbh, ip6.subarray(40)]));
  assert.ok(d.ok);
  assert.equal(d.packet.src, "2001:db8::1");
  assert.equal(d.packet.l4, "udp");
  assert.equal(d.packet.payload.length, 4);
  assert.equal(ipv6(Buffer.from("20010db8000000000001000000000001", "hex")), "2001:db8::1:0:0:1");
  const s = classifyCaptureBuffer(
    "v6.pcap",
    pcapFile([
      ethernetFrame({
        src: "2001:db8::1",
        dst: "2001:db8::53",
        sport: 5353,
        dport: 53,
        l4: "udp",
        payload: "\x12\x34\x01\x00",
      }),
    ]),
    set,
  );
  assert.equal(s.flows[0]!.client, "[2001:db8::1]:5353");
  assert.equal(s.flows[0]!.protocol, "dns");
});

test("a truncated capture reports file, offset and reason, and keeps the flows read so far", () => {
  const full = pcapFile(HTTP.map((s) => ethernetFrame(s)));
  const cut = full.subarray(0, full.length - 10);
  const s = classifyCaptureBuffer("cut.pcap", cut, set);
  assert.ok(s.error instanceof CaptureError);
  assert.match(s.error.reason, /truncated record/);
  assert.equal(s.error.file, "cut.pcap");
  assert.ok(s.error.offset > 24);
  assert.equal(s.flows.length, 1);
  assert.equal(s.flows[0]!.packets, 4);
  assert.equal(s.flows[0]!.protocol, "unset"); // the capture ended inside the window
});

test("corrupt and unsupported files give clear errors, never a crash", () => {
  const bad: [Buffer, RegExp][] = [
    [Buffer.alloc(0), /empty file/],
    [Buffer.from("hello world, not a capture"), /not a pcap or pcapng capture/],
    [pcapFile([]).subarray(0, 10), /truncated pcap file header/],
    [
      (() => {
        const b = pcapFile([Buffer.alloc(60)]);
        b.writeUInt32LE(10_000_000, 24 + 8);
        return b;
      })(),
      /implausible/,
    ],
    [
      (() => {
        const b = pcapngFile([Buffer.alloc(60)]);
        b.writeUInt32LE(13, 4); // block length not a multiple of 4
        return b;
      })(),
      /invalid block length/,
    ],
  ];
  for (const [buf, re] of bad) {
    const s = classifyCaptureBuffer("bad", buf, set);
    assert.ok(s.error, re.source);
    assert.match(s.error.reason, re);
  }
  const dir = mkdtempSync(join(tmpdir(), "sluice-"));
  const missing = classifyCaptureFile(join(dir, "nope.pcap"), set);
  assert.match(missing.error!.reason, /cannot open: ENOENT/);
  writeFileSync(join(dir, "ok.pcapng"), pcapngFile(HTTP.map((s) => ethernetFrame(s))));
  const ok = classifyCaptureFile(join(dir, "ok.pcapng"), set);
  assert.equal(ok.format, "pcapng");
  assert.equal(ok.flows[0]!.protocol, "http");
});

test("pcapng: big-endian sections and nanosecond if_tsresol", () => {
  for (const opts of [
    { bigEndian: true },
    { bigEndian: false, tsresol: 9 },
    { bigEndian: true, tsresol: 9 },
  ]) {
    const buf = pcapngFile([ethernetFrame(HTTP[3]!), ethernetFrame(HTTP[4]!)], 1, opts);
    const records = [...readCaptureBuffer(buf)];
    assert.equal(records.length, 2, JSON.stringify(opts));
    assert.equal(records[0]!.linkType, 1);
    assert.equal(records[1]!.time, 1_700_000_001);
    assert.ok(decodeFrame(1, records[0]!.data).ok);
  }
});

test("a capture larger than the read chunk reads the same, with or without buffer reuse", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cap-"));
  const file = join(dir, "big.pcap");
  // ~2.5 MiB of frames of varied sizes, so records straddle the 1 MiB read chunks.
  const frames = Array.from({ length: 3000 }, (_, i) =>
    ethernetFrame({
      src: "10.0.0.1",
      dst: "10.0.0.2",
      sport: 1000 + (i % 50),
      dport: 9,
      l4: "udp",
      payload: String.fromCharCode(65 + (i % 26)).repeat(200 + ((i * 37) % 1200)),
    }),
  );
  writeFileSync(file, pcapFile(frames));
  for (const transient of [false, true]) {
    let n = 0;
    for (const r of readCaptureFile(file, { transient })) {
      assert.ok(r.data.equals(frames[n]!), `record ${n} (transient ${transient})`);
      // A transient record also says where its bytes are in the read chunk.
      if (transient) assert.ok(r.chunk!.subarray(r.at!, r.at! + r.length!).equals(frames[n]!));
      n++;
    }
    assert.equal(n, frames.length);
  }
  // The cursor (no generator) reads the same records; pcapng goes through the generator.
  const drain = (path: string) => {
    const c = openCaptureFile(path);
    const out: Buffer[] = [];
    for (let r = c.next(); !r.done; r = c.next()) out.push(Buffer.from(r.value.data));
    return out;
  };
  assert.deepEqual(drain(file), frames);
  const ng = join(dir, "big.pcapng");
  writeFileSync(ng, pcapngFile(frames.slice(0, 10)));
  assert.deepEqual(drain(ng), frames.slice(0, 10));
  // Cut inside the last record: an error, whether or not the buffer is reused.
  writeFileSync(file, pcapFile(frames).subarray(0, -5));
  for (const transient of [false, true])
    assert.throws(() => [...readCaptureFile(file, { transient })], /truncated record/);
  assert.throws(() => drain(file), /truncated record/);
  assert.throws(() => drain(join(dir, "missing.pcap")), /cannot open/);
});

test("decodeIpPacketAt reads a packet inside a larger buffer as decodeIpPacketInto reads it alone", () => {
  const ip = ipPacket({
    src: "10.0.0.1",
    sport: 4000,
    dst: "10.0.0.2",
    dport: 53,
    l4: "udp",
    payload: "abc",
  });
  const big = Buffer.concat([Buffer.alloc(37, 0xee), ip, Buffer.alloc(11, 0x45)]);
  const alone = new PacketSlot();
  const inside = new PacketSlot();
  assert.equal(decodeIpPacketInto(ip, alone), null);
  assert.equal(decodeIpPacketAt(big, 37, ip.length, inside), null);
  assert.deepEqual(
    [inside.src, inside.dst, inside.sport, inside.dport, inside.l4, inside.payload.toString()],
    [alone.src, alone.dst, alone.sport, alone.dport, alone.l4, "abc"],
  );
  // The bytes before the packet are not read as its header.
  assert.equal(decodeIpPacketAt(big, 0, ip.length, inside), "not-ip");
});
