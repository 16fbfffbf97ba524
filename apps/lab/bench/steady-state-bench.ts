// Steady state at one box core: every flow decided, nothing queued. Forwarded packets per
// second through a router namespace (client -> box -> server, 64-byte UDP) in three modes,
// each with the SAME HTB tree (the one the policy renders: root, link class, two classes,
// leaves as this kernel allows):
//   (min)    the minimal rule set: connmark restore, `connmark != 0` accept, connbytes-gated
//            NFQUEUE --queue-bypass, save-mark only while the connmark is 0; flows decided by
//            a minimal C consumer (nfq-minimal.c, fixed mark); no classes picked, nothing
//            counted;
//   (sluice) the policy as the agent installs it (Applier: render, apply, read back, verify),
//            with the variant this kernel probes to (nftables maps where present), the data
//            plane deciding the flows;
//   (legacy) the same policy rendered as if nftables were missing (iptables accounting
//            chains, CLASSIFY or fw), to show what the maps buy.
// The box's ingress softirq (RPS on its client-side veth) and its data plane are pinned to
// CPU 0, the generator to CPU 1, as on a small appliance. Modes alternate round by round;
// ratios are medians of per-round ratios. Run as root: node apps/lab/bench/steady-state-bench.ts
// (BENCH_ROUNDS, BENCH_SECONDS, BENCH_FLOWS tune it). Prints, never asserts.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPatternDirs, loadAppCatalogue, DEFAULT_CATALOGUE_PATH } from "@sluice/classifier";
import type { PolicyInput } from "@sluice/policy";
import type { NetnsLab } from "../src/netns-lab.ts";
import { runSync } from "../src/exec.ts";
import { NetnsExecutor } from "@sluice/agent/src/kernel/executor.ts";
import { probeCapabilities } from "@sluice/agent/src/kernel/probe.ts";
import type { Capabilities } from "@sluice/agent/src/kernel/capabilities.ts";
import { Applier, type ProtocolCatalogue } from "@sluice/agent/src/apply/applier.ts";
import { HistoryStore } from "@sluice/agent/src/apply/store.ts";
import {
  copyBenchPatterns,
  serverDropCount,
  startInRouter,
  startLabBench,
  udpBlast,
} from "./support/lab-bench.ts";

const RUN_DP = fileURLToPath(import.meta.resolve("@sluice/agent/src/nfqueue/run-data-plane.ts"));
const NODE = process.execPath;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.6);
const FLOWS = Number(process.env.BENCH_FLOWS ?? 16);
const PAYLOAD = 18; // 46-byte IP packets, 64-byte frames
const PORT = 9000;
const SRC_BASE = 20000;
const BOX_CPU = "0";
const GEN_CPU = cpus().length > 1 ? "1" : "0";

const bench = startLabBench("steady", ["cc", "taskset"]);
const work = bench.work;
const NFQ_MINIMAL = bench.compile("nfq-minimal.c", "nfq-minimal", ["-lnetfilter_queue"]);
const BLAST = bench.compile("udp-blast.c", "udp-blast");

// The pattern set the agent would load: the classic l7-filter set when present, else ours.
const patterns = copyBenchPatterns(join(work, "protocols"));
const patternSet = loadPatternDirs([patterns]);
const protocols: ProtocolCatalogue = {
  marks: new Map(patternSet.patterns.map((p) => [p.name, p.mark])),
  names: new Set(patternSet.patterns.map((p) => p.name)),
};
const apps = existsSync(DEFAULT_CATALOGUE_PATH) ? loadAppCatalogue(DEFAULT_CATALOGUE_PATH) : null;

// Two classes on a 10 Gbit link each way; the benchmark's flows end "unknown" and go to
// "fast" through the maps (or CLASSIFY/fw), the rest of the rules as a real policy has them.
const tree = () => [
  { name: "fast", rate: "5gbit", ceil: "10gbit", priority: 1 },
  { name: "default", rate: "5gbit", ceil: "10gbit", priority: 3, default: true },
];
const fast = ["ssh", "dns", "rtp", "sip", "stun", "http", "ssl", "quic", "unknown"];
const policy: PolicyInput = {
  version: 1,
  name: "bench",
  interfaces: { wan: { device: "r1", rate: "10gbit" }, lan: { device: "r0", rate: "10gbit" } },
  classes: { upload: tree(), download: tree() },
  rules: [
    ...(apps ? [{ category: "video-streaming", class: "default" }] : []),
    ...[...protocols.names]
      .filter((p) => !["unknown", "unset"].includes(p))
      .map((p) => ({ protocol: p, class: fast.includes(p) ? "fast" : "default" })),
    { protocol: "unknown", class: "fast" },
  ],
  inspection: { packets: 10, bytes: 2048, queues: 1, queueBase: 0 },
} as PolicyInput;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function newLab(tag: string, net: number): NetnsLab {
  const l = bench.newLab(tag, net);
  l.restoreRules(l.server, `*raw\n-A PREROUTING -p udp --dport ${PORT} -j DROP\nCOMMIT\n`, [4]);
  l.sysctl(l.router, "net.netfilter.nf_conntrack_udp_timeout", "300");
  l.sysctl(l.router, "net.netfilter.nf_conntrack_acct", "1");
  // The box's receive path on CPU 0 (RPS on its client-side veth), whoever sends.
  rps(l, true);
  return l;
}

