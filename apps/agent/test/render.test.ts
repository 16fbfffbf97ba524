import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validatePolicy, defaultPolicy, type Policy } from "@sluice/policy";
import { renderPolicy, scriptText } from "../src/render/scripts.ts";
import {
  FULL_CAPABILITIES,
  LEGACY_CAPABILITIES,
  MINIMAL_CAPABILITIES,
  chooseVariant,
} from "../src/kernel/capabilities.ts";
import { buildRules, chainsOf, hooksOf, renderIptables, ruleLine } from "../src/render/iptables.ts";
import { HostIdRegistry } from "../src/apply/host-ids.ts";
import { verifyNft } from "../src/apply/verify.ts";
import type { InstalledNft } from "../src/kernel/installed.ts";

const GOLDEN = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));
const MARKS = new Map([
  ["http", 3],
  ["ssh", 4],
  ["dns", 5],
  ["ssl", 6],
  ["bittorrent", 7],
  ["rtp", 8],
  ["sip", 9],
  ["stun", 10],
  ["quic", 11],
  ["ftp", 12],
  ["rsync", 13],
  ["smtp", 14],
  ["gnutella", 15],
  ["edonkey", 16],
  ["tftp", 17],
  ["ftp-data", 18],
  ["rtsp", 19],
]);

/** A slice of the application catalogue (ids as in protocols/apps/catalogue.json's style). */
const APPS = {
  apps: [
    { id: 1, name: "youtube", category: "video" },
    { id: 2, name: "netflix", category: "video" },
    { id: 7, name: "steam", category: "gaming" },
    { id: 8, name: "zoom", category: "calls" },
  ],
  categories: [{ name: "video" }, { name: "gaming" }, { name: "calls" }],
};

/** The golden policy: the default one plus an app, a category and two hostname rules. */
function targeted(p: ReturnType<typeof defaultPolicy>): void {
  p.rules!.push(
    { app: "youtube", class: "bulk" },
    { category: "video", class: "web" },
    { category: "gaming", class: "interactive" },
    { hostname: "*.example.com", class: "p2p" },
    { hostname: "backup*.example.net", class: "bulk" },
  );
}

