import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseAcctChain,
  parseConntrackLine,
  parseNftElementCounters,
  parseTcClassStats,
} from "../src/stats/parse.ts";

test("tc -s class show: counters per class", () => {
  const text = `class htb 1:10 parent 1:1 leaf 10: prio 0 rate 4Mbit ceil 20Mbit burst 15Kb cburst 1600b 
 Sent 123456 bytes 789 pkt (dropped 12, overlimits 34 requeues 0) 
 backlog 3028b 2p requeues 0
 lended: 1 borrowed: 0 giants: 0
 tokens: 18925 ctokens: 3785

class htb 1:1 root rate 20Mbit ceil 20Mbit burst 1600b cburst 1600b 
 Sent 86 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
`;
  const c = parseTcClassStats(text);
  assert.deepEqual(c[0], {
    classid: "1:10",
    parent: "1:1",
    bytes: 123456,
    packets: 789,
    drops: 12,
    overlimits: 34,
    backlogBytes: 3028,
    backlogPackets: 2,
  });
  assert.equal(c[1]!.parent, null);
  assert.equal(c[1]!.bytes, 86);
});

test("SLUICE_ACCT counters by protocol comment", () => {
  const text = `Chain SLUICE_ACCT (1 references)
    pkts      bytes target     prot opt in     out     source               destination
      10     1500 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match 0x300/0xff00 /* sluice:http */
       0        0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match 0x400/0xff00 /* sluice:ssh */
`;
  assert.deepEqual(parseAcctChain(text), [
    { protocol: "http", packets: 10, bytes: 1500 },
    { protocol: "ssh", packets: 0, bytes: 0 },
  ]);
});

test("conntrack -L lines with accounting and marks, IPv4 and IPv6", () => {
  const v4 =
    "tcp      6 431999 ESTABLISHED src=10.77.1.10 dst=10.77.2.2 sport=40000 dport=80 packets=5 bytes=300 src=10.77.2.2 dst=10.77.2.1 sport=80 dport=40000 packets=4 bytes=5000 [ASSURED] mark=768 use=1";
  assert.deepEqual(parseConntrackLine(v4), {
    l4: "tcp",
    src: "10.77.1.10",
    dst: "10.77.2.2",
    sport: 40000,
    dport: 80,
    bytes: 5300,
    packets: 9,
    mark: 768,
    state: "ESTABLISHED",
  });
  const udp =
    "udp      17 29 src=fd77:1::10 dst=fd77:2::2 sport=5353 dport=53 packets=1 bytes=80 src=fd77:2::2 dst=fd77:1::10 sport=53 dport=5353 packets=1 bytes=120 mark=1280 use=1";
  const u = parseConntrackLine(udp)!;
  assert.equal(u.l4, "udp");
  assert.equal(u.state, null);
  assert.equal(u.src, "fd77:1::10");
  assert.equal(u.mark, 1280);
  assert.equal(parseConntrackLine("icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=1"), null);
});

test("nft -j list map: a map's element counters by key", () => {
  // As nft 1.0.6 prints the decided map (render/nft.ts) of a box that forwarded traffic.
  const text = JSON.stringify({
    nftables: [
      { metainfo: { version: "1.0.6", json_schema_version: 1 } },
      {
        map: {
          family: "inet",
          name: "decided",
          table: "sluice",
          type: "mark",
          handle: 3,
          map: "classid",
          elem: [
            [{ elem: { val: 512, counter: { packets: 6, bytes: 270 } } }, "1:10"],
            [{ elem: { val: 768, counter: { packets: 0, bytes: 0 } } }, "1:11"],
            [1024, "1:12"],
          ],
          stmt: [{ counter: null }],
        },
      },
    ],
  });
  assert.deepEqual(parseNftElementCounters(text), [
    { key: 512, packets: 6, bytes: 270 },
    { key: 768, packets: 0, bytes: 0 },
  ]);
  assert.deepEqual(parseNftElementCounters('{"nftables": []}'), []);
});
