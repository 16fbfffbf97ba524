// The data plane's pure parts (no root, no kernel): netlink packet parsing, batched verdict
// messages, the rule text, conntrack parsing and option validation.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  NFQNL_MSG_PACKET_TYPE,
  NFQNL_MSG_VERDICT_BATCH_TYPE,
  VERDICT_MSG_LEN,
  VerdictBatch,
  parseMessages,
  type PacketView,
} from "../src/nfqueue/netlink.ts";
import { DataPlane } from "../src/nfqueue/data-plane.ts";
import { DecidedFlowCache } from "../src/nfqueue/flow-cache.ts";

function attr(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

function packetMsg(id: number, mark: number | null, payload: Buffer, queue = 0): Buffer {
  const hdr = Buffer.alloc(7);
  hdr.writeUInt32BE(id, 0);
  hdr.writeUInt16BE(0x0800, 4);
  hdr[6] = 0; // NF_INET_PRE_ROUTING
  const attrs = [attr(1, hdr)];
  if (mark !== null) {
    const m = Buffer.alloc(4);
    m.writeUInt32BE(mark);
    attrs.push(attr(3 | 0x4000 /* NLA_F_NET_BYTEORDER is masked off */, m));
  }
  attrs.push(attr(10, payload));
  const body = Buffer.concat(attrs);
  const msg = Buffer.alloc(20 + body.length);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(NFQNL_MSG_PACKET_TYPE, 4);
  msg.writeUInt16BE(queue, 18);
  body.copy(msg, 20);
  return msg;
}

test("parseMessages reads id, mark and payload of each packet message in a datagram", () => {
  const p1 = Buffer.from("4500001c", "hex");
  const p2 = Buffer.from("600000000000", "hex");
  const dgram = Buffer.concat([Buffer.alloc(8), packetMsg(7, 0x1234, p1), packetMsg(8, null, p2)]);
  const seen: (PacketView & { bytes: string })[] = [];
  const errors: number[] = [];
  const n = parseMessages(dgram, 8, dgram.length - 8, {
    packet: (p) =>
      seen.push({
        ...p,
        bytes: dgram.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength).toString("hex"),
      }),
    error: (e) => errors.push(e),
  });
  assert.equal(n, 2);
  assert.deepEqual(errors, []);
  assert.equal(seen[0]!.id, 7);
  assert.equal(seen[0]!.mark, 0x1234);
  assert.equal(seen[0]!.hwProtocol, 0x0800);
  assert.equal(seen[0]!.bytes, "4500001c");
  assert.equal(seen[1]!.id, 8);
  assert.equal(seen[1]!.mark, 0);
  assert.equal(seen[1]!.bytes, "600000000000");
});

test("parseMessages reports NLMSG_ERROR and survives a truncated datagram", () => {
  const err = Buffer.alloc(36);
  err.writeUInt32LE(36, 0);
  err.writeUInt16LE(2, 4);
  err.writeInt32LE(-22, 16);
  const errors: number[] = [];
  const full = packetMsg(9, 5, Buffer.alloc(100, 0x45));
  const dgram = Buffer.concat([err, full]);
  let got: PacketView | null = null;
  const cut = dgram.length - 40; // the payload attribute runs past the end
  parseMessages(dgram, 0, cut, { packet: (p) => (got = { ...p }), error: (e) => errors.push(e) });
  assert.deepEqual(errors, [22]);
  assert.ok(got);
  const g = got as PacketView;
  assert.equal(g.id, 9);
  assert.equal(g.payloadOffset + g.payloadLength, cut);
});

test("VerdictBatch writes one batch verdict per run of equal marks, in order", () => {
  const buf = Buffer.alloc(VERDICT_MSG_LEN * 8);
  const v = new VerdictBatch(buf, 3);
  v.add(10, 1, 0x100);
  v.add(11, 1, 0x100);
  v.add(12, 1, 0x300);
  v.add(13, 1, 0x100);
  v.close();
  assert.equal(v.messages, 3);
  assert.equal(v.packets, 4);
  assert.equal(v.length, 3 * VERDICT_MSG_LEN);
  const msgs = [0, 1, 2].map((i) => {
    const o = i * VERDICT_MSG_LEN;
    return {
      len: buf.readUInt32LE(o),
      type: buf.readUInt16LE(o + 4),
      flags: buf.readUInt16LE(o + 6),
      queue: buf.readUInt16BE(o + 18),
      verdict: buf.readUInt32BE(o + 24),
      id: buf.readUInt32BE(o + 28),
      mark: buf.readUInt32BE(o + 36),
    };
  });
  for (const m of msgs) {
    assert.equal(m.len, VERDICT_MSG_LEN);
    assert.equal(m.type, NFQNL_MSG_VERDICT_BATCH_TYPE);
    assert.equal(m.flags, 1);
    assert.equal(m.queue, 3);
    assert.equal(m.verdict, 1);
  }
  assert.deepEqual(
    msgs.map((m) => [m.id, m.mark]),
    [
      [11, 0x100],
      [12, 0x300],
      [13, 0x100],
    ],
  );
  v.reset();
  assert.equal(v.length, 0);
});

