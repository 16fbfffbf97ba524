// A data-plane worker's packet path without a kernel (PacketClassifier): raw IPv4 packets
// in, packet marks out. A decided flow leaves the flow table for a compact record that
// still marks its late packets; an apply's routing reaches those records; a new SYN on the
// tuple starts over; the kernel's past-the-window signal decides an undecided flow.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadPatternDirs, subjectArena } from "@sluice/classifier";
import { markFields } from "@sluice/policy";
import { PacketClassifier } from "../src/nfqueue/packet-classifier.ts";

const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const patterns = loadPatternDirs([PROTOCOLS]);
const fields = markFields();
const routing = {
  mask: fields.protocol.mask,
  shift: fields.protocol.shift,
  app: fields.app,
  host: fields.host,
  hostRules: [] as { glob: string; id: number }[],
};
const l7 = (mark: number) => (mark & routing.mask) >>> routing.shift;
const hostField = (mark: number) => (mark & routing.host.mask) >>> routing.host.shift;

const CLIENT = [192, 168, 1, 10];
const SERVER = [203, 0, 113, 5];
/** An IPv4 TCP segment (flags: 0x02 SYN, 0x10 ACK, 0x12 SYN-ACK, 0x18 PSH-ACK). */
function tcp(fromClient: boolean, flags: number, payload = "", seq = 1): Buffer {
  const body = Buffer.from(payload, "latin1");
  const b = Buffer.alloc(40 + body.length);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[8] = 64;
  b[9] = 6;
  b.set(fromClient ? CLIENT : SERVER, 12);
  b.set(fromClient ? SERVER : CLIENT, 16);
  b.writeUInt16BE(fromClient ? 40000 : 80, 20);
  b.writeUInt16BE(fromClient ? 80 : 40000, 22);
  b.writeUInt32BE(seq, 24);
  b[32] = 0x50;
  b[33] = flags;
  body.copy(b, 40);
  return b;
}

function classifier() {
  const pc = new PacketClassifier({
    queue: 0,
    matcher: patterns,
    window: { packets: 10, bytes: 2048 },
    maxFlows: 1000,
    routing,
    apps: null,
  });
  pc.setTime(1000);
  const send = (b: Buffer, mark = 0) => pc.handle({ mark, payloadOffset: 0, payloadLength: b.length }, b);
  return { pc, send };
}

const REQUEST = "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: test\r\n\r\n";

test("a decided flow leaves the flow table; its late packets still get its mark from the compact record", () => {
  const before = subjectArena.inUse;
  const { pc, send } = classifier();
  assert.equal(l7(send(tcp(true, 0x02, "", 0))), 1, "unset while inspected");
  send(tcp(false, 0x12, "", 0));
  send(tcp(true, 0x10));
  assert.equal(pc.table.size, 1);
  const decided = send(tcp(true, 0x18, REQUEST));
  const http = patterns.get("http")!;
  assert.equal(l7(decided), http.mark);
  assert.equal(pc.counters.decided, 1);
  assert.equal(pc.table.size, 0, "the decided flow left the table");
  assert.equal(pc.decidedFlows.size, 1);
  assert.equal(pc.activeFlows, 1);
  assert.equal(subjectArena.inUse, before, "its subject's storage went back to the arena");
  const events = pc.takeEvents();
  assert.equal(events.length, 1);
  assert.equal(events[0]!.protocol, "http");
  assert.equal(events[0]!.hostname, "www.example.com");

  // Packets queued before the verdict reached the connection: both directions, a FIN too.
  assert.equal(send(tcp(false, 0x18, "HTTP/1.1 200 OK\r\n\r\n")), decided);
  assert.equal(send(tcp(true, 0x11)), decided);
  assert.equal(pc.table.size, 0, "no flow re-created from the middle");
  assert.equal(pc.counters.decided, 1);
  // Bits outside Sluice's fields are kept.
  assert.equal(send(tcp(true, 0x10), 0x5), (decided | 0x5) >>> 0);

  // An apply: the hostname rule's id reaches the record's next packet.
  pc.setRouting({ ...routing, hostRules: [{ glob: "*.example.com", id: 7 }] });
  const routed = send(tcp(true, 0x10));
  assert.equal(hostField(routed), 7);
  assert.equal(l7(routed), http.mark);
});

