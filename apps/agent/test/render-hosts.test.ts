// Per-host fairness and device rules through the renderer: goldens for the appliance
// kernel (SFQ hashed by host) and this CI kernel (per-host HTB buckets picked in nftables).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { validatePolicy, defaultPolicy, type Policy, type PolicyInput } from "@sluice/policy";
import { renderPolicy, scriptText } from "../src/render/scripts.ts";
import { FULL_CAPABILITIES, MINIMAL_CAPABILITIES } from "../src/kernel/capabilities.ts";
import { HOST_BUCKETS } from "../src/render/hosts-model.ts";

const MARKS = new Map([
  ["http", 3],
  ["ssh", 4],
  ["bittorrent", 7],
]);

function golden(name: string, actual: string) {
  const file = fileURLToPath(new URL(`./golden/${name}`, import.meta.url));
  if (process.env.SLUICE_UPDATE_GOLDEN === "1") writeFileSync(file, actual);
  assert.ok(existsSync(file), `${name}: golden file missing (SLUICE_UPDATE_GOLDEN=1 to write it)`);
  assert.equal(actual, readFileSync(file, "utf8"), `${name} differs from its golden file`);
}

/** bulk shared among hosts both ways, the download default too; two device rules. */
function hostsPolicy(): Policy {
  const p: PolicyInput = defaultPolicy();
  p.rules = [
    { protocol: "ssh", class: "interactive" },
    { protocol: "http", class: "web" },
    { protocol: "bittorrent", class: "bulk" },
  ];
  p.interfaces.lan.networks = ["192.168.77.0/24", "fd00::/64"];
  for (const dir of ["upload", "download"] as const) {
    p.classes[dir] = [
      ...p.classes[dir].map((c) => ({
        ...c,
        rate: "2mbit",
        ...(c.name === "bulk" || (dir === "download" && c.default) ? { fairness: "host" as const } : {}),
      })),
      { name: "guests", rate: "4mbit", ceil: "10mbit", priority: 5 },
    ];
  }
  p.devices = [
    { name: "tv", hosts: ["192.168.77.20", "fd00::20"], download: { rate: "2mbit", ceil: "4mbit" } },
    {
      name: "kids",
      hosts: ["192.168.77.64/28", "02:00:00:00:00:21", "02:00:00:00:00:99"],
      upload: { rate: "1mbit" },
      download: { rate: "2mbit", ceil: "6mbit" },
      parent: "guests",
    },
  ];
  const r = validatePolicy(p);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

const MACS = new Map([["02:00:00:00:00:21", ["192.168.77.99", "fd00::99", "fd00::1 } accept; drop {"]]]);

test("golden: host fairness by SFQ host hashing and device rules on the appliance kernel", () => {
  const r = renderPolicy(hostsPolicy(), MARKS, FULL_CAPABILITIES, null, null, { macAddresses: MACS });
  const t = scriptText(r);
  golden("hosts-full.tc", t.tc);
  golden("hosts-full.nft", t.nft);
  // bulk keeps an SFQ leaf, hashed by the LAN host: dst on download, the pre-NAT source on upload
  assert.ok(
    r.tc.lines.includes(
      "filter add dev lan0 parent 12: handle 1 protocol all flow hash keys dst divisor 1024",
    ),
  );
  assert.ok(
    r.tc.lines.includes(
      "filter add dev wan0 parent 12: handle 1 protocol all flow hash keys nfct-src divisor 1024",
    ),
  );
  assert.ok(!r.tc.lines.some((l) => l.includes("classid 1:1000 ")), "no buckets where SFQ hashes hosts");
  // device classes: tv beside the classes, kids nested in guests (which lost its leaf)
  const lan = r.model.devices.find((d) => d.device === "lan0")!;
  const tv = lan.classes.find((c) => c.name === "tv")!;
  const kids = lan.classes.find((c) => c.name === "kids")!;
  const guests = lan.classes.find((c) => c.name === "guests")!;
  assert.equal(tv.parent, "1:1");
  assert.equal(kids.parent, guests.classid);
  assert.equal(guests.leaf, null);
  assert.deepEqual([tv.rate, tv.ceil, kids.rate, kids.ceil], [2e6, 4e6, 2e6, 6e6]);
  assert.equal(
    r.model.devices.find((d) => d.device === "wan0")!.classes.find((c) => c.name === "tv"),
    undefined,
  );
  // nftables: devices by address after the mark routes; the MAC through its lease
  assert.match(t.nft, /ip daddr \{ 192\.168\.77\.64\/28, 192\.168\.77\.99 \} meta priority set 1:d9 accept/);
  assert.match(t.nft, /ip6 daddr \{ fd00::20 \} meta priority set 1:d8 accept/);
  assert.match(t.nft, /ip saddr \{ 192\.168\.77\.64\/28, 192\.168\.77\.99 \} meta priority set 1:d9 accept/);
  const rules = (name: string) => r.nft!.table.chains.find((c) => c.name === name)!.rules.map((x) => x.text);
  const post = rules("post");
  // Unmarked packets leave the post chain at the mark's lookup (after the save test): first
  // the count of packets that passed uninspected, then to the hosts; marked ones reach the
  // hosts after their mark's class, the fast chains through hosts_tail.
  assert.match(post[2]!, /^meta mark & 0xffffff00 vmap \{ 0x00000000 : goto unmarked, /);
  assert.deepEqual(rules("hosts_tail"), ['oifname "wan0" goto hosts0', 'oifname "lan0" goto hosts1']);
  assert.equal(rules("fast_1").at(-1), "goto hosts_tail");
  assert.match(rules("unmarked")[0]!, /counter name "uninspected"$/);
  assert.deepEqual(rules("unmarked").slice(1), ['oifname "wan0" goto hosts0', 'oifname "lan0" goto hosts1']);
  assert.match(post.at(-1)!, /^oifname "lan0" goto hosts1$/);
  assert.ok(r.header.some((h) => h.includes('device "kids": no address known for 02:00:00:00:00:99')));
  assert.ok(
    !t.nft.includes("drop"),
    "an address from the leases that does not parse never reaches the script",
  );
});

test("golden: host fairness by HTB buckets in nftables on this CI kernel", () => {
  const r = renderPolicy(hostsPolicy(), MARKS, MINIMAL_CAPABILITIES, null, null, { macAddresses: MACS });
  const t = scriptText(r);
  golden("hosts-minimal.tc", t.tc);
  golden("hosts-minimal.nft", t.nft);
  assert.equal(r.model.variant.hostFair, "htb-buckets");
  const lan = r.model.devices.find((d) => d.device === "lan0")!;
  const bulk = lan.classes.find((c) => c.name === "bulk")!;
  const buckets = lan.classes.filter((c) => c.parent === bulk.classid);
  assert.equal(buckets.length, HOST_BUCKETS);
  assert.equal(bulk.leaf, null, "a bucketed class is an inner class");
  assert.ok(
    buckets.every((b) => b.leaf?.kind === "pfifo" && b.ceil === bulk.ceil && b.quantum === bulk.quantum),
  );
  // the bucketed default class: HTB's default is its first bucket, nftables puts the rest there
  const def = lan.classes.find((c) => c.name === "default")!;
  assert.equal(lan.defaultClassid, lan.classes.find((c) => c.parent === def.classid)!.classid);
  assert.match(t.tc, /qdisc add dev lan0 root handle 1: htb default 1400 r2q 10/);
  assert.match(t.nft, /meta priority != \{ 1:10, 1:11, 1:12 \} meta priority set 1:14\n/);
  assert.match(t.nft, /meta priority 1:12 meta priority set ip daddr & 0\.0\.0\.63 map @hosts1_12_4/);
  assert.match(t.nft, /meta priority 1:12 meta priority set ip6 saddr & ::3f map @hosts0_12_6/);
  const m = r.nft!.table.maps.find((x) => x.name === "hosts1_12_4")!;
  assert.equal(m.elements.length, HOST_BUCKETS);
  assert.deepEqual(m.elements[10], { key: "0.0.0.10", value: "1:120a" });
  // upload: bulk bucketed, the upload default class not
  const wan = r.model.devices.find((d) => d.device === "wan0")!;
  assert.equal(wan.hosts!.defaultBucketed, null);
  assert.match(
    t.tc,
    /fallback: sch_sfq or cls_flow missing: a class shared among hosts gets 64 HTB bucket classes/,
  );
});

test("no host fairness and no devices: nothing changes", () => {
  const p = validatePolicy(defaultPolicy());
  assert.ok(p.ok);
  const r = renderPolicy(p.policy, MARKS, MINIMAL_CAPABILITIES);
  assert.ok(r.model.devices.every((d) => d.hosts === undefined));
  assert.ok(!r.nft!.script.includes("hosts"));
});

test("download on an IFB: SFQ hashed by destination where the kernel can; no buckets (no netfilter there)", () => {
  const p = hostsPolicy();
  const ifb: Policy = { ...p, download: "ifb", devices: (p.devices ?? []).map(({ download: _, ...d }) => d) };
  const full = renderPolicy(ifb, MARKS, FULL_CAPABILITIES);
  assert.ok(
    full.tc.lines.includes(
      "filter add dev ifb-sluice parent 12: handle 1 protocol all flow hash keys dst divisor 1024",
    ),
  );
  const minimal = renderPolicy(ifb, MARKS, { ...MINIMAL_CAPABILITIES, links: { ifb: true } });
  const onIfb = minimal.model.devices.find((d) => d.device === "ifb-sluice")!;
  assert.ok(!onIfb.classes.some((c) => c.name.includes("#")), "no buckets on the IFB");
  assert.ok(
    minimal.header.some((h) =>
      /download class "bulk": this kernel cannot share a class among hosts on an IFB/.test(h),
    ),
  );
  // upload still gets its buckets on the WAN
  assert.ok(minimal.model.devices.find((d) => d.device === "wan0")!.classes.some((c) => c.name === "bulk#0"));
});