test("DataPlane.start rejects bad options before starting anything", async () => {
  const base = { queues: [0], protocolDirs: ["/nonexistent"] };
  await assert.rejects(DataPlane.start({ ...base, queues: [] }), /at least one queue/);
  await assert.rejects(DataPlane.start({ ...base, queues: [0, 0] }), /listed twice/);
  await assert.rejects(DataPlane.start({ ...base, queues: [70000] }), /bad queue number/);
  await assert.rejects(DataPlane.start({ ...base, mask: 0x3, shift: 1 }), /no room for protocol marks/);
  await assert.rejects(DataPlane.start({ ...base, copyRange: 10 }), /copy range/);
  await assert.rejects(DataPlane.start({ ...base, eventsPerInterval: -1 }), /bad eventsPerInterval/);
  await assert.rejects(DataPlane.start(base), /protocols directory not found/);
});

test("DecidedFlowCache keys plain TCP/UDP packets by connection (both directions alike) and sends the rest to the slow path", () => {
  const v4 = (proto: number, flags: number, frag = 0, reply = false) => {
    const b = Buffer.alloc(60);
    b[0] = 0x45;
    b.writeUInt16BE(60, 2);
    b.writeUInt16BE(frag, 6);
    b[9] = proto;
    Buffer.from(reply ? [10, 0, 0, 2, 10, 0, 0, 1] : [10, 0, 0, 1, 10, 0, 0, 2]).copy(b, 12);
    b.writeUInt16BE(reply ? 80 : 40000, 20);
    b.writeUInt16BE(reply ? 40000 : 80, 22);
    b[33] = flags;
    return b;
  };
  const key = (b: Buffer) => DecidedFlowCache.key(b, 0, b.length);
  assert.equal(key(v4(6, 0x10))?.length, 13);
  assert.equal(key(v4(6, 0x10)), key(v4(6, 0x10, 0, true)), "a reply has its request's key");
  assert.equal(key(v4(6, 0x11)), key(v4(6, 0x10)), "FIN: same connection");
  assert.notEqual(key(v4(6, 0x10)), key(v4(17, 0)));
  assert.equal(DecidedFlowCache.isNewSyn(v4(6, 0x02), 0), true);
  assert.equal(DecidedFlowCache.isNewSyn(v4(6, 0x12), 0), false, "SYN-ACK");
  assert.equal(DecidedFlowCache.isNewSyn(v4(17, 0x02), 0), false);
  assert.equal(key(v4(1, 0)), null); // ICMP
  assert.equal(key(v4(17, 0, 0x2000)), null); // more fragments
  const opts = v4(17, 0);
  opts[0] = 0x46;
  assert.equal(key(opts), null); // IPv4 options
  const v6 = Buffer.alloc(60);
  v6[0] = 0x60;
  v6[6] = 17;
  v6[8] = 0xfd;
  assert.equal(key(v6)?.length, 37);
  v6[6] = 0; // hop-by-hop header first
  assert.equal(key(v6), null);
});

test("DecidedFlowCache forgets records idle for two periods and keeps the ones still seen", () => {
  const rec = (mark: number) => ({ mark, appId: 0, hostname: null, bits: 0, hostRule: 0, generation: 0 });
  const cache = new DecidedFlowCache(1000, 60, 0);
  cache.set("a", rec(3), 0);
  cache.set("b", rec(4), 0);
  assert.equal(cache.get("a", 61)?.mark, 3, "swapped into the previous generation, found, moved back");
  assert.equal(cache.size, 2);
  assert.equal(cache.get("b", 122), undefined, "not seen for two periods");
  assert.equal(cache.get("a", 122)?.mark, 3);
  cache.delete("a");
  assert.equal(cache.get("a", 122), undefined);
  const small = new DecidedFlowCache(4, 60, 0);
  for (const k of ["1", "2", "3", "4", "5"]) small.set(k, rec(5), 0);
  assert.ok(small.size <= 4, `bounded by its size too (${small.size})`);
});
