// The sampler's netlink readers (stats/kernel-counters.ts) against the kernel, in a namespace
// this test creates: tc class counters, nftables named counters, a map's element counters
// and the conntrack table,
// read in process (the reader runs inside the namespace) and compared with what the tools
// print for the same objects.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { NetnsLab, labUnavailable, removeStaleLabs } from "../src/netns-lab.ts";
import {
  parseNftCounters,
  parseNftElementCounters,
  parseTcClassStats,
} from "@sluice/agent/src/stats/parse.ts";

const skip: string | false = labUnavailable() ?? false;
const KC = fileURLToPath(import.meta.resolve("@sluice/agent/src/stats/kernel-counters.ts"));
let lab: NetnsLab;

// Runs inside the box namespace: every reader once, as JSON.
const READ_JS = `
const { KernelCounters } = await import(${JSON.stringify(KC)});
const k = KernelCounters.open();
if (!k) { console.log("null"); process.exit(0); }
const conns = [];
await k.conntrack((e) => conns.push(e));
console.log(JSON.stringify({ classes: await k.classes("r1"), missing: await k.classes("nosuchdev"),
  counters: await k.nftCounters("sluice"), decided: await k.nftElementCounters("sluice", "decided"),
  nomap: await k.nftElementCounters("sluice", "nosuchmap"), conns }));
k.close();
`;

before(() => {
  if (skip) return;
  removeStaleLabs();
  lab = NetnsLab.create("kc", 14);
  process.once("exit", () => lab.destroy());
  const tc = [
    "qdisc add dev r1 root handle 1: htb default 11",
    "class add dev r1 parent 1: classid 1:1 htb rate 100mbit",
    "class add dev r1 parent 1:1 classid 1:10 htb rate 50mbit",
    "class add dev r1 parent 1:1 classid 1:11 htb rate 50mbit",
  ].join("\n");
  lab.mustExec(lab.router, "tc", ["-batch", "-"], `${tc}\n`);
  lab.mustExec(
    lab.router,
    "nft",
    ["-f", "-"],
    [
      "table inet sluice {",
      " counter proto_2 { }",
      " counter app_7 { }",
      " map decided { type mark : classid; counter; elements = { 0x200 : 1:11, 0x300 : 1:10 } }",
      " chain post {",
      "  type filter hook postrouting priority mangle; policy accept;",
      "  udp dport 9300 counter name proto_2",
      "  udp dport 9300 meta priority set ct mark & 0xffffff00 map @decided",
      " }",
      "}",
      "",
    ].join("\n"),
  );
  lab.sysctl(lab.router, "net.netfilter.nf_conntrack_acct", "1");
  lab.restoreRules(
    lab.router,
    "*mangle\n-A PREROUTING -p udp --dport 9300 -j CONNMARK --set-mark 0x200\nCOMMIT\n",
    [4],
  );
  // Five datagrams through the box: one tracked connection, counted, classed, marked.
  const send = `import dgram from "node:dgram"; const s = dgram.createSocket("udp4");
    s.bind(41234, async () => { for (let i = 0; i < 5; i++) await new Promise((r) => s.send("hello", 9300, "${lab.addr.server4}", r)); s.close(); });`;
  lab.mustExec(lab.client, process.execPath, ["--input-type=module", "-e", send]);
});

after(() => {
  if (skip) return;
  lab?.destroy();
});

test("tc classes, nft counters and conntrack over netlink match what the tools print", { skip }, () => {
  const r = spawnSync(
    "ip",
    ["netns", "exec", lab.router, process.execPath, "--input-type=module", "-e", READ_JS],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as {
    classes: { classid: string; parent: string | null; bytes: number; packets: number }[];
    missing: null;
    counters: { name: string; bytes: number; packets: number }[];
    decided: { key: number; bytes: number; packets: number }[];
    nomap: unknown[];
    conns: {
      l4: string;
      src: string;
      dst: string;
      sport: number;
      dport: number;
      mark: number;
      packets: number;
      bytes: number;
      id?: number;
    }[];
  };
  // tc: the same classes and parents as `tc -s class show`, and the same counters — up to
  // what passed between the two reads (the kernel's own IPv6 neighbour discovery on r1)
  const tool = parseTcClassStats(lab.mustExec(lab.router, "tc", ["-s", "class", "show", "dev", "r1"]));
  assert.deepEqual(
    got.classes.map((c) => [c.classid, c.parent]).sort(),
    tool.map((c) => [c.classid, c.parent]).sort(),
  );
  for (const t of tool) {
    const mine = got.classes.find((c) => c.classid === t.classid)!;
    assert.ok(
      mine.packets <= t.packets && mine.packets >= t.packets - 4,
      `class ${t.classid}: ${mine.packets} packets over netlink, ${t.packets} by tc just after`,
    );
  }
  assert.ok(
    got.classes.find((c) => c.classid === "1:11")!.packets >= 5,
    "the default class carried the datagrams",
  );
  assert.equal(got.missing, null);
  // nft: the named counters of the table, with their values.
  const nft = parseNftCounters(
    lab.mustExec(lab.router, "nft", ["-j", "list", "counters", "table", "inet", "sluice"]),
  );
  assert.deepEqual(
    got.counters.sort((a, b) => (a.name < b.name ? -1 : 1)),
    nft.sort((a, b) => (a.name < b.name ? -1 : 1)),
  );
  assert.equal(got.counters.find((c) => c.name === "proto_2")!.packets, 5);
  // nft: a map's element counters (the decided map, render/nft.ts), as `nft -j list map`
  // prints them: the connection's mark found 5 times; no map, no elements.
  const elements = parseNftElementCounters(
    lab.mustExec(lab.router, "nft", ["-j", "list", "map", "inet", "sluice", "decided"]),
  );
  assert.deepEqual(
    got.decided.sort((a, b) => a.key - b.key),
    elements.sort((a, b) => a.key - b.key),
  );
  assert.deepEqual(
    got.decided.map((e) => [e.key, e.packets, e.bytes]),
    [
      [0x200, 5, 5 * (20 + 8 + 5)],
      [0x300, 0, 0],
    ],
  );
  assert.deepEqual(got.nomap, []);
  // conntrack: the connection with its tuple, mark and accounting.
  const c = got.conns.find((x) => x.sport === 41234 && x.dport === 9300);
  assert.ok(c, JSON.stringify(got.conns));
  assert.deepEqual(
    [c.l4, c.src, c.dst, c.mark, c.packets],
    ["udp", lab.addr.client4, lab.addr.server4, 0x200, 5],
  );
  assert.equal(c.bytes, 5 * (20 + 8 + 5));
  // The kernel's id of the connection (the accounting's rate key), distinct per connection.
  assert.equal(typeof c.id, "number");
  assert.equal(new Set(got.conns.map((x) => x.id)).size, got.conns.length);
});