test("a new SYN on a decided flow's tuple drops its record and is inspected as a new flow", () => {
  const { pc, send } = classifier();
  send(tcp(true, 0x02, "", 0));
  send(tcp(false, 0x12, "", 0));
  send(tcp(true, 0x10));
  send(tcp(true, 0x18, REQUEST));
  assert.equal(pc.decidedFlows.size, 1);
  assert.equal(l7(send(tcp(true, 0x02, "", 5000))), 1, "unset: a new connection");
  assert.equal(pc.decidedFlows.size, 0);
  assert.equal(pc.table.size, 1);
});

test("the kernel's past-the-window mark decides an undecided flow as unknown, and it leaves the table", () => {
  const { pc, send } = classifier();
  send(tcp(true, 0x02, "", 0));
  send(tcp(false, 0x12, "", 0));
  assert.equal(pc.table.size, 1);
  const late = (2 << routing.shift) >>> 0;
  const m = send(tcp(true, 0x18, "\x01\x02 no protocol here"), late);
  assert.equal(l7(m), 2, "unknown");
  assert.equal(pc.counters.late, 1);
  assert.equal(pc.counters.decided, 1);
  assert.equal(pc.table.size, 0);
  assert.equal(l7(send(tcp(false, 0x10))), 2, "its record answers the next packet");
});

test("RTSP: a SETUP reply is held until its media is expected; the media gets rtp's mark", () => {
  const rtsp = patterns.get("rtsp")!.mark;
  const rtp = patterns.get("rtp")!.mark;
  const requests: { key: string; elements: { tuple: object; mark: number }[] }[] = [];
  const pc = new PacketClassifier({
    queue: 0,
    matcher: patterns,
    window: { packets: 10, bytes: 2048 },
    maxFlows: 1000,
    routing: { ...routing, rtsp: { control: rtsp, media: rtp } },
    apps: null,
    onMedia: (r) => requests.push(r),
  });
  let now = 1000;
  pc.setTime(now);
  const send = (b: Buffer) => pc.handle({ mark: 0, payloadOffset: 0, payloadLength: b.length }, b);
  send(tcp(true, 0x02, "", 0));
  send(tcp(false, 0x12, "", 0));
  send(tcp(true, 0x10));
  assert.equal(l7(send(tcp(true, 0x18, "OPTIONS rtsp://203.0.113.5/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n"))), rtsp);
  // Replies without a Transport pass; the client's SETUP request (client_port only) passes.
  assert.equal(l7(send(tcp(false, 0x18, "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: PLAY\r\n\r\n"))), rtsp);
  const setup =
    "SETUP rtsp://203.0.113.5/cam/track1 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n";
  assert.equal(l7(send(tcp(true, 0x18, setup))), rtsp);
  assert.equal(requests.length, 0);
  const reply =
    "RTSP/1.0 200 OK\r\nCSeq: 2\r\nSession: 42\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971\r\n\r\n";
  // Held (dropped) until the main thread answers; its retransmission too.
  assert.equal(send(tcp(false, 0x18, reply)), -1);
  assert.equal(requests.length, 1);
  const mark = (rtp << routing.shift) >>> 0;
  assert.deepEqual(requests[0]!.elements, [
    { tuple: { client: "192.168.1.10", clientPort: 5000, server: "203.0.113.5", serverPort: 6970 }, mark },
    { tuple: { client: "192.168.1.10", clientPort: 5001, server: "203.0.113.5", serverPort: 6971 }, mark },
  ]);
  now += 0.3;
  pc.setTime(now);
  assert.equal(send(tcp(false, 0x18, reply)), -1, "the retransmission is held too");
  assert.equal(requests.length, 1, "asked once");
  pc.mediaReady(requests[0]!.key);
  assert.equal(l7(send(tcp(false, 0x18, reply))), rtsp, "passes once the media is expected");
  assert.equal(pc.counters.rtspHeld, 1);
  // Nobody answers: held at most two seconds, then it passes (the media is classified alone).
  const other = reply.replace("5000-5001", "5002-5003").replace("6970-6971", "6972-6973");
  assert.equal(send(tcp(false, 0x18, other)), -1);
  now += 2.5;
  pc.setTime(now);
  assert.equal(l7(send(tcp(false, 0x18, other))), rtsp);
  // Without routing.rtsp (no maps in the policy), nothing is held.
  pc.setRouting(routing);
  const third = reply.replace("5000-5001", "5004-5005");
  assert.equal(l7(send(tcp(false, 0x18, third))), rtsp);
  assert.equal(requests.length, 2);
});

