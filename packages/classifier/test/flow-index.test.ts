import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FlowIndex, addressBytes, hashKey, hashV4 } from "../src/flow/flow-index.ts";
import { FlowTable, compilePatterns, decodeFrame, type DecodedPacket } from "../src/index.ts";
import { ipPacket, type FrameSpec } from "./helpers/frames.ts";

interface Tuple {
  proto: 6 | 17;
  family: 4 | 6;
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

const setKey = (ix: FlowIndex<unknown>, t: Tuple) =>
  ix.setKeyFromText(t.proto, t.family, t.src, t.dst, t.sport, t.dport);
const canonical = (t: Tuple) => {
  const a = `${t.src}|${t.sport}`;
  const b = `${t.dst}|${t.dport}`;
  return `${t.proto}|${t.family}|${a < b ? a : b}|${a < b ? b : a}`;
};

// Few addresses and ports, so that tuples collide, repeat and reverse often.
const tupleArb: fc.Arbitrary<Tuple> = fc
  .record({
    proto: fc.constantFrom(6 as const, 17 as const),
    family: fc.constantFrom(4 as const, 6 as const),
    src: fc.integer({ min: 0, max: 3 }),
    dst: fc.integer({ min: 0, max: 3 }),
    sport: fc.constantFrom(1, 80, 65535),
    dport: fc.constantFrom(1, 80, 65535),
  })
  .map((r) => ({
    ...r,
    src: r.family === 4 ? `10.0.0.${r.src}` : `2001:db8::${r.src}`,
    dst: r.family === 4 ? `255.0.0.${r.dst}` : `ff02::1:${r.dst}`,
  }));

test("the index agrees with a Map of canonical string keys under inserts, lookups and removals", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom("get", "put", "del", "back"), t: tupleArb }), {
        maxLength: 400,
      }),
      (ops) => {
        const ix = new FlowIndex<string>(4); // tiny: grows and rehashes on the way
        const model = new Map<string, string>();
        for (const { op, t } of ops) {
          const k = canonical(t);
          setKey(ix, t);
          const e = ix.find();
          assert.equal(e >= 0, model.has(k), `find ${k}`);
          if (e >= 0) assert.equal(ix.value(e), model.get(k));
          if (op === "put" && e < 0) {
            ix.insert(k);
            model.set(k, k);
          } else if (op === "del" && e >= 0) {
            ix.remove(e);
            model.delete(k);
          } else if (op === "back" && e >= 0) {
            // Second chance: the entry goes to the back of the list, like a Map re-insert.
            ix.moveToBack(e);
            model.delete(k);
            model.set(k, k);
          }
          assert.equal(ix.size, model.size);
        }
        assert.deepEqual([...ix.entries()], [...model.values()]);
      },
    ),
    { numRuns: 300 },
  );
});

test("an IPv4 key hashes as the ten-word key with its six zero words (same table layout)", () => {
  fc.assert(
    fc.property(fc.integer(), fc.integer(), fc.integer(), fc.integer(), (w0, w1, w2, w6) => {
      const k = new Int32Array(10);
      k[0] = w0;
      k[1] = w1;
      k[2] = w2;
      k[6] = w6;
      assert.equal(hashV4(k[0]!, k[1]!, k[2]!, k[6]!), hashKey(k));
    }),
    { numRuns: 2000 },
  );
});

test("an IPv4 key after an IPv6 one finds only IPv4 flows (the IPv6 key's tail words are left behind)", () => {
  const ix = new FlowIndex<string>();
  const v6: Tuple = { proto: 6, family: 6, src: "2001:db8::1", dst: "2001:db8::2", sport: 1000, dport: 443 };
  const v4: Tuple = { proto: 6, family: 4, src: "10.0.0.1", dst: "10.0.0.2", sport: 1000, dport: 443 };
  setKey(ix, v6);
  ix.insert("v6");
  setKey(ix, v4);
  assert.equal(ix.find(), -1);
  ix.insert("v4");
  setKey(ix, v6);
  assert.equal(ix.value(ix.find()), "v6");
  setKey(ix, v4);
  assert.equal(ix.value(ix.find()), "v4");
});

test("both directions share a key; `swapped` tells them apart; same ends are flagged", () => {
  const ix = new FlowIndex<string>();
  const t: Tuple = { proto: 6, family: 4, src: "10.0.0.9", dst: "10.0.0.1", sport: 40000, dport: 80 };
  setKey(ix, t);
  const forward = ix.swapped;
  ix.insert("flow");
  setKey(ix, { ...t, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport });
  assert.equal(ix.value(ix.find()), "flow");
  assert.notEqual(ix.swapped, forward);
  // Another transport, or another port, is another flow.
  setKey(ix, { ...t, proto: 17 });
  assert.equal(ix.find(), -1);
  setKey(ix, { ...t, sport: 40001 });
  assert.equal(ix.find(), -1);
  setKey(ix, { ...t, dst: t.src, dport: t.sport });
  assert.equal(ix.sameEnds, true);
});

test("address text and address bytes give the same key (IPv4, IPv6 with ::, embedded IPv4)", () => {
  const cases: [string, 4 | 6, number[]][] = [
    ["192.0.2.255", 4, [192, 0, 2, 255]],
    ["2001:db8::1", 6, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]],
    ["::", 6, Array(16).fill(0)],
    ["::ffff:1.2.3.4", 6, [...Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4]],
    ["fe80::1:2", 6, [0xfe, 0x80, ...Array(10).fill(0), 0, 1, 0, 2]],
    ["1:2:3:4:5:6:7:8", 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ];
  for (const [text, family, bytes] of cases) {
    const out = new Uint8Array(16);
    addressBytes(text, family, out, 0);
    assert.deepEqual([...out.subarray(0, family === 4 ? 4 : 16)], bytes, text);
  }
  for (const bad of ["1.2.3", "1.2.3.256", "1::2::3", "1:2:3:4:5:6:7", "12345::"])
    assert.throws(() => addressBytes(bad, bad.includes(":") ? 6 : 4, new Uint8Array(16), 0), RangeError);
});

test("a decoded packet and the same packet built by hand find the same flow", () => {
  const set = compilePatterns([{ file: "hello.pat", text: "hello\n^hello\n" }]);
  const table = new FlowTable(set);
  const spec: FrameSpec = {
    l4: "udp",
    src: "2001:db8::10",
    dst: "2001:db8::1",
    sport: 5000,
    dport: 7,
    payload: Buffer.from("hel"),
  };
  const d = decodeFrame(101, ipPacket(spec));
  assert.ok(d.ok);
  const first = table.observe(d.packet, 1);
  const byHand: DecodedPacket = {
    family: 6,
    l4: "udp",
    src: "2001:db8::1",
    dst: "2001:db8::10",
    sport: 7,
    dport: 5000,
    ipLength: 48,
    payload: Buffer.from("lo"),
    tcp: null,
    vlan: null,
  };
  const reply = table.observe(byHand, 2);
  assert.equal(reply.flow, first.flow);
  assert.equal(reply.direction, "s2c");
  assert.equal(table.size, 1);
  // Found from the frame's raw bytes too (the capture path's shortcut).
  const raw = d.packet.raw!;
  assert.equal(table.lookup(false, 6, raw, d.packet.dstAt!, d.packet.srcAt!, 7, 5000), first.flow);
  assert.equal(table.lastC2S, false);
});
