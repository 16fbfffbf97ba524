// Related connections: a control flow announces a connection (FTP PORT/EPRT/PASV/EPSV,
// SDP in SIP, RTSP Transport:, a TFTP request), and the flow that fits is decided at its
// first packet with the related protocol, through the real flow table and protocols/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ExpectationTable,
  FlowTable,
  announcements,
  classifyCaptureBuffer,
  decodeFrame,
  loadPatternDirs,
  type DecodedPacket,
  type Flow,
} from "../src/index.ts";
import { ethernetFrame, ipPacket, pcapFile, type FrameSpec } from "./helpers/frames.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const set = loadPatternDirs([join(ROOT, "protocols")]);

function pkt(spec: FrameSpec): DecodedPacket {
  const d = decodeFrame(101, ipPacket(spec));
  if (!d.ok) throw new Error(d.reason);
  return d.packet;
}

/** A TCP conversation: handshake, then the messages in order (sequence numbers kept). */
function tcp(
  client: [string, number],
  server: [string, number],
  msgs: { dir: "c2s" | "s2c"; data: string }[],
): FrameSpec[] {
  const seq = { c2s: 1000, s2c: 9000 };
  const [cip, cport] = client;
  const [sip, sport] = server;
  const out: FrameSpec[] = [
    { src: cip, dst: sip, sport: cport, dport: sport, l4: "tcp", seq: seq.c2s++, flags: { syn: true } },
    {
      src: sip,
      dst: cip,
      sport,
      dport: cport,
      l4: "tcp",
      seq: seq.s2c++,
      flags: { syn: true, ack: true },
    },
  ];
  for (const m of msgs) {
    const c = m.dir === "c2s";
    out.push({
      src: c ? cip : sip,
      dst: c ? sip : cip,
      sport: c ? cport : sport,
      dport: c ? sport : cport,
      l4: "tcp",
      seq: seq[m.dir],
      payload: m.data,
      flags: { ack: true },
    });
    seq[m.dir] += m.data.length;
  }
  return out;
}

function run(table: FlowTable, specs: FrameSpec[], t = 1): Flow {
  let flow: Flow | null = null;
  for (const s of specs) flow = table.observe(pkt(s), t).flow;
  return flow!;
}

const login = (extra: { dir: "c2s" | "s2c"; data: string }[]) => [
  { dir: "s2c" as const, data: "220 (vsFTPd 3.0.3)\r\n" },
  { dir: "c2s" as const, data: "USER anonymous\r\n" },
  { dir: "s2c" as const, data: "331 Please specify the password.\r\n" },
  { dir: "c2s" as const, data: "PASS guest@\r\n" },
  { dir: "s2c" as const, data: "230 Login successful.\r\n" },
  { dir: "c2s" as const, data: "TYPE I\r\n" },
  { dir: "s2c" as const, data: "200 Switching to Binary mode.\r\n" },
  ...extra,
];

test("FTP passive (PASV, 227) on a non-standard data port: the data connection is ftp-data", () => {
  const table = new FlowTable(set, { expectations: new ExpectationTable() });
  const ctl = run(
    table,
    tcp(
      ["10.0.0.2", 40000],
      ["10.0.0.1", 2121],
      login([
        { dir: "c2s", data: "PASV\r\n" },
        { dir: "s2c", data: "227 Entering Passive Mode (10,0,0,1,195,80).\r\n" },
      ]),
    ),
  );
  assert.equal(ctl.protocol, "ftp");
  // The downloaded file looks like HTTP: without the expectation it would be http.
  const data = run(
    table,
    tcp(["10.0.0.2", 40001], ["10.0.0.1", 195 * 256 + 80], [{ dir: "s2c", data: "HTTP/1.1 200 OK\r\n\r\n" }]),
  );
  assert.equal(data.protocol, "ftp-data");
  assert.equal(data.decidedAtPacket, 1);
  assert.deepEqual(data.master, { id: ctl.id, protocol: "ftp" });
  assert.equal(data.mark, set.get("ftp-data")!.mark);
  // One data connection per announcement; another client's connection is not taken.
  const again = run(table, tcp(["10.0.0.2", 40002], ["10.0.0.1", 195 * 256 + 80], []));
  assert.equal(again.protocol, "unset");
});

