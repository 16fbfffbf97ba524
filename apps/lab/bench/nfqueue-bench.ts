// NFQUEUE data-plane benchmark, in network namespaces (client -> router -> server, veth):
// packets per second forwarded through the router with small UDP datagrams from a C sender
// (udp-blast.c), counted at the server by an iptables counter, in these modes:
//   (a)  kernel forwarding, no rules at all;
//   (a') kernel forwarding with conntrack on (one no-op ctstate rule): the floor of (b);
//   (b)  Sluice's rules as the agent renders them (render/iptables.ts) in steady state: the
//        flows are already classified, so the restored mark keeps every packet out of the
//        queue (the data plane is running, idle);
//   (c)  every packet through NFQUEUE to a minimal C consumer (nfq-minimal.c);
//   (d)  every packet through NFQUEUE to Sluice's DataPlane (io "fast"), classifying;
//   (d') the same with io "libnfq" (callback and nfq_set_verdict2 per packet, via koffi).
// In (c)/(d) the queue is not fail-open, so what reaches the server went through the consumer.
// Every mode has its own lab, all built up front; the modes are measured in interleaved
// rounds and the median is kept (this machine's speed drifts). Then classification latency:
// in-process (FlowTable, per new flow) and end to end (TCP connect through the router).
// Figures are printed, never asserted. Run as root: node apps/lab/bench/nfqueue-bench.ts
// (BENCH_SECONDS, BENCH_ROUNDS, BENCH_FLOWS, BENCH_PAYLOAD tune it).

import { join } from "node:path";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { FlowTable, decodeIpPacket, loadPatternDirs, type DecodedPacket } from "@sluice/classifier";
import type { NetnsLab } from "../src/netns-lab.ts";
import { installRenderedRules } from "../src/rendered-rules.ts";
import {
  copyBenchPatterns,
  serverDropCount,
  startInRouter,
  startLabBench,
  udpBlast,
} from "./support/lab-bench.ts";

const RUN_DP = fileURLToPath(import.meta.resolve("@sluice/agent/src/nfqueue/run-data-plane.ts"));
const NODE = process.execPath;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Extra short, alternating rounds of the steady-state modes (a, a', b): their differences
// are small, so they need more, closer-together samples than the NFQUEUE modes.
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 12);
const PAIR_SECONDS = 0.4;
const FLOWS = Number(process.env.BENCH_FLOWS ?? 8);
const PAYLOAD = Number(process.env.BENCH_PAYLOAD ?? 18); // 46-byte IP packets
const PORT = 9000;
const SRC_BASE = 20000;
const COPY_RANGE = 2048 + 128;
const MAXLEN = 4096;

const bench = startLabBench("nfqueue", ["cc"]);
const NFQ_MINIMAL = bench.compile("nfq-minimal.c", "nfq-minimal", ["-lnetfilter_queue"]);
const BLAST = bench.compile("udp-blast.c", "udp-blast");
const patterns = copyBenchPatterns(join(bench.work, "protocols"));
const patternCount = loadPatternDirs([patterns]).size;

// --- lab plumbing ---------------------------------------------------------------------