/** RPS on the box's client-side veth: its receive path on CPU 0, or in the sender's context. */
function rps(l: NetnsLab, on: boolean): void {
  const mask = on ? 1 << Number(BOX_CPU) : 0;
  l.mustExec(l.router, "sh", ["-c", `echo ${mask} > /sys/class/net/r0/queues/rx-0/rps_cpus`]);
}

const serverCount = serverDropCount;
const blast = (l: NetnsLab, seconds: number, limit = 0, gapUs = 0) =>
  udpBlast(l, BLAST, {
    port: PORT,
    flows: FLOWS,
    payload: PAYLOAD,
    srcBase: SRC_BASE,
    seconds,
    limit,
    gapUs,
    cpu: GEN_CPU,
  });

/** Applies the policy in the lab's box through the real applier; returns the rendered scripts. */
async function applyPolicy(l: NetnsLab, caps: Capabilities) {
  const applier = new Applier({
    exec: new NetnsExecutor(l.router),
    store: new HistoryStore(mkdtempSync(join(work, "store-"))),
    caps,
    protocols: () => protocols,
    apps: () => apps,
  });
  await applier.apply(policy, { user: "bench" });
  return applier.render(applier.validate(policy));
}

interface Mode {
  key: string;
  label: string;
  lab: NetnsLab;
  stop: () => Promise<unknown>;
  /** The consumer's CPU seconds so far (the data plane, or the minimal C consumer). */
  cpuSeconds: () => number;
  pps: number[];
  /** Sender CPU per datagram with RPS off: the whole forwarding path runs in its sends. */
  ns: number[];
  note: string;
}

const t0 = Date.now();
const load0 = runSync(["cat", "/proc/loadavg"]).stdout.trim();
const modes: Mode[] = [];

// Probe once in a scratch lab: the same kernel for every mode.
const probeLab = newLab("probe", 90);
const caps = await probeCapabilities(new NetnsExecutor(probeLab.router));
const rendered = await applyPolicy(probeLab, caps);
console.log(
  `steady-state bench: ${cpus().length} CPUs (box + data plane on CPU ${BOX_CPU}, generator on CPU ${GEN_CPU}), ` +
    `${FLOWS} UDP flows, ${PAYLOAD + 28}-byte IP packets, ${ROUNDS} alternating rounds x ${SECONDS} s; ` +
    `${patternSet.size} patterns, policy "${policy.name}": ${policy.rules!.length} rules, 2 classes each way; ` +
    `variant ${rendered.model.variant.filter}/${rendered.model.variant.accounting}/${rendered.model.variant.leaf}`,
);

// BENCH_DP=1 adds (mnode): the minimal rules with Sluice's data plane deciding the flows,
// and (sluc): Sluice as installed with the minimal C consumer: what the consumer costs.
const minModes: [string, string, boolean][] = [["min", "(min)    minimal rules + the same HTB tree", false]];
if (process.env.BENCH_DP === "1")
  minModes.push(["mnode", "(mnode)  minimal rules, Sluice's data plane", true]);