function policy(over: (p: ReturnType<typeof defaultPolicy>) => void = () => {}): Policy {
  const p = defaultPolicy();
  over(p);
  const r = validatePolicy(p, {
    protocols: new Set(MARKS.keys()),
    apps: new Set(APPS.apps.map((a) => a.name)),
    categories: new Set(APPS.categories.map((c) => c.name)),
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

/**
 * Compares against a checked-in golden file. A missing golden fails (a deleted golden must
 * not pass); SLUICE_UPDATE_GOLDEN=1 writes the actual output instead, on purpose.
 */
function golden(name: string, actual: string) {
  const file = GOLDEN(name);
  if (process.env.SLUICE_UPDATE_GOLDEN === "1") writeFileSync(file, actual);
  assert.ok(existsSync(file), `${name}: golden file missing (SLUICE_UPDATE_GOLDEN=1 to write it)`);
  assert.equal(
    actual,
    readFileSync(file, "utf8"),
    `${name} differs from its golden file (SLUICE_UPDATE_GOLDEN=1 to accept)`,
  );
}

test("golden: appliance kernel (sfq leaves, nftables maps pick classes and count)", () => {
  const r = renderPolicy(policy(targeted), MARKS, FULL_CAPABILITIES, APPS);
  const t = scriptText(r);
  golden("full.tc", t.tc);
  golden("full.iptables", t.iptables);
  golden("full.ip6tables", t.ip6tables);
  golden("full.nft", t.nft);
  assert.ok(r.tc.lines.some((l) => l.includes("sfq perturb 10")));
  // Classes come from one map lookup per field, not from fw filters or CLASSIFY rules.
  assert.ok(!r.tc.lines.some((l) => l.includes(" fw ")));
  assert.ok(!r.iptables.v4.includes("CLASSIFY"));
  assert.ok(!r.iptables.v4.includes("SLUICE_ACCT"));
  assert.match(t.nft, /meta priority set meta mark & 0x0000ff00 map @dev0_protocol/);
  assert.match(t.nft, /counter name meta mark & 0x0000ff00 map @protocols/);
  // Least specific first: a hostname rule's class is set last, so it wins.
  const dev0 = r.nft!.table.chains.find((c) => c.name === "dev0")!.rules.map((x) => x.refs[0]);
  assert.deepEqual(dev0, ["@dev0_protocol", "@dev0_protocol", "@dev0_app", "@dev0_host"]);
  // A packet with neither an app nor a hostname rule leaves after its protocol's class, in one rule.
  assert.match(
    t.nft,
    /meta mark & 0xffff0000 == 0x00000000 meta priority set meta mark & 0x0000ff00 map @dev0_protocol return\n/,
  );
  // One lookup by output device.
  assert.match(t.nft, /oifname vmap \{ "wan0" : jump dev0, "lan0" : jump dev1 \}/);
  const host = r.nft!.table.maps.find((m) => m.name === "dev0_host")!;
  assert.deepEqual(host.elements, [
    { key: 0x1000000, value: "1:13" },
    { key: 0x2000000, value: "1:12" },
  ]);
});

test("golden: without nftables (fw filters, iptables accounting chains)", () => {
  const r = renderPolicy(policy(targeted), MARKS, LEGACY_CAPABILITIES, APPS);
  const t = scriptText(r);
  golden("legacy.tc", t.tc);
  golden("legacy.iptables", t.iptables);
  assert.equal(r.nft, null);
  assert.equal(t.nft, "");
  assert.ok(r.tc.lines.some((l) => / fw classid 1:10$/.test(l)));
  assert.ok(!r.iptables.v4.includes("CLASSIFY"));
  assert.match(
    t.tc,
    /fallback: nftables missing: per-protocol and per-app bytes are counted by one iptables rule each/,
  );
});

test("golden: this CI kernel (pfifo leaves, no cls_fw), fallbacks named in the header", () => {
  const r = renderPolicy(policy(targeted), MARKS, MINIMAL_CAPABILITIES, APPS);
  const t = scriptText(r);
  golden("minimal.tc", t.tc);
  golden("minimal.iptables", t.iptables);
  assert.ok(!r.tc.lines.some((l) => l.includes(" fw ")));
  assert.ok(r.tc.lines.every((l) => !l.includes("sfq")));
  assert.match(t.tc, /fallback: sch_sfq and fq_codel missing: leaves use pfifo/);
  assert.equal(r.model.variant.filter, "nft");
  // Without nftables either: the CLASSIFY target, a linear chain.
  const c = renderPolicy(policy(targeted), MARKS, { ...MINIMAL_CAPABILITIES, nftables: false }, APPS);
  const ct = scriptText(c);
  golden("minimal-classify.iptables", ct.iptables);
  assert.match(
    ct.tc,
    /fallback: nftables and cls_fw missing: marks map to classes with the iptables CLASSIFY target/,
  );
  assert.match(
    c.iptables.v4,
    /-A SLUICE_POST -o wan0 -m mark --mark 0x400\/0xff00 -j CLASSIFY --set-class 0001:0010/,
  );
});

test("the model: class ids, default class, leaf kinds, routes per direction", () => {
  const r = renderPolicy(policy(), MARKS, FULL_CAPABILITIES);
  const [up, down] = r.model.devices;
  assert.equal(up!.device, "wan0");
  assert.equal(down!.device, "lan0");
  assert.equal(up!.defaultClassid, "1:14");
  assert.deepEqual(
    up!.classes.map((c) => c.classid),
    ["1:10", "1:11", "1:12", "1:13", "1:14"],
  );
  assert.equal(up!.routes.find((x) => x.label === "bittorrent")!.className, "p2p");
  assert.deepEqual(
    { ...up!.routes.find((x) => x.label === "unknown")! },
    { field: "protocol", value: 2, label: "unknown", classid: "1:14", className: "default" },
  );
  // A class with an explicit leaf the kernel lacks falls back, with a warning.
  const r2 = renderPolicy(
    policy((p) => ((p.classes.upload[0] as { leaf?: string }).leaf = "cake")),
    MARKS,
    MINIMAL_CAPABILITIES,
  );
  assert.equal(r2.model.devices[0]!.classes[0]!.leaf!.kind, "pfifo");
  assert.match(r2.header.join("\n"), /cake is not available in this kernel, using pfifo/);
});

test("iptables rules: decided flows leave at once, window, late verdicts, save once", () => {
  const r = renderPolicy(
    policy((p) => (p.inspection = { packets: 12, bytes: 2048, queues: 4, queueBase: 8 })),
    MARKS,
    FULL_CAPABILITIES,
  );
  const rules = buildRules(r.model, 4);
  const lines = rules.map((x) => x.spec.join(" "));
  // With nftables the connection mark is restored and saved there (render/nft-connmark.ts):
  // no iptables PREROUTING/POSTROUTING chain for a decided packet to walk.
  assert.ok(!lines.some((l) => l.includes("CONNMARK")));
  assert.deepEqual(chainsOf(r.model), ["SLUICE_FWD", "SLUICE_OUT"]);
  // FORWARD jumps to SLUICE_FWD only for undecided packets, DNS answers and RTSP control:
  // a decided packet walks three tests there and no chain of Sluice's.
  assert.deepEqual(
    hooksOf(r.model).map((h) => ruleLine(h)),
    [
      "-A FORWARD -m mark --mark 0x0/0xfe00 -j SLUICE_FWD",
      "-A FORWARD -p udp -m udp --sport 53 -j SLUICE_FWD",
      "-A FORWARD -p tcp -m mark --mark 0x1300/0xff00 -j SLUICE_FWD",
      "-A OUTPUT -j SLUICE_OUT",
    ],
  );
  const nft = r.nft!.table;
  const chain = (name: string) => nft.chains.find((c) => c.name === name)!.rules.map((x) => x.text);
  // Restore and save carry all three fields (protocol, app, hostname rule) and keep the
  // other bits (the low byte) of the side they write, as CONNMARK --nfmask/--ctmask do.
  assert.equal(
    chain("pre")[0],
    "ct status & (expected | confirmed) == confirmed meta mark & 0x000000ff == 0x00000000 meta mark set ct mark & 0xffffff00 accept",
  );
  assert.equal(chain("pre").at(-1), "goto restore");
  assert.deepEqual(chain("restore"), [
    "meta mark & 0x000000ff != 0x00000000 goto restore_bits",
    "meta mark set ct mark & 0xffffff00",
  ]);
  assert.equal(chain("restore_bits").length, 1 + 24);
  // A packet of a decided connection (connection mark: a protocol, neither 0 nor unset, and
  // nothing else; it is never saved again) whose protocol has one class on both devices:
  // its class and its count in one lookup that leaves the chain (the map's element
  // counters, which the sampler adds to the protocol's named counter).
  assert.equal(chain("post")[0], "meta priority set ct mark & 0xffffff00 map @decided accept");
  const decided = nft.maps.find((mp) => mp.name === "decided")!;
  assert.equal(decided.counted, true);
  assert.deepEqual(decided.elements.slice(0, 3), [
    { key: 0x200, value: "1:14" },
    { key: 0x300, value: "1:11" },
    { key: 0x400, value: "1:10" },
  ]);
  assert.ok(!decided.elements.some((e) => e.key === 0x100), "unset may still be saved: not there");
  // Those without a class (tftp 17, rtsp 19: no rule) go to their protocol's chain (count).
  assert.equal(
    chain("post")[1],
    "ct mark & 0xffffff00 vmap { 0x00001100 : goto fast_17, 0x00001300 : goto fast_19 }",
  );
  assert.equal(
    chain("post")[2],
    "ct mark & 0x0000fe00 == 0x00000000 meta mark & 0x0000fe00 != 0x00000000 jump save",
  );
  // Then one lookup by mark: untouched packets leave, a decided one with only a protocol goes
  // to its protocol's chain (count, class); the rest walk the general rules.
  assert.match(
    chain("post")[3]!,
    /^meta mark & 0xffffff00 vmap \{ 0x00000000 : goto unmarked, 0x00000100 : goto fast_1, /,
  );
  // The same class on both devices: a constant.
  assert.deepEqual(chain("fast_4"), ['counter name "proto_4" meta priority set 1:10']);
  assert.equal(chain("post")[4], "counter name meta mark & 0x0000ff00 map @protocols");
  assert.deepEqual(chain("save"), [
    "ct mark & 0x000000ff != 0x00000000 goto save_bits",
    "ct mark set meta mark & 0xffffff00",
  ]);
  assert.equal(chain("save_bits")[0], "ct mark set ct mark & 0x000000ff");
  const q = "-j NFQUEUE --queue-balance 8:11 --queue-bypass";
  // SLUICE_FWD in order (only the packets FORWARD's jumps select get there): DNS answers
  // always reach the data plane (its DNS cache names later flows); a decided connection
  // (protocol field neither 0 nor 1) leaves after one test; an
  // undecided one is queued inside the window; past it, it is marked unknown and queued once
  // more so the data plane records the verdict (the queue fails open, the mark stays). An
  // RTSP control connection (rtsp, mark 19) stays queued for its first 64 packets, decided
  // or not, so the data plane reads its SETUP replies (the media it announces).
  assert.deepEqual(
    rules.filter((x) => x.chain === "SLUICE_FWD").map((x) => x.spec.join(" ")),
    [
      `-p udp -m udp --sport 53 ${q}`,
      `-p tcp -m mark --mark 0x1300/0xff00 -m connbytes --connbytes 0:64 --connbytes-mode packets --connbytes-dir both ${q}`,
      "-m mark ! --mark 0x0/0xfe00 -j RETURN",
      `-m connbytes --connbytes 0:12 --connbytes-mode packets --connbytes-dir both ${q}`,
      "-j MARK --set-xmark 0x200/0xff00",
      q,
    ],
  );
  const legacy = renderPolicy(policy(), MARKS, LEGACY_CAPABILITIES);
  // Without nftables: restore in SLUICE_PRE; the mark is saved once, only while the
  // connection's own mark is undecided.
  const legacyRules = buildRules(legacy.model, 4);
  assert.deepEqual(
    legacyRules.filter((x) => x.chain === "SLUICE_PRE").map((x) => x.spec.join(" ")),
    ["-j CONNMARK --restore-mark --nfmask 0xffffff00 --ctmask 0xffffff00"],
  );
  assert.deepEqual(
    legacyRules
      .filter((x) => x.chain === "SLUICE_POST" && x.spec.includes("CONNMARK"))
      .map((x) => x.spec.join(" ")),
    [
      "-m connmark --mark 0x0/0xfe00 -m mark ! --mark 0x0/0xfe00 -j CONNMARK --save-mark --nfmask 0xffffff00 --ctmask 0xffffff00",
    ],
  );
  assert.equal(hooksOf(legacy.model).length, 5);
  // Without nftables there is no expectation map: RTSP control connections are not kept queued.
  assert.equal(legacy.model.related.rtspMedia, null);
  assert.ok(!buildRules(legacy.model, 4).some((x) => x.spec.includes("0:64")));
  assert.ok(
    buildRules(legacy.model, 4)
      .map((x) => ruleLine(x))
      .includes(`-A SLUICE_ACCT -m mark --mark 0x300/0xff00 -m comment --comment "sluice:http" -j RETURN`),
  );
  const single = renderPolicy(
    policy((p) => (p.inspection = { packets: 10, bytes: 2048, queues: 1, queueBase: 3 })),
    MARKS,
    FULL_CAPABILITIES,
  );
  assert.match(single.iptables.v4, /-j NFQUEUE --queue-num 3 --queue-bypass\n/);
  // Without IPv6 classification support, v6 keeps restore/save (the inet table's) but does
  // not queue.
  const no6 = { ...FULL_CAPABILITIES, ip6tables: { ...FULL_CAPABILITIES.ip6tables, NFQUEUE: false } };
  assert.equal(chooseVariant(no6).ipv6, false);
  assert.doesNotMatch(renderPolicy(policy(), MARKS, no6).iptables.v6, /NFQUEUE/);
  // Chains of an older layout are flushed and removed by the same restore, their jumps
  // from built-in chains first (SLUICE_PRE/SLUICE_POST before the connection mark moved to
  // nftables); the chains in use stay.
  const upgrade = renderIptables(r.model, 4, {
    addHooks: false,
    removeChains: ["SLUICE_ACCT", "SLUICE_PRE", "SLUICE_FWD", "SLUICE_POST"],
    removeHooks: ["-A PREROUTING -j SLUICE_PRE", "-A POSTROUTING -j SLUICE_POST"],
  });
  assert.match(upgrade, /:SLUICE_ACCT - \[0:0\]\n/);
  assert.match(
    upgrade,
    /-D PREROUTING -j SLUICE_PRE\n-D POSTROUTING -j SLUICE_POST\n[^]*-X SLUICE_ACCT\n-X SLUICE_PRE\n-X SLUICE_POST\nCOMMIT/,
  );
  assert.doesNotMatch(upgrade, /-X SLUICE_FWD/);
});

test("a protocol whose class differs by device keeps its class pick by output device", () => {
  // An upload-only class first: upload's class ids move, download's stay.
  const r = renderPolicy(
    policy((p) => {
      p.interfaces.wan!.rate = "21mbit";
      p.classes!.upload!.unshift({ name: "voice", rate: "1mbit", ceil: "2mbit", priority: 0 });
    }),
    MARKS,
    FULL_CAPABILITIES,
  );
  const chain = (name: string) => r.nft!.table.chains.find((c) => c.name === name)!.rules.map((x) => x.text);
  assert.deepEqual(chain("fast_4"), [
    'counter name "proto_4" meta priority set oifname map { "wan0" : 1:11, "lan0" : 1:10 }',
  ]);
  // The connection mark's lookup goes to the same chains as the packet mark's; no protocol
  // has one class on both devices here, so there is no decided map.
  assert.match(
    chain("post")[0]!,
    /^ct mark & 0xffffff00 vmap \{ 0x00000200 : goto fast_2, 0x00000300 : goto fast_3, /,
  );
  assert.ok(!r.nft!.table.maps.some((mp) => mp.name === "decided"));
});

test("golden: download shaped on an IFB (box not a router): connmark restored on WAN ingress", () => {
  const r = renderPolicy(
    policy((p) => ((p as { download?: string }).download = "ifb")),
    MARKS,
    FULL_CAPABILITIES,
  );
  golden("ifb.tc", scriptText(r).tc);
  assert.equal(r.model.devices[1]!.device, "ifb-sluice");
  // Only the WAN device's tree is on the postrouting path: a class stays picked by output
  // device (a packet leaving by the LAN device keeps its priority untouched).
  const fast4 = r.nft!.table.chains.find((c) => c.name === "fast_4")!.rules.map((x) => x.text);
  assert.deepEqual(fast4, ['counter name "proto_4" meta priority set oifname map { "wan0" : 1:10 }']);
  assert.equal(r.model.devices[1]!.linkRate, 20_000_000);
  assert.ok(r.tc.lines.includes("qdisc add dev wan0 handle ffff: ingress"));
  assert.ok(
    r.tc.lines.some((l) =>
      l.includes("matchall action connmark action mirred egress redirect dev ifb-sluice"),
    ),
  );
});

test("targeted rules: hostname > app > category > protocol, per field, stable app ids", () => {
  const r = renderPolicy(policy(targeted), MARKS, FULL_CAPABILITIES, APPS);
  const up = r.model.devices[0]!;
  const routes = up.routes.map((x) => `${x.field} ${x.value} ${x.label} → ${x.className}`);
  assert.deepEqual(routes.slice(0, 5), [
    "host 1 hostname *.example.com → p2p",
    "host 2 hostname backup*.example.net → bulk",
    "app 1 app youtube → bulk",
    "app 2 category video (netflix) → web",
    "app 7 category gaming (steam) → interactive",
  ]);
  assert.ok(routes.includes("protocol 3 http → web"));
  assert.deepEqual(r.model.hostRules, [
    { glob: "*.example.com", id: 1 },
    { glob: "backup*.example.net", id: 2 },
  ]);
  assert.deepEqual(
    r.model.appAccounting.map((a) => a.app),
    ["youtube", "netflix", "steam", "zoom"],
  );
  // fw filters (without nftables): one instance (prio) per field, most specific first.
  const lr = renderPolicy(policy(targeted), MARKS, LEGACY_CAPABILITIES, APPS);
  const f = lr.tc.lines.filter((l) => l.startsWith("filter add dev wan0"));
  assert.equal(
    f[0],
    "filter add dev wan0 parent 1: protocol all prio 1 handle 0x1000000/0xff000000 fw classid 1:13",
  );
  assert.equal(
    f[2],
    "filter add dev wan0 parent 1: protocol all prio 2 handle 0x10000/0xff0000 fw classid 1:12",
  );
  assert.match(f.at(-2)!, /prio 3 handle 0x200\/0xff00 fw classid 1:14$/);
  // ftp-data has no rule: it follows ftp's (bulk, 1:12), after the rules' own routes.
  assert.match(f.at(-1)!, /prio 3 handle 0x1200\/0xff00 fw classid 1:12$/);
  // CLASSIFY: the last match wins, so hostname rules come last.
  const m = renderPolicy(policy(targeted), MARKS, { ...MINIMAL_CAPABILITIES, nftables: false }, APPS);
  const post = buildRules(m.model, 4)
    .filter((x) => x.chain === "SLUICE_POST" && x.spec.includes("CLASSIFY"))
    .map((x) => x.spec[5]);
  assert.equal(post.at(-1), "0x2000000/0xff000000");
  assert.ok(post.indexOf("0x10000/0xff0000") > post.indexOf("0x300/0xff00"));
  // Per-app accounting (iptables) only for packets that carry an app.
  const lines = buildRules(lr.model, 4).map((x) => ruleLine(x));
  assert.ok(lines.includes("-A SLUICE_POST -m mark ! --mark 0x0/0xff0000 -j SLUICE_APPS"));
  assert.ok(
    lines.includes(
      `-A SLUICE_APPS -m mark --mark 0x70000/0xff0000 -m comment --comment "sluice-app:steam" -j RETURN`,
    ),
  );
  // Without a catalogue, app and category rules do nothing, and the header says so.
  const bare = renderPolicy(policy(targeted), MARKS, FULL_CAPABILITIES, null);
  assert.ok(!bare.model.devices[0]!.routes.some((x) => x.field === "app"));
  assert.match(bare.header.join("\n"), /no application catalogue loaded/);
});

test("hostname rules keep their ids across applies, so live connections follow a class change", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-hostids-"));
  const reg = new HostIdRegistry(dir);
  assert.deepEqual(
    [...reg.ids(["*.a.com", "*.b.com"], 255)],
    [
      ["*.a.com", 1],
      ["*.b.com", 2],
    ],
  );
  // Reordered, one removed, one added: the kept glob keeps its id, the new one does not
  // take the removed one's id (its connections may still be alive).
  assert.deepEqual(
    [...reg.ids(["*.c.com", "*.B.com"], 255)],
    [
      ["*.c.com", 3],
      ["*.B.com", 2],
    ],
  );
  // Persisted in the data directory.
  assert.deepEqual([...new HostIdRegistry(dir).ids(["*.a.com"], 255)], [["*.a.com", 1]]);
  // A full field reuses the id of the glob out of the policy the longest.
  const small = new HostIdRegistry(null);
  small.ids(["x.com", "y.com"], 2);
  small.ids(["y.com"], 2);
  assert.deepEqual(
    [...small.ids(["y.com", "z.com"], 2)],
    [
      ["y.com", 2],
      ["z.com", 1],
    ],
  );
  assert.throws(() => small.ids(["a", "b", "c"], 2), /3 hostname rules, the mark field holds 2/);
  // The model routes the ids it is given.
  const r = renderPolicy(
    policy(targeted),
    MARKS,
    FULL_CAPABILITIES,
    APPS,
    new Map([
      ["*.example.com", 7],
      ["backup*.example.net", 3],
    ]),
  );
  assert.deepEqual(
    r.model.devices[0]!.routes.filter((x) => x.field === "host").map((x) => [x.value, x.className]),
    [
      [7, "p2p"],
      [3, "bulk"],
    ],
  );
  rmSync(dir, { recursive: true, force: true });
});

test("nft verify: the conntrack helpers and the prerouting chain's priority are checked", () => {
  const r = renderPolicy(policy(targeted), MARKS, FULL_CAPABILITIES, APPS);
  const t = r.nft!.table;
  const read = (): InstalledNft => ({
    counters: [...t.counters],
    helpers: t.helpers.map((h) => `${h.name} ${h.type} ${h.l4}`),
    maps: [
      ...t.maps.map((m) => ({
        name: m.name,
        type: "",
        data: "",
        elements: m.elements.map((e) => `${e.key} : ${e.value}`),
      })),
      // the RTSP media maps as nft -j prints them, holding live elements (not compared)
      ...(t.mediaMaps ?? []).map((f) => {
        const a = f === 4 ? "ipv4_addr" : "ipv6_addr";
        return {
          name: `rtsp_media${f}`,
          type: JSON.stringify([a, "inet_service", a, "inet_service"]),
          data: JSON.stringify("mark"),
          flags: JSON.stringify(["timeout"]),
          elements: f === 4 ? ["192.168.50.10 . 5000 . 203.0.113.5 . 6970 : 4864"] : [],
        };
      }),
    ],
    chains: t.chains.map((c) => ({
      name: c.name,
      hook: c.hook ? `${c.hook} ${c.hook === "prerouting" ? -160 : -150}` : null,
      rules: c.rules.map((x) => JSON.stringify(x.refs)),
    })),
  });
  assert.deepEqual(verifyNft(t, read()), []);
  const noHelper = read();
  noHelper.helpers.pop();
  assert.match(verifyNft(t, noHelper).join(";"), /conntrack helpers differ/);
  const late = read();
  late.chains.find((c) => c.name === "pre")!.hook = "prerouting -150";
  assert.match(verifyNft(t, late).join(";"), /chain pre hooked as prerouting -150/);
  // A media map must be a tuple → mark map with timeouts; a missing one is named.
  const noTimeout = read();
  delete noTimeout.maps.find((m) => m.name === "rtsp_media4")!.flags;
  assert.match(verifyNft(t, noTimeout).join(";"), /map rtsp_media4 is not an ipv4_addr tuple/);
  const noMedia = read();
  noMedia.maps = noMedia.maps.filter((m) => m.name !== "rtsp_media6");
  assert.match(verifyNft(t, noMedia).join(";"), /map rtsp_media6 missing/);
  // Without the helpers in the kernel: no prerouting chain, and the header says so.
  const none = renderPolicy(policy(targeted), MARKS, {
    ...FULL_CAPABILITIES,
    ctHelpers: { ftp: false, sip: true, tftp: true },
  });
  assert.ok(!none.nft!.table.helpers.some((h) => h.type === "ftp"));
  assert.ok(none.header.some((l) => /conntrack helper ftp missing/.test(l)));
});