test("decided-flow events over maxEvents are counted, not kept, but a flow with a host name always has its event", () => {
  const pc = new PacketClassifier({
    queue: 0,
    matcher: patterns,
    window: { packets: 10, bytes: 2048 },
    maxFlows: 1000,
    maxEvents: 2,
    routing,
    apps: null,
  });
  pc.setTime(1000);
  // BitTorrent DHT queries from five client ports: each decided at its first datagram.
  const dht = (port: number) => {
    const body = Buffer.from("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", "latin1");
    const b = Buffer.alloc(28 + body.length);
    b[0] = 0x45;
    b.writeUInt16BE(b.length, 2);
    b[8] = 64;
    b[9] = 17;
    b.set(CLIENT, 12);
    b.set(SERVER, 16);
    b.writeUInt16BE(port, 20);
    b.writeUInt16BE(6881, 22);
    b.writeUInt16BE(8 + body.length, 24);
    body.copy(b, 28);
    return pc.handle({ mark: 0, payloadOffset: 0, payloadLength: b.length }, b);
  };
  const marks = [50001, 50002, 50003, 50004, 50005].map(dht);
  const send = (b: Buffer) => pc.handle({ mark: 0, payloadOffset: 0, payloadLength: b.length }, b);
  send(tcp(true, 0x02, "", 0));
  send(tcp(false, 0x12, "", 0));
  send(tcp(true, 0x10));
  send(tcp(true, 0x18, REQUEST));
  // Every flow got its verdict and was counted, whatever happened to its event.
  assert.ok(marks.every((m) => l7(m) >= 3 && m === marks[0]));
  assert.equal(pc.counters.decided, 6);
  assert.equal(pc.counters.eventsDropped, 3);
  const events = pc.takeEvents();
  assert.deepEqual(
    events.map((e) => e.hostname ?? e.client),
    ["192.168.1.10:50001", "192.168.1.10:50002", "www.example.com"],
  );
  // The limit is per takeEvents: the next period starts with room again.
  dht(50006);
  assert.equal(pc.takeEvents().length, 1);
});

test("decided flows without a host name share a record; a host rule reaches only the flows with the name", () => {
  const { pc, send } = classifier();
  /** The same segment from another client port (another flow). */
  const port = (b: Buffer, fromClient: boolean, p: number) => {
    b.writeUInt16BE(p, fromClient ? 20 : 22);
    return b;
  };
  const ssh = patterns.get("ssh")!;
  const http = patterns.get("http")!;
  const marks: number[] = [];
  for (const p of [40001, 40002]) {
    send(port(tcp(true, 0x02, "", 0), true, p));
    send(port(tcp(false, 0x12, "", 0), false, p));
    send(port(tcp(true, 0x10), true, p));
    marks.push(send(port(tcp(true, 0x18, "SSH-2.0-OpenSSH_9.2\r\n"), true, p)));
  }
  assert.deepEqual(marks.map(l7), [ssh.mark, ssh.mark]);
  send(tcp(true, 0x02, "", 0));
  send(tcp(false, 0x12, "", 0));
  send(tcp(true, 0x10));
  assert.equal(l7(send(tcp(true, 0x18, REQUEST))), http.mark);
  assert.equal(pc.decidedFlows.size, 3);

  pc.setRouting({ ...routing, hostRules: [{ glob: "*.example.com", id: 7 }] });
  for (const p of [40001, 40002]) {
    const late = send(port(tcp(true, 0x10), true, p));
    assert.equal(l7(late), ssh.mark);
    assert.equal(hostField(late), 0, "no host rule for a flow without a name");
  }
  assert.equal(hostField(send(tcp(true, 0x10))), 7);
  assert.equal(pc.table.size, 0, "late packets were served by the records");
});