test("FTP active (PORT) and EPRT: the server's connection to the client is ftp-data", () => {
  const table = new FlowTable(set, { expectations: new ExpectationTable() });
  run(
    table,
    tcp(
      ["10.0.0.2", 40010],
      ["10.0.0.1", 21],
      login([
        { dir: "c2s", data: "PORT 10,0,0,2,156,64\r\n" },
        { dir: "s2c", data: "200 PORT command successful.\r\n" },
      ]),
    ),
  );
  const active = run(table, tcp(["10.0.0.1", 20], ["10.0.0.2", 156 * 256 + 64], []));
  assert.equal(active.protocol, "ftp-data");
  assert.equal(active.clientIp, "10.0.0.1", "the server opens an active data connection");

  const v6 = new FlowTable(set, { expectations: new ExpectationTable() });
  run(
    v6,
    tcp(
      ["2001:db8::2", 40020],
      ["2001:db8::1", 21],
      login([{ dir: "c2s", data: "EPRT |2|2001:DB8:0:0::2|50123|\r\n" }]),
    ),
  );
  assert.equal(run(v6, tcp(["2001:db8::1", 20], ["2001:db8::2", 50123], [])).protocol, "ftp-data");
});

test("FTP EPSV (229) over IPv6: the client connects to the control connection's address", () => {
  const table = new FlowTable(set, { expectations: new ExpectationTable() });
  run(
    table,
    tcp(
      ["2001:db8::2", 40030],
      ["2001:db8::1", 21],
      login([
        { dir: "c2s", data: "EPSV\r\n" },
        { dir: "s2c", data: "229 Entering Extended Passive Mode (|||31000|)\r\n" },
      ]),
    ),
  );
  assert.equal(run(table, tcp(["2001:db8::2", 40031], ["2001:db8::1", 31000], [])).protocol, "ftp-data");
});

test("TFTP: the transfer from the server's new port is tftp, whatever it carries", () => {
  const table = new FlowTable(set, { expectations: new ExpectationTable() });
  const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from("boot.img\0octet\0", "latin1")]);
  const req = run(table, [
    { src: "10.0.0.2", dst: "10.0.0.1", sport: 50000, dport: 69, l4: "udp", payload: rrq },
  ]);
  assert.equal(req.protocol, "tftp");
  const block = Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.alloc(512, 0x41)]);
  const data = run(table, [
    { src: "10.0.0.1", dst: "10.0.0.2", sport: 41234, dport: 50000, l4: "udp", payload: block },
  ]);
  assert.equal(data.protocol, "tftp");
  assert.equal(data.decidedAtPacket, 1);
  assert.equal(data.master?.protocol, "tftp");
});

test("SIP with SDP and RTSP Transport: the media ports (RTP and RTCP) are rtp", () => {
  const table = new FlowTable(set, { expectations: new ExpectationTable() });
  const sdp = [
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 10.0.0.2",
    "s=-",
    "c=IN IP4 10.0.0.2",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0 8 101",
    "",
  ].join("\r\n");
  const invite = [
    "INVITE sip:bob@10.0.0.1 SIP/2.0",
    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds",
    "From: <sip:alice@10.0.0.2>;tag=1928301774",
    "To: <sip:bob@10.0.0.1>",
    "Call-ID: a84b4c76e66710",
    "CSeq: 314159 INVITE",
    "Content-Type: application/sdp",
    `Content-Length: ${sdp.length}`,
    "",
    sdp,
  ].join("\r\n");
  const ctl = run(table, [
    { src: "10.0.0.2", dst: "10.0.0.1", sport: 5060, dport: 5060, l4: "udp", payload: invite },
  ]);
  assert.equal(ctl.protocol, "sip");
  // Media to the announced port, and from it (the announcer sends first), and RTCP on +1.
  const noise = Buffer.from("0123456789abcdef0123", "latin1");
  const rtp = (src: string, sport: number, dst: string, dport: number) =>
    run(table, [{ src, dst, sport, dport, l4: "udp", payload: noise }]);
  assert.equal(rtp("10.0.0.1", 30000, "10.0.0.2", 49170).protocol, "rtp");
  assert.equal(rtp("10.0.0.2", 49171, "10.0.0.1", 30001).protocol, "rtp");

  const rtsp = new FlowTable(set, { expectations: new ExpectationTable() });
  run(
    rtsp,
    tcp(
      ["10.0.0.2", 41000],
      ["10.0.0.1", 554],
      [
        {
          dir: "c2s",
          data: "SETUP rtsp://10.0.0.1/cam/track1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n",
        },
        {
          dir: "s2c",
          data: "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971\r\nSession: 12345678\r\n\r\n",
        },
      ],
    ),
  );
  const media = run(rtsp, [
    { src: "10.0.0.1", dst: "10.0.0.2", sport: 6970, dport: 5000, l4: "udp", payload: noise },
  ]);
  assert.equal(media.protocol, "rtp");
  assert.equal(media.master?.protocol, "rtsp");
});