function newLab(tag: string): NetnsLab {
  const l = bench.newLab(tag, 60);
  // The server counts (and drops) the benchmark's datagrams.
  l.restoreRules(l.server, `*raw\n-A PREROUTING -p udp --dport ${PORT} -j DROP\nCOMMIT\n`, [4]);
  // One-way UDP flows must outlive a round of the other modes.
  l.sysctl(l.router, "net.netfilter.nf_conntrack_udp_timeout", "180");
  return l;
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
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(
  l: NetnsLab,
  warmSeconds: number,
  seconds = SECONDS,
): Promise<{ pps: number; sentPps: number; senderNs: number }> {
  if (warmSeconds > 0) {
    blast(l, warmSeconds); // warm-up (JIT, caches)
    await sleep(200);
  }
  l.mustExec(l.server, "iptables", ["-t", "raw", "-Z", "PREROUTING"]);
  const b = blast(l, seconds);
  await sleep(warmSeconds > 0 ? 200 : 50); // let the queue drain
  // The sender's CPU per datagram includes the softirq work its sends trigger: in (a)/(b) that
  // is the whole path through the router to the server, so it measures the rules' cost
  // without depending on how much CPU the rest of the machine leaves us.
  return {
    pps: serverCount(l) / b.seconds,
    sentPps: b.sent / b.seconds,
    senderNs: (b.cpu_us * 1000) / b.sent,
  };
}

const startDataPlane = (l: NetnsLab, extra: string[]) =>
  startInRouter(
    l,
    [NODE, RUN_DP, "--queues", "0", "--protocols", patterns, "--copy-range", String(COPY_RANGE), ...extra],
    /"event":"ready"/,
  );

function lastJson(out: string, event?: string): Record<string, unknown> {
  const lines = out
    .trim()
    .split("\n")
    .filter((x) => x.startsWith("{"))
    .map((x) => JSON.parse(x) as Record<string, unknown>);
  return (event ? lines.filter((x) => x.event === event).at(-1) : lines.at(-1)) ?? {};
}

const QUEUE_ALL = `*mangle\n-A PREROUTING -p udp --dport ${PORT} -j NFQUEUE --queue-num 0 --queue-bypass\nCOMMIT\n`;
// The rules the agent renders for a one-queue policy (render/iptables.ts, render/nft.ts:
// the connection mark is restored and saved by the nftables table).
const sluiceRules = (l: NetnsLab) => installRenderedRules(l, { queues: 1, packets: 10 });
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

// --- throughput modes ---------------------------------------------------------------

interface Mode {
  key: string;
  label: string;
  lab: NetnsLab;
  /** Stops its consumer; returns a note for the report. */
  finish: () => Promise<string>;
  pps: number[];
  sent: number[];
  senderNs: number[];
  pairPps: number[];
  pairNs: number[];
}

const t0 = Date.now();
console.log(
  `nfqueue bench: ${cpus().length} CPUs, ${FLOWS} UDP flows, ${PAYLOAD}-byte payloads (${PAYLOAD + 28}-byte IP), ` +
    `${ROUNDS} rounds x ${SECONDS} s per mode, ${patternCount} patterns, copy range ${COPY_RANGE}`,
);

const modes: Mode[] = [];
const consumerNs: Record<string, number> = {};
const mode = (key: string, label: string, lab: NetnsLab, finish: () => Promise<string> = async () => "") =>
  modes.push({ key, label, lab, finish, pps: [], sent: [], senderNs: [], pairPps: [], pairNs: [] });

mode("a", "(a)  kernel forwarding, no rules", newLab("a"));
{
  const l = newLab("a2");
  l.restoreRules(l.router, "*mangle\n-A PREROUTING -m conntrack --ctstate NEW,ESTABLISHED\nCOMMIT\n", [4]);
  mode("a2", "(a') kernel forwarding + conntrack", l);
}
{
  const [key, label] = ["b", "(b)  Sluice rules, steady state (bypass)"];
  const l = newLab(key);
  sluiceRules(l);
  const dp = await startDataPlane(l, []);
  // Classify the flows first: 12 datagrams each, paced, so each one spends the 10-packet window.
  blast(l, 10, 12, 2000);
  await sleep(300);
  const marks = [...new Set(l.conntrack(4).flatMap((e) => (e.dport === PORT ? [e.mark] : [])))];
  mode(key, label, l, async () => {
    const st = lastJson(await dp.stop(), "stopped");
    return `flows' conntrack marks ${marks.map((m) => `0x${m.toString(16)}`).join(",")}; data plane saw ${st.packets} packets in all`;
  });
}
{
  const l = newLab("c");
  l.restoreRules(l.router, QUEUE_ALL, [4]);
  const c = await startInRouter(l, [NFQ_MINIMAL, "0", String(COPY_RANGE), String(MAXLEN), "0"], /ready/);
  mode("c", "(c)  NFQUEUE -> minimal C consumer", l, async () => {
    const cpu = c.cpuSeconds();
    const st = lastJson(await c.stop());
    consumerNs.c = (cpu * 1e9) / Number(st.packets);
    return `consumer verdicts ${fmt(Number(st.packets))}, ENOBUFS ${st.enobufs}, consumer CPU ${consumerNs.c.toFixed(0)} ns/verdict`;
  });
}
for (const [key, io, label] of [
  ["d", "fast", "(d)  NFQUEUE -> Sluice DataPlane (fast)"],
  ["d2", "libnfq", "(d') NFQUEUE -> Sluice DataPlane (libnfq)"],
] as const) {
  const l = newLab(key);
  l.restoreRules(l.router, QUEUE_ALL, [4]);
  const dp = await startDataPlane(l, ["--no-fail-open", "--io", io]);
  mode(key, label, l, async () => {
    const cpu = dp.cpuSeconds();
    const st = lastJson(await dp.stop(), "stopped");
    consumerNs[key] = (cpu * 1e9) / Number(st.packets);
    return (
      `verdicts ${fmt(Number(st.packets))} (by l7 mark ${JSON.stringify(st.verdicts)}), ENOBUFS ${st.enobufs}, ` +
      `full-queue drops ${fmt(Number(st.queueDropped))}, socket drops ${st.userDropped}, ` +
      `consumer CPU ${consumerNs[key]!.toFixed(0)} ns/verdict (all threads, kernel time of its calls included)`
    );
  });
}

for (let round = 0; round < ROUNDS; round++) {
  for (const m of round % 2 ? [...modes].reverse() : modes) {
    const r = await measure(m.lab, round === 0 ? 1 : 0.3);
    m.pps.push(r.pps);
    m.sent.push(r.sentPps);
    m.senderNs.push(r.senderNs);
  }
}
const steady = modes.filter((m) => ["a", "a2", "b"].includes(m.key));
for (let round = 0; round < PAIR_ROUNDS; round++) {
  for (const m of round % 2 ? [...steady].reverse() : steady) {
    const r = await measure(m.lab, 0, PAIR_SECONDS);
    m.pairPps.push(r.pps);
    m.pairNs.push(r.senderNs);
  }
}

console.log("\nforwarded packets per second: median of the rounds [min-max], sender's rate in brackets");
for (const m of modes) {
  const note = await m.finish();
  console.log(
    `  ${m.label.padEnd(44)} ${fmt(median(m.pps)).padStart(9)} pps [${fmt(Math.min(...m.pps))}-${fmt(Math.max(...m.pps))}]` +
      `  (sent ${fmt(median(m.sent))}; sender CPU ${median(m.senderNs).toFixed(0)} ns/datagram)`,
  );
  if (note) console.log(`  ${"".padEnd(44)} ${note}`);
}
// Ratios are taken round by round (the two modes were measured seconds apart, in an order
// that alternates between rounds), then the median of those is printed with its range.
const byKey = new Map(modes.map((m) => [m.key, m]));
const perRound = (a: number[], b: number[], f: (x: number, y: number) => number) => {
  const rs = a.map((v, i) => f(v, b[i]!));
  return `${median(rs).toFixed(1)}% [${Math.min(...rs).toFixed(0)}-${Math.max(...rs).toFixed(0)}%]`.padEnd(
    18,
  );
};
const ratio = (x: string, y: string) =>
  perRound(byKey.get(x)!.pps, byKey.get(y)!.pps, (v, w) => (100 * v) / w);
const pairRatio = (x: string, y: string) =>
  perRound(byKey.get(x)!.pairPps, byKey.get(y)!.pairPps, (v, w) => (100 * v) / w);
const cpuRatio = (x: string, y: string) =>
  perRound(byKey.get(x)!.pairNs, byKey.get(y)!.pairNs, (v, w) => (100 * w) / v);
console.log(`\nratios: median of per-round ratios [min-max]`);
console.log(`  steady state (${PAIR_ROUNDS} alternating rounds of ${PAIR_SECONDS} s):`);
console.log(`    (b)/(a)   ${pairRatio("b", "a")} goal >= 95%`);
console.log(
  `    (a')/(a)  ${pairRatio("a2", "a")} (conntrack alone: the ceiling for any CONNMARK-based layout)`,
);
console.log(`    (b)/(a')  ${pairRatio("b", "a2")} (the rules alone)`);
console.log(`  the same by the sender's CPU per datagram (softirq path included), CPU(a)/CPU(b) etc.:`);
console.log(`    (b)/(a)   ${cpuRatio("b", "a")} (a')/(a) ${cpuRatio("a2", "a")}`);
console.log(`    (b)/(a')  ${cpuRatio("b", "a2")}`);
console.log(`  NFQUEUE (${ROUNDS} rounds of ${SECONDS} s):`);
console.log(`    (d)/(c)   ${ratio("d", "c")} goal >= 80%`);
console.log(`    (d')/(c)  ${ratio("d2", "c")} (the textbook libnfq loop through koffi)`);
console.log(
  `    consumer CPU per verdict: (c) ${consumerNs.c!.toFixed(0)} ns, (d) ${consumerNs.d!.toFixed(0)} ns, ` +
    `(d') ${consumerNs.d2!.toFixed(0)} ns  ->  at equal CPU (d)/(c) ${((100 * consumerNs.c!) / consumerNs.d!).toFixed(0)}%, ` +
    `(d')/(c) ${((100 * consumerNs.c!) / consumerNs.d2!).toFixed(0)}%`,
);

// --- classification latency ---------------------------------------------------------------

function ipv4Tcp(
  src: number,
  sport: number,
  seq: number,
  flags: number,
  data: string,
  toServer: boolean,
): Buffer {
  const payload = Buffer.from(data, "latin1");
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[8] = 64;
  b[9] = 6;
  const client = [10, 199, (src >> 8) & 0xff, src & 0xff];
  const server = [10, 199, 200, 1];
  Buffer.from(toServer ? client : server).copy(b, 12);
  Buffer.from(toServer ? server : client).copy(b, 16);
  b.writeUInt16BE(toServer ? sport : 80, 20);
  b.writeUInt16BE(toServer ? 80 : sport, 22);
  b.writeUInt32BE(seq >>> 0, 24);
  b[32] = 0x50;
  b[33] = flags;
  payload.copy(b, 40);
  return b;
}

console.log("\nclassification latency");
{
  const ps = loadPatternDirs([patterns]);
  const N = 20000;
  const [SYN, ACK, PSH] = [0x02, 0x10, 0x08];
  const req = "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\n\r\n";
  const resp = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello";
  const flows: Buffer[][] = [];
  for (let i = 0; i < N; i++) {
    const sport = 1024 + (i % 60000);
    const src = i >> 8;
    flows.push([
      ipv4Tcp(src, sport, 1000, SYN, "", true),
      ipv4Tcp(src, sport, 5000, SYN | ACK, "", false),
      ipv4Tcp(src, sport, 1001, ACK, "", true),
      ipv4Tcp(src, sport, 1001, ACK | PSH, req, true),
      ipv4Tcp(src, sport, 5001, ACK | PSH, resp, false),
      ...Array.from({ length: 5 }, (_, k) =>
        ipv4Tcp(src, sport, 1001 + req.length + k, ACK | PSH, "x", true),
      ),
    ]);
  }
  const runOnce = () => {
    const table = new FlowTable(ps, { maxFlows: N * 2 });
    let packets = 0;
    const protocols = new Map<string, number>();
    const start = process.hrtime.bigint();
    for (const pkts of flows) {
      for (const raw of pkts) {
        const d = decodeIpPacket(raw) as { packet: DecodedPacket };
        const r = table.observe(d.packet, 1);
        packets++;
        if (r.decided) {
          protocols.set(r.flow.protocol, (protocols.get(r.flow.protocol) ?? 0) + 1);
          break;
        }
      }
    }
    return { ns: Number(process.hrtime.bigint() - start), packets, protocols };
  };
  const runs = [runOnce(), runOnce(), runOnce()].slice(1); // the first one warms up
  const best = runs.reduce((a, b) => (a.ns < b.ns ? a : b));
  console.log(
    `  in-process FlowTable: ${(best.ns / N / 1000).toFixed(1)} µs per new TCP flow until its verdict ` +
      `(${(best.packets / N).toFixed(1)} packets each, decode included: ${(best.ns / best.packets / 1000).toFixed(2)} µs ` +
      `per packet; verdicts ${[...best.protocols].map(([p, n]) => `${p} ${n}`).join(", ")})`,
  );
}

{
  // End to end: TCP connect time through the router; the SYN and the SYN-ACK both cross the
  // queue when the data plane (or the minimal consumer) is there.
  const CONNECTS = 200;
  const LATENCY_ROUNDS = 4;
  const SERVER = `require("node:net").createServer((s) => s.destroy()).listen(7100, () => console.log("up"));`;
  const CLIENT = `
    const net = require("node:net");
    const [host, n] = process.argv.slice(1);
    const times = [];
    const one = () => new Promise((resolve) => {
      const t = process.hrtime.bigint();
      const s = net.connect(7100, host, () => { times.push(Number(process.hrtime.bigint() - t) / 1000); s.destroy(); resolve(); });
      s.on("error", resolve);
    });
    (async () => { for (let i = 0; i < Number(n); i++) await one(); times.sort((a, b) => a - b);
      console.log(JSON.stringify({ p50: times[times.length >> 1], p90: times[Math.floor(times.length * 0.9)] })); })();
  `;
  const withServer = async (l: NetnsLab) => {
    const srv = l.spawn(l.server, NODE, ["-e", SERVER]);
    await new Promise((r) => srv.stdout!.once("data", r));
    return l;
  };
  const connect = (l: NetnsLab) =>
    JSON.parse(l.exec(l.client, NODE, ["-e", CLIENT, l.addr.server4, String(CONNECTS)]).stdout) as {
      p50: number;
      p90: number;
    };
  const plain = await withServer(modes.find((m) => m.key === "a")!.lab);
  const lc = await withServer(newLab("lc"));
  sluiceRules(lc);
  const c = await startInRouter(lc, [NFQ_MINIMAL, "0", String(COPY_RANGE), String(MAXLEN), "1"], /ready/);
  const ld = await withServer(newLab("ld"));
  sluiceRules(ld);
  const dp = await startDataPlane(ld, []);
  const res: Record<string, { p50: number[]; p90: number[] }> = {
    plain: { p50: [], p90: [] },
    c: { p50: [], p90: [] },
    dp: { p50: [], p90: [] },
  };
  const order = [
    ["plain", plain],
    ["c", lc],
    ["dp", ld],
  ] as const;
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    for (const [k, l] of round % 2 ? [...order].reverse() : order) {
      const r = connect(l);
      res[k]!.p50.push(r.p50);
      res[k]!.p90.push(r.p90);
    }
  }
  await c.stop();
  await dp.stop();
  const show = (k: string) =>
    `p50 ${median(res[k]!.p50).toFixed(0)} µs, p90 ${median(res[k]!.p90).toFixed(0)} µs`;
  const extra = (k: string) => ((median(res[k]!.p50) - median(res.plain!.p50)) / 2).toFixed(0);
  console.log(
    `  TCP connect through the router (${CONNECTS} connects x ${LATENCY_ROUNDS} alternating rounds, medians):`,
  );
  console.log(`    no rules:                         ${show("plain")}`);
  console.log(
    `    Sluice rules + minimal C consumer ${show("c")}  (+${extra("c")} µs per queued packet at p50)`,
  );
  console.log(
    `    Sluice rules + Sluice DataPlane   ${show("dp")}  (+${extra("dp")} µs per queued packet at p50)`,
  );
}

bench.cleanup();
console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