for (const [key, label, node] of minModes) {
  // (min): the same tc tree (no filters: nothing picks a class), the minimal rules.
  const l = newLab(key, key === "min" ? 91 : 89);
  const own = `0x${rendered.model.ownMask.toString(16)}`;
  const tc = rendered.tc.lines.filter((x) => !x.startsWith("filter ")).join("\n") + "\n";
  l.mustExec(l.router, "tc", ["-batch", "-"], tc);
  l.restoreRules(
    l.router,
    [
      "*mangle",
      `-A PREROUTING -j CONNMARK --restore-mark --nfmask ${own} --ctmask ${own}`,
      `-A PREROUTING -m connmark ! --mark 0x0/${own} -j ACCEPT`,
      "-A PREROUTING -m connbytes --connbytes 0:10 --connbytes-dir both --connbytes-mode packets -j NFQUEUE --queue-num 0 --queue-bypass",
      `-A POSTROUTING -m connmark --mark 0x0/${own} -j CONNMARK --save-mark --nfmask ${own} --ctmask ${own}`,
      "COMMIT",
      "",
    ].join("\n"),
    [4],
  );
  const { stop, cpuSeconds } = node
    ? await startInRouter(
        l,
        [NODE, RUN_DP, "--queues", "0", "--protocols", patterns, "--copy-range", "2176"],
        /"event":"ready"/,
        { cpu: BOX_CPU },
      )
    : await startInRouter(l, [NFQ_MINIMAL, "0", "256", "4096", "1", "0x200"], /ready/, {
        cpu: BOX_CPU,
      });
  modes.push({
    key,
    label,
    lab: l,
    stop,
    cpuSeconds,
    pps: [],
    ns: [],
    note: "",
  });
}
// BENCH_SPLIT=1 adds, to tell the costs apart: (nofwd) Sluice as installed minus its
// iptables FORWARD jump (the queue rules' hook; the connection mark is in nftables), (nocnt)
// minus its nftables counter rules (what counting from conntrack instead of per packet
// would leave) and (nocls) minus its class pick (the post chain's device jumps); those two on
// the layout before the fast verdict map (nofast), whose general rules they cut.
// BENCH_LEGACY=0 leaves (legacy) out. BENCH_NFTQ=1 adds (nofwd) and two layouts that would
// queue from nftables (not renderable on a kernel without CONFIG_NFT_QUEUE, such as this
// VM's: their decided-packet path only, swapped in once every flow is decided): (nftq) the
// queue rules in a postrouting base chain of their own before `post`, (nftp) at the end of
// `post` (no extra hook).
const variants: [string, string, Capabilities, number][] = [
  ["sluice", "(sluice) Sluice as installed (this kernel's variant)", caps, 92],
];
if (process.env.BENCH_LEGACY !== "0")
  variants.push([
    "legacy",
    "(legacy) Sluice without nftables (linear iptables chains)",
    { ...caps, nftables: false },
    93,
  ]);
if (process.env.BENCH_DP === "1")
  variants.push(["sluc", "(sluc)   Sluice as installed, the minimal C consumer", caps, 88]);
if (process.env.BENCH_SPLIT === "1")
  variants.push(
    ["nofwd", "(nofwd)  Sluice as installed minus its FORWARD jump", caps, 94],
    ["nocnt", "(nocnt)  Sluice as installed minus its nft counter rules", caps, 95],
    ["nocls", "(nocls)  Sluice as installed minus its class pick", caps, 96],
  );
// BENCH_FAST=0 leaves out (nofast): Sluice as installed minus the post chain's verdict map
// for decided packets with only a protocol (the layout before it, for an A/B in one run).
// BENCH_FLOOR=1 adds (floor): the post chain reduced to a constant class, what the hooks
// and the other chains cost alone.
if (process.env.BENCH_FAST !== "0")
  variants.push(["nofast", "(nofast) Sluice without the fast verdict map (before)", caps, 86]);
if (process.env.BENCH_FLOOR === "1")
  variants.push(["floor", "(floor)  Sluice, post chain: a constant class only", caps, 85]);
if (process.env.BENCH_NFTQ === "1") {
  if (process.env.BENCH_SPLIT !== "1")
    variants.push(["nofwd", "(nofwd)  Sluice as installed minus its FORWARD jump", caps, 94]);
  variants.push(
    ["nftq", "(nftq)   Sluice, queue rules in an nft postrouting chain", caps, 97],
    ["nftp", "(nftp)   Sluice, queue rules at the end of nft post", caps, 98],
  );
}
// BENCH_LAYOUTS=a,b+c,...: hand-made decided-packet layouts swapped into Sluice's installed
// table once every flow is decided (each "+"-joined set of changes is one mode; see
// applyLayout): what a renderer change would buy, measured before making it.
const LAYOUTS = (process.env.BENCH_LAYOUTS ?? "").split(",").filter(Boolean);
LAYOUTS.forEach((name, i) => variants.push([`L${i}`, `(L${i})     layout ${name}`, caps, 70 + i]));
for (const [key, label, c, net] of variants) {
  const l = newLab(key, net);
  const r = await applyPolicy(l, c);
  const drop = key === "nocnt" ? / counter name .* # handle (\d+)$/ : / jump dev\d+ # handle (\d+)$/;
  if (key === "nocnt" || key === "nocls")
    for (const line of l
      .mustExec(l.router, "nft", ["-a", "list", "chain", "inet", "sluice", "post"])
      .split("\n")) {
      const handle = drop.exec(line)?.[1];
      if (handle) l.mustExec(l.router, "nft", ["delete", "rule", "inet", "sluice", "post", "handle", handle]);
    }
  const { stop, cpuSeconds } =
    key === "sluc"
      ? await startInRouter(l, [NFQ_MINIMAL, "0", "256", "4096", "1", "0x200"], /ready/, { cpu: BOX_CPU })
      : await startInRouter(
          l,
          [NODE, RUN_DP, "--queues", "0", "--protocols", patterns, "--copy-range", "2176"],
          /"event":"ready"/,
          { cpu: BOX_CPU },
        );
  const iptRules = r.iptables.v4.split("\n").filter((x) => x.startsWith("-A ")).length;
  modes.push({
    key,
    label,
    lab: l,
    stop,
    cpuSeconds,
    pps: [],
    ns: [],
    note: `${iptRules} iptables rules, nft ${r.nft ? `${r.nft.table.maps.length} maps / ${r.nft.table.counters.length} counters` : "none"}, filter ${r.model.variant.filter}`,
  });
}
probeLab.destroy();