test("announcements: bad addresses and ports announce nothing; expectations lapse", () => {
  const flow = {
    id: 1,
    l4: "tcp" as const,
    protocol: "ftp",
    clientIp: "10.0.0.2",
    clientPort: 40000,
    serverIp: "10.0.0.1",
    serverPort: 21,
  };
  const ann = (fromClient: boolean, s: string) => announcements(flow, fromClient, Buffer.from(s, "latin1"));
  assert.deepEqual(ann(true, "PORT 10,0,0,300,1,2\r\n"), []);
  assert.deepEqual(ann(true, "PORT 10,0,0,2,0,0\r\n"), []);
  assert.deepEqual(ann(false, "227 Entering Passive Mode (10,0,0,1,256,1)\r\n"), [], "port 65537");
  assert.deepEqual(ann(true, "EPRT |2|not-an-address|2000|\r\n"), []);
  assert.equal(ann(false, "PORT 10,0,0,2,1,2\r\n").length, 0, "PORT comes from the client only");

  const t = new ExpectationTable({ timeoutSeconds: 10 });
  t.learn(flow, false, Buffer.from("227 Entering Passive Mode (10,0,0,1,4,1)\r\n"), 100);
  assert.equal(t.size, 1);
  assert.equal(t.take("tcp", "10.0.0.2", 1, "10.0.0.1", 1025, 111), null, "lapsed after 10 s");
  assert.equal(t.size, 0);
  assert.equal(t.mayFit(1, 1025), false, "no entry left on port 1025");

  // The per-port count follows entries in and out (a new flow on another port is skipped).
  t.learn(flow, false, Buffer.from("227 Entering Passive Mode (10,0,0,1,4,2)\r\n"), 200);
  assert.equal(t.mayFit(40001, 1026), true);
  assert.equal(t.mayFit(40001, 1027), false);
  assert.equal(t.take("tcp", "10.0.0.2", 40001, "10.0.0.1", 1027, 201), null);
  assert.equal(t.take("tcp", "10.0.0.2", 40001, "10.0.0.1", 1026, 201)?.protocol, "ftp-data");
  assert.equal(t.mayFit(40001, 1026), false, "used once");
});

test("sluice classify over a capture: control first, then the data connection", () => {
  const frames = [
    ...tcp(
      ["192.0.2.10", 40100],
      ["198.51.100.7", 21],
      login([
        { dir: "c2s", data: "PASV\r\n" },
        { dir: "s2c", data: "227 Entering Passive Mode (198,51,100,7,117,48).\r\n" },
        { dir: "c2s", data: "RETR big.iso\r\n" },
      ]),
    ),
    ...tcp(["192.0.2.10", 40101], ["198.51.100.7", 117 * 256 + 48], [{ dir: "s2c", data: "\x7fELF binary" }]),
  ].map((s) => ethernetFrame(s));
  const summary = classifyCaptureBuffer("ftp.pcap", pcapFile(frames), set);
  assert.deepEqual(
    summary.flows.map((f) => [f.server, f.protocol]),
    [
      ["198.51.100.7:21", "ftp"],
      ["198.51.100.7:30000", "ftp-data"],
    ],
  );
});
