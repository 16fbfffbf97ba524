// Quotas rendered into the nftables table: one quota object per quota (allowance and the
// bytes used so far this period), counted for every packet of its target (marked or not)
// and, past the allowance, the packet's class set to the demotion class. Golden file, and
// the table is loaded into a throwaway namespace's kernel when run as root.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { defaultPolicy, validatePolicy, type Policy } from "@sluice/policy";
import { renderPolicy, scriptText } from "../src/render/scripts.ts";
import { FULL_CAPABILITIES } from "../src/kernel/capabilities.ts";
import { verifyNft } from "../src/apply/verify.ts";
import { NFT_HOOK_PRIORITY_VALUE } from "../src/render/nft.ts";
import { parseNftJson } from "../src/kernel/installed.ts";

const MARKS = new Map([
  ["http", 8],
  ["bittorrent", 3],
]);
const GOLDEN = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

function policy(): Policy {
  const p = defaultPolicy();
  p.rules = [
    { protocol: "http", class: "web" },
    { protocol: "bittorrent", class: "p2p" },
  ];
  const r = validatePolicy({
    ...p,
    quotas: [
      { name: "kid", address: "10.77.1.10", allowance: "1MB", period: "day", demoteTo: "bulk" },
      { name: "lab6", address: "fd77:1::/64", allowance: "2GB", period: "week", demoteTo: "bulk" },
      { name: "p2p_month", class: "p2p", allowance: "50GB", period: "month", demoteTo: "default" },
    ],
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

const used = (name: string) => (name === "kid" ? 123456 : 0);

test("golden: quotas count every packet of their target and demote past the allowance", () => {
  const r = renderPolicy(policy(), MARKS, FULL_CAPABILITIES, null, null, {}, used);
  const nft = scriptText(r).nft;
  const file = GOLDEN("quotas.nft");
  if (process.env.SLUICE_UPDATE_GOLDEN === "1") writeFileSync(file, nft);
  assert.ok(existsSync(file), "quotas.nft: golden file missing (SLUICE_UPDATE_GOLDEN=1 to write it)");
  assert.equal(nft, readFileSync(file, "utf8"), "quotas.nft differs from its golden file");
  // its own base chain after the class choices (host chains end in accept), unmarked packets too
  const q = r.nft!.table.chains.find((c) => c.name === "quotas")!;
  assert.equal(q.hook, "postrouting");
  assert.match(nft, /chain quotas \{\n {4}type filter hook postrouting priority mangle \+ 1; policy accept;/);
  const post = r.nft!.table.chains.find((c) => c.name === "post")!.rules.map((x) => x.text);
  assert.ok(!post.some((t) => t.includes("quotas")), "the post chain does not jump to it");
  assert.match(nft, /quota quota_kid \{\n {4}over 1000000 bytes used 123456 bytes/);
  // bulk is 1:12 in both directions; the host sends on wan0, receives on lan0
  assert.match(nft, /oifname "wan0" ip saddr 10\.77\.1\.10 quota name "quota_kid" meta priority set 1:12/);
  assert.match(nft, /oifname "lan0" ip daddr 10\.77\.1\.10 quota name "quota_kid" meta priority set 1:12/);
  assert.match(nft, /oifname "lan0" ip6 daddr fd77:1::\/64 quota name "quota_lab6"/);
  assert.match(nft, /oifname "wan0" meta priority 1:13 quota name "quota_p2p_month" meta priority set 1:14/);
});

test("verify: the quota objects and their allowances must be there; the used amount may move", () => {
  const r = renderPolicy(policy(), MARKS, FULL_CAPABILITIES, null, null, {}, used);
  const want = r.nft!.table;
  const got = {
    counters: [...want.counters],
    helpers: want.helpers.map((h) => `${h.name} ${h.type} ${h.l4}`).sort(),
    quotas: ["quota_kid 1000000", "quota_lab6 2000000000", "quota_p2p_month 50000000000"],
    maps: want.maps.map((m) => ({
      name: m.name,
      type: "",
      data: "",
      elements: m.elements.map((e) => `${e.key} : ${e.value}`),
    })),
    chains: want.chains.map((c) => ({
      name: c.name,
      hook: c.hook ? `${c.hook} ${c.priorityValue ?? NFT_HOOK_PRIORITY_VALUE[c.hook]}` : null,
      rules: c.rules.map((x) => JSON.stringify(x.refs)),
    })),
  };
  assert.deepEqual(verifyNft(want, got), []);
  assert.deepEqual(verifyNft(want, { ...got, quotas: ["quota_kid 1000000"] }), ["nft: quota objects differ"]);
  assert.deepEqual(
    verifyNft(want, {
      ...got,
      quotas: ["quota_kid 999", "quota_lab6 2000000000", "quota_p2p_month 50000000000"],
    }),
    ["nft: quota objects differ"],
  );
});

const root = process.getuid?.() === 0;
test(
  "the rendered table loads into the kernel and reads back as rendered",
  { skip: root ? false : "needs root (a network namespace)" },
  () => {
    const ns = `${process.env.SLUICE_LAB_PREFIX ?? "sluice"}-qtest`;
    const run = (argv: string[], input?: string) =>
      spawnSync(argv[0]!, argv.slice(1), { input, encoding: "utf8" });
    run(["ip", "netns", "del", ns]);
    assert.equal(run(["ip", "netns", "add", ns]).status, 0);
    try {
      // A veth pair (this VM's kernel has no dummy driver), checked: a rule naming a device
      // by ifindex would not load without it.
      const link = run(["ip", "-n", ns, "link", "add", "wan0", "type", "veth", "peer", "name", "lan0"]);
      assert.equal(link.status, 0, link.stderr);
      const r = renderPolicy(policy(), MARKS, FULL_CAPABILITIES, null, null, {}, used);
      const load = run(["ip", "netns", "exec", ns, "nft", "-f", "-"], r.nft!.script);
      assert.equal(load.status, 0, load.stderr);
      const back = run(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "sluice"]);
      assert.deepEqual(verifyNft(r.nft!.table, parseNftJson(back.stdout)), []);
      assert.match(
        back.stdout,
        /"name": "quota_kid", "table": "sluice", "handle": \d+, "bytes": 1000000, "used": 123456, "inv": true/,
      );
    } finally {
      run(["ip", "netns", "del", ns]);
    }
  },
);

test("a device quota counts the device rule's hosts (addresses, networks, MACs by their leases)", () => {
  const p = defaultPolicy();
  // room for the device's guaranteed rate beside the classes
  (p.classes.download.find((c) => c.name === "default") as { rate: string }).rate = "4mbit";
  const r = validatePolicy({
    ...p,
    devices: [
      {
        name: "kids",
        hosts: ["10.77.1.10", "10.77.1.64/28", "fd77:1::10", "02:00:00:00:00:20"],
        download: { rate: "100kbit", ceil: "5mbit" },
      },
    ],
    quotas: [{ name: "kids", device: "kids", allowance: "5GB", period: "week", demoteTo: "bulk" }],
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const macs = new Map([["02:00:00:00:00:20", ["10.77.1.20"]]]);
  const out = renderPolicy(r.policy, MARKS, FULL_CAPABILITIES, null, null, { macAddresses: macs }, () => 0);
  const rules = out.nft!.table.chains.find((c) => c.name === "quotas")!.rules.map((x) => x.text);
  assert.deepEqual(rules, [
    'oifname "wan0" ip saddr { 10.77.1.10, 10.77.1.64/28, 10.77.1.20 } quota name "quota_kids" meta priority set 1:12',
    'oifname "wan0" ip6 saddr { fd77:1::10 } quota name "quota_kids" meta priority set 1:12',
    'oifname "lan0" ip daddr { 10.77.1.10, 10.77.1.64/28, 10.77.1.20 } quota name "quota_kids" meta priority set 1:12',
    'oifname "lan0" ip6 daddr { fd77:1::10 } quota name "quota_kids" meta priority set 1:12',
  ]);
  const bad = validatePolicy({
    ...p,
    quotas: [{ name: "x", device: "nobody", allowance: "1GB", period: "day", demoteTo: "bulk" }],
  });
  assert.deepEqual(!bad.ok && bad.issues, [
    { path: "quotas[0].device", message: 'no device rule named "nobody" (devices)' },
  ]);
});