// Decide every flow first: 12 paced datagrams each spend the 10-packet window.
for (const m of modes) blast(m.lab, 10, 12, 2000);
for (const m of modes) {
  // A connection's packets that reach the box before its first one was verdicted ride on
  // unconfirmed conntrack clones, and a mark saved on a clone is lost when conntrack merges
  // it: the connection is saved by its next packet (past the window: the late rule). So
  // send one more datagram per flow until every flow's verdict is in conntrack.
  let marks = new Set<number>();
  for (let i = 0; i < 50; i++) {
    marks = new Set(m.lab.conntrack(4).flatMap((e) => (e.dport === PORT ? [e.mark & 0xff00] : [])));
    if (![...marks].some((x) => x < 0x200)) break;
    blast(m.lab, 1, 1);
    await sleep(200);
  }
  m.note += `; conntrack marks ${[...marks].map((x) => `0x${x.toString(16)}`).join(",")}`;
}

// Once every flow is decided: (nofwd) loses its FORWARD jump; (nftq)/(nftp) replace it with
// the nft form of SLUICE_FWD's decided-packet rules (the undecided path only counts here:
// no packet walks it, and this kernel has no nft `queue` statement).
for (const m of modes) {
  if (m.key === "floor")
    m.lab.mustExec(
      m.lab.router,
      "nft",
      ["-f", "-"],
      "flush chain inet sluice post\nadd rule inet sluice post meta priority set 1:10\n",
    );
  // (nocnt) and (nocls) take out parts of the general rules: on the layout before the fast map.
  if (m.key === "nofast" || m.key === "nocnt" || m.key === "nocls") {
    const post = m.lab.mustExec(m.lab.router, "nft", ["-a", "list", "chain", "inet", "sluice", "post"]);
    const handle = /^\s*meta mark & 0x[0-9a-f]+ vmap \{ .* # handle (\d+)$/m.exec(post)?.[1];
    if (!handle) throw new Error(`(nofast): no fast verdict map in the post chain:\n${post}`);
    const ct = [
      ...post.matchAll(
        /^\s*(?:ct mark & 0x[0-9a-f]+ vmap \{ .*|meta priority set ct mark .*) # handle (\d+)$/gm,
      ),
    ].map((x) => x[1]);
    // The layout before: the untouched packets' test first, then the general rules.
    m.lab.mustExec(
      m.lab.router,
      "nft",
      ["-f", "-"],
      ct.map((h) => `delete rule inet sluice post handle ${h}\n`).join("") +
        `delete rule inet sluice post handle ${handle}\ninsert rule inet sluice post meta mark & 0xffffff00 == 0 goto unmarked\n`,
    );
  }
  if (/^L\d+$/.test(m.key)) applyLayout(m.lab, LAYOUTS[Number(m.key.slice(1))]!);
  if (m.key === "nofwd" || m.key === "nftq" || m.key === "nftp")
    m.lab.mustExec(m.lab.router, "iptables", ["-t", "mangle", "-D", "FORWARD", "-j", "SLUICE_FWD"]);
  if (m.key === "nftp")
    for (const rule of [
      "meta l4proto tcp meta mark & 0xfe00 != 0 meta mark & 0xff00 != 0x1300 accept",
      "udp sport != 53 meta mark & 0xfe00 != 0 accept",
    ])
      m.lab.mustExec(m.lab.router, "nft", ["add rule inet sluice post " + rule]);
  if (m.key === "nftq") {
    m.lab.mustExec(
      m.lab.router,
      "nft",
      ["-f", "-"],
      [
        "table inet sluice {",
        "  chain fwdq {",
        "    type filter hook postrouting priority mangle - 5; policy accept;",
        "    meta l4proto tcp meta mark & 0xfe00 != 0 meta mark & 0xff00 != 0x1300 return",
        "    udp sport != 53 meta mark & 0xfe00 != 0 return",
        '    iifname { "r0", "r1" } jump fwdq_slow',
        "  }",
        "  chain fwdq_slow {",
        "    udp sport 53 counter",
        "    meta l4proto tcp meta mark & 0xff00 == 0x1300 ct packets <= 64 counter",
        "    meta mark & 0xfe00 != 0 return",
        "    ct packets <= 10 counter",
        "    meta mark set meta mark & 0xffff00ff | 0x200",
        "    counter",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  }
}

/**
 * One hand-made layout (BENCH_LAYOUTS), changed from the fast path as installed (`post`
 * first `meta priority set ct mark & own map @decided accept`, the decided map counting per
 * element; then `ct mark & own vmap { <mark> : goto fast_<n> }` for the other decided
 * protocols; each `fast_<n>` holds `counter name "proto_<n>" meta priority set <class>`):
 * "nodec" no decided-map rule (decided packets by the connection-mark verdict map to their
 * fast chain: the ninth pass's first step); "nocnt" no counter in the fast chains; "devmap"
 * the class by output device in the fast chains (`meta priority set oifname map { dev :
 * class, ... }`); "noct" no connection-mark lookup at all (a decided packet walks the save
 * test and the packet-mark lookup first); "prev" = devmap+noct, the layout before (issue 10,
 * the seventh pass's); "fwd1" FORWARD as before its conditional jumps (one jump into
 * SLUICE_FWD, whose first two rules return decided packets); "pre0" pre's restore rule
 * testing `meta mark 0` instead of the packet's other bits; "ctfwd" FORWARD's jumps by the
 * connection mark (xt connmark) and no restore in `pre`, "nopre" the same without `pre`.
 */
function applyLayout(l: NetnsLab, layout: string): void {
  const parts = new Set(layout.split("+"));
  if (parts.has("fwd1")) {
    // The FORWARD layout before the conditional jumps (issue 10, the ninth pass): one
    // unconditional jump into SLUICE_FWD, whose first two rules return a decided TCP packet
    // (not RTSP control) and a decided UDP one (not a DNS answer).
    const save = l.mustExec(l.router, "iptables-save", ["-t", "mangle"]).split("\n");
    const jumps = save.filter((x) => /^-A FORWARD .*-j SLUICE_FWD$/.test(x));
    const rtsp = save
      .map((x) => /^-A SLUICE_FWD -p tcp -m mark --mark (\S+) -m connbytes/.exec(x)?.[1])
      .find(Boolean);
    l.restoreRules(
      l.router,
      [
        "*mangle",
        ...jumps.map((x) => x.replace(/^-A/, "-D")),
        "-I FORWARD 1 -j SLUICE_FWD",
        "-I SLUICE_FWD 1 -p udp -m udp ! --sport 53 -m mark ! --mark 0x0/0xfe00 -j RETURN",
        `-I SLUICE_FWD 1 -p tcp -m mark ! --mark 0x0/0xfe00${rtsp ? ` -m mark ! --mark ${rtsp}` : ""} -j RETURN`,
        "COMMIT",
        "",
      ].join("\n"),
      [4],
    );
    parts.delete("fwd1");
  }
  if (parts.has("ctfwd") || parts.has("nopre")) {
    // FORWARD's jumps test the connection mark (xt connmark: iptables-nft has no native
    // form), so a decided packet needs no restore in `pre` ("ctfwd": pre's first rule only
    // accepts) or no `pre` at all ("nopre": what moving its new-connection rules to `post`
    // would leave; decided packets only, as every layout here).
    const save = l.mustExec(l.router, "iptables-save", ["-t", "mangle"]).split("\n");
    const jumps = save.filter((x) => /^-A FORWARD (.* )?-m mark --mark \S+ -j SLUICE_FWD$/.test(x));
    l.restoreRules(
      l.router,
      [
        "*mangle",
        ...jumps.flatMap((x) => [
          x.replace(/^-A/, "-D"),
          x.replace(/^-A FORWARD/, "-I FORWARD 1").replace("-m mark --mark", "-m connmark --mark"),
        ]),
        "COMMIT",
        "",
      ].join("\n"),
      [4],
    );
    const pre = l.mustExec(l.router, "nft", ["-a", "list", "chain", "inet", "sluice", "pre"]);
    const h = /^\s*ct status .* meta mark set ct mark .* accept # handle (\d+)$/m.exec(pre)?.[1];
    if (!h) throw new Error(`ctfwd: no fast restore rule in pre:\n${pre}`);
    if (parts.has("nopre"))
      l.mustExec(l.router, "nft", ["-f", "-"], "flush chain inet sluice pre\ndelete chain inet sluice pre\n");
    else
      l.mustExec(l.router, "nft", [
        `replace rule inet sluice pre handle ${h} ct status & (expected | confirmed) == confirmed accept`,
      ]);
    parts.delete("ctfwd");
    parts.delete("nopre");
  }
  if (parts.has("pre0")) {
    const pre = l.mustExec(l.router, "nft", ["-a", "list", "chain", "inet", "sluice", "pre"]);
    const h = /^\s*ct status .* meta mark set ct mark .* accept # handle (\d+)$/m.exec(pre)?.[1];
    if (!h) throw new Error(`pre0: no fast restore rule in pre:\n${pre}`);
    l.mustExec(l.router, "nft", [
      `replace rule inet sluice pre handle ${h} ct status & (expected | confirmed) == confirmed meta mark 0 meta mark set ct mark & 0xffffff00 accept`,
    ]);
    parts.delete("pre0");
  }
  if (!parts.size) return;
  if (parts.has("prev")) parts.add("devmap").add("noct");
  if (parts.has("noct")) parts.add("nodec");
  const nft = (args: string[], stdin?: string) => l.mustExec(l.router, "nft", args, stdin);
  const table = nft(["-a", "list", "table", "inet", "sluice"]);
  const devices = Object.values(policy.interfaces).map((i) => `"${i!.device}"`);
  const script: string[] = [];
  for (const m of table.matchAll(/chain (fast_\d+) \{[^\n]*\n([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)) {
    const rule =
      /^\s*(counter name "proto_\d+")?\s*(meta priority set (?:oifname map \{ [^}]* \}|(\d+:[0-9a-f]+)))? # handle (\d+)$/m.exec(
        m[2]!,
      );
    if (!rule) throw new Error(`layout ${layout}: ${m[1]} is not a fast chain as rendered:\n${m[2]}`);
    const counter = parts.has("nocnt") ? "" : (rule[1] ?? "");
    let cls = rule[2] ?? "";
    if (parts.has("devmap") && rule[3])
      cls = `meta priority set oifname map { ${devices.map((d) => `${d} : ${rule[3]}`).join(", ")} }`;
    const text = `${counter} ${cls}`.trim() || "counter";
    script.push(`replace rule inet sluice ${m[1]} handle ${rule[4]} ${text}`);
  }
  if (parts.has("nodec")) {
    const dec = /^\s*meta priority set ct mark & 0x[0-9a-f]+ map @decided accept # handle (\d+)$/m.exec(
      table,
    );
    if (!dec) throw new Error("nodec: no decided-map rule in post");
    script.push(`delete rule inet sluice post handle ${dec[1]}`);
    // Its protocols back in the connection-mark verdict map, to their fast chains.
    const keys = /elements = \{ ([^}]*) \}/.exec(/map decided \{[^}]*\}/.exec(table)?.[0] ?? "")?.[1] ?? "";
    const els = [...keys.matchAll(/(0x[0-9a-f]+) counter packets \d+ bytes \d+ : /g)].map(
      (k) => `${k[1]} : goto fast_${Number(k[1]) >> 8}`,
    );
    const ct = /^\s*ct mark & (0x[0-9a-f]+) vmap \{ (.*) \} # handle (\d+)$/m.exec(table);
    if (ct) script.push(`delete rule inet sluice post handle ${ct[3]}`);
    if (!parts.has("noct"))
      script.push(
        `insert rule inet sluice post ct mark & 0xffffff00 vmap { ${[...els, ...(ct ? [ct[2]] : [])].join(", ")} }`,
      );
  }
  nft(["-f", "-"], script.join("\n") + "\n");
}

// BENCH_PERF=1: a kernel profile of the box core per mode (perf record -C BOX_CPU while the
// generator blasts; BENCH_PERF_PASSES passes of 2 s, modes alternating): each kernel
// symbol's samples turned into ns per forwarded packet, so other jobs' load on that core
// mostly drops out, and the sum over the rule evaluation's symbols (nf_tables, xt matches and
// targets, set hashes, nf_hook_slow): what the rules cost per packet, (mode) - (min).
const RULE_SYMBOL = /^(nft_|__nft_|jhash|connmark_|mark_mt|nf_hook_slow|xt_|ipt_do_table)/;
if (process.env.BENCH_PERF === "1") {
  const hz = 4000;
  const samples = new Map(modes.map((m) => [m.key, new Map<string, number>()]));
  const packets = new Map(modes.map((m) => [m.key, 0]));
  /** Rules' ns per packet, per pass: the median of per-pass differences is the figure. */
  const passRules = new Map(modes.map((m) => [m.key, [] as number[]]));
  for (let pass = 0; pass < Number(process.env.BENCH_PERF_PASSES ?? 3); pass++)
    for (const m of pass % 2 ? [...modes].reverse() : modes) {
      const data = join(work, `perf-${m.key}.data`);
      const perf = spawn("perf", ["record", "-q", "-F", String(hz), "-C", BOX_CPU, "-o", data], {
        stdio: "ignore",
      });
      await sleep(300);
      m.lab.mustExec(m.lab.server, "iptables", ["-t", "raw", "-Z", "PREROUTING"]);
      blast(m.lab, 2);
      const exited = new Promise((r) => perf.once("exit", r));
      perf.kill("SIGINT");
      await exited;
      packets.set(m.key, packets.get(m.key)! + serverCount(m.lab));
      const report = runSync([
        "perf",
        "report",
        "-i",
        data,
        "--stdio",
        "--no-children",
        "-n",
        "--sort",
        "sym",
      ]);
      const syms = samples.get(m.key)!;
      let rules = 0;
      for (const line of report.stdout.split("\n")) {
        const f = /^\s+[\d.]+%\s+(\d+)\s+\[k\]\s+(\S+)/.exec(line);
        // The idle loop is not work: left out.
        if (f && f[2] !== "pvm_safe_halt_hc" && f[2] !== "default_idle") {
          syms.set(f[2]!, (syms.get(f[2]!) ?? 0) + Number(f[1]));
          if (RULE_SYMBOL.test(f[2]!)) rules += Number(f[1]);
        }
      }
      passRules.get(m.key)!.push((rules * 1e9) / hz / Math.max(1, serverCount(m.lab)));
    }
  const nsPerPacket = (key: string) =>
    new Map([...samples.get(key)!].map(([n, c]) => [n, (c * 1e9) / hz / packets.get(key)!]));
  const base = nsPerPacket("min");
  const sum = (syms: Map<string, number>, only?: RegExp) =>
    [...syms].reduce((a, [n, v]) => (only && !only.test(n) ? a : a + v), 0);
  console.log("\nperf on the box core, ns per forwarded packet: kernel total, rules (nf_tables, xt, hooks)");
  for (const m of modes) {
    const syms = nsPerPacket(m.key);
    console.log(
      `  ${m.label.padEnd(58)} ${sum(syms).toFixed(0).padStart(6)} ${sum(syms, RULE_SYMBOL).toFixed(0).padStart(6)}` +
        `  (rules ${m.key === "min" ? "" : sum(syms, RULE_SYMBOL) - sum(base, RULE_SYMBOL) >= 0 ? "+" : ""}${m.key === "min" ? "" : (sum(syms, RULE_SYMBOL) - sum(base, RULE_SYMBOL)).toFixed(0)})`,
    );
    if (m.key === "min") continue;
    const d = passRules.get(m.key)!.map((v, i) => v - passRules.get("min")![i]!);
    console.log(
      `  ${"".padEnd(58)} rules over (min), median of ${d.length} passes: ${median(d) >= 0 ? "+" : ""}${median(d).toFixed(0)} ns [${Math.min(...d).toFixed(0)} to ${Math.max(...d).toFixed(0)}]`,
    );
    if (m.key !== "sluice") {
      // Paired with (sluice) pass by pass: the A/B of a layout against the one installed.
      const v = passRules.get(m.key)!.map((x, i) => x - passRules.get("sluice")![i]!);
      console.log(
        `  ${"".padEnd(58)} rules over (sluice), median of ${v.length} passes: ${median(v) >= 0 ? "+" : ""}${median(v).toFixed(0)} ns [${Math.min(...v).toFixed(0)} to ${Math.max(...v).toFixed(0)}]`,
      );
    }
    if (process.env.BENCH_PERF_SYMBOLS !== "1") continue;
    const rules = [...new Set([...syms.keys(), ...base.keys()])].filter((n) => RULE_SYMBOL.test(n));
    const diff = rules.map((n) => [n, (syms.get(n) ?? 0) - (base.get(n) ?? 0)] as const);
    diff.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    for (const [n, d] of diff.filter(([, d]) => Math.abs(d) >= 3))
      console.log(`      ${d >= 0 ? "+" : ""}${d.toFixed(0).padStart(5)}  ${n}`);
    // The rest of the kernel's extra work per packet (not rules): the largest differences.
    const others = [...new Set([...syms.keys(), ...base.keys()])].filter((n) => !RULE_SYMBOL.test(n));
    const odiff = others.map((n) => [n, (syms.get(n) ?? 0) - (base.get(n) ?? 0)] as const);
    odiff.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    console.log(
      `      other kernel symbols: ${odiff
        .slice(0, 14)
        .map(([n, d]) => `${n} ${d >= 0 ? "+" : ""}${d.toFixed(0)}`)
        .join(", ")}`,
    );
  }
}

const consumerCpu0 = modes.map((m) => m.cpuSeconds());
for (let round = 0; round < ROUNDS; round++) {
  for (const m of round % 2 ? [...modes].reverse() : modes) {
    if (round === 0) blast(m.lab, 0.5); // warm-up
    m.lab.mustExec(m.lab.server, "iptables", ["-t", "raw", "-Z", "PREROUTING"]);
    const b = blast(m.lab, SECONDS);
    await sleep(50);
    m.pps.push(serverCount(m.lab) / b.seconds);
    // The same path's CPU cost, measured where other jobs' load matters less: with RPS off
    // the box's softirq work runs inside the sender's send calls and is charged to it.
    rps(m.lab, false);
    const c = blast(m.lab, SECONDS);
    rps(m.lab, true);
    m.ns.push((c.cpu_us * 1000) / Math.max(1, c.sent));
  }
}
modes.forEach((m, i) => {
  m.note += `; consumer CPU during the rounds ${(m.cpuSeconds() - consumerCpu0[i]!).toFixed(2)} s`;
});
for (const m of modes) await m.stop();

const load1 = runSync(["cat", "/proc/loadavg"]).stdout.trim();
console.log("\nforwarded packets per second at one box core: median [min-max]");
for (const m of modes) {
  console.log(
    `  ${m.label.padEnd(58)} ${fmt(median(m.pps)).padStart(9)} pps [${fmt(Math.min(...m.pps))}-${fmt(Math.max(...m.pps))}]` +
      `  ${median(m.ns).toFixed(0)} ns CPU/datagram`,
  );
  if (m.note) console.log(`  ${"".padEnd(58)} ${m.note}`);
}
const byKey = new Map(modes.map((m) => [m.key, m]));
const ratio = (a: string, b: string) => {
  const x = byKey.get(a)!.pps;
  const y = byKey.get(b)!.pps;
  const rs = x.map((v, i) => v / y[i]!);
  return `${median(rs).toFixed(2)}x [${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}]`;
};
const cpuRatio = (a: string, b: string) => {
  const x = byKey.get(a)!.ns;
  const y = byKey.get(b)!.ns;
  const rs = x.map((v, i) => y[i]! / v);
  return `${median(rs).toFixed(2)}x [${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}]`;
};
console.log(
  "\nratios (median of per-round ratios [min-max]), forwarded pps and, at equal CPU, CPU(min)/CPU(mode):",
);
console.log(
  `  (sluice)/(min)  ${ratio("sluice", "min")}  by CPU ${cpuRatio("sluice", "min")}  goal >= 0.90x`,
);
if (byKey.has("legacy"))
  console.log(`  (legacy)/(min)  ${ratio("legacy", "min")}  by CPU ${cpuRatio("legacy", "min")}`);
if (byKey.has("nocnt"))
  console.log(
    `  (nocnt)/(min)   ${ratio("nocnt", "min")}  by CPU ${cpuRatio("nocnt", "min")}  (class selection only, no per-packet counting)`,
  );
for (const [key, what] of [
  ["mnode", "the minimal rules, Sluice's data plane"],
  ["sluc", "Sluice's rules, the minimal consumer"],
] as const)
  if (byKey.has(key))
    console.log(
      `  (${key})/(min)${" ".repeat(6 - key.length)}  ${ratio(key, "min")}  by CPU ${cpuRatio(key, "min")}  (${what})`,
    );
if (byKey.has("nofwd"))
  console.log(
    `  (nofwd)/(min)   ${ratio("nofwd", "min")}  by CPU ${cpuRatio("nofwd", "min")}  (no FORWARD hook: nftables alone)`,
  );
if (byKey.has("nftq"))
  console.log(
    `  (nftq)/(min)    ${ratio("nftq", "min")}  by CPU ${cpuRatio("nftq", "min")}  (queue rules in nft)`,
  );
if (byKey.has("nftp"))
  console.log(
    `  (nftp)/(min)    ${ratio("nftp", "min")}  by CPU ${cpuRatio("nftp", "min")}  (queue rules ending nft post)`,
  );
for (const [i, name] of LAYOUTS.entries())
  console.log(
    `  (L${i})/(min)     ${ratio(`L${i}`, "min")}  by CPU ${cpuRatio(`L${i}`, "min")}  (layout ${name})`,
  );
for (const key of ["nofast", "floor"])
  if (byKey.has(key))
    console.log(
      `  (${key})/(min)${" ".repeat(6 - key.length)}  ${ratio(key, "min")}  by CPU ${cpuRatio(key, "min")}`,
    );
if (byKey.has("nocls"))
  console.log(
    `  (nocls)/(min)   ${ratio("nocls", "min")}  by CPU ${cpuRatio("nocls", "min")}  (no class pick)`,
  );
console.log(`load average before: ${load0}; after: ${load1}`);
bench.cleanup();
console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
