// Classification throughput at 1 queue on 1 core against 2 queues on 2 cores, without
// the load generator competing for the cores: the data plane (run-data-plane.ts, every
// packet queued, no bypass, no fail-open) is frozen (SIGSTOP) while udp-flows.c sends a
// burst of new one-way UDP flows (10 packets each: every packet is inspected, the tenth
// decides), so the burst waits in the kernel queues; then the data plane is thawed
// (SIGCONT) and the time until the queues are empty gives verdicts per second. The two
// setups alternate round by round; ratios are medians of per-round ratios. Under other
// load, note that the kernel's autogroup scheduling (sched_autogroup_enabled) gives the
// data plane's process one group's share of the CPUs however many threads it runs: then
// the CPU per verdict, not the rate, tells what a second core buys.
//   1 queue:  `--queue-num 0`, RPS and the data plane on CPU 0;
//   2 queues: `--queue-balance 0:1 --queue-cpu-fanout`, RPS and the data plane on CPUs 0-1
//             (the softirq CPU picks the queue, one worker thread per queue).
// The ceiling: the same bursts drained on 1 core by the minimal C consumer (nfq-minimal.c),
// textbook (recv + one verdict per packet) and batched (recvmmsg + one batch verdict per
// call: the least a consumer can do per packet), and for the 1-queue setups the CPU the
// box's core spent queueing the burst (softirq + system time of CPU 0 while it arrived:
// forwarding, a new conntrack entry, the netlink copy), which a live consumer shares that
// core with: packets/s on one core <= 1 / (queueing + draining).
// Env: BENCH_ROUNDS (5), BENCH_FLOWS per burst (4000), BENCH_SETUPS (1,2,c,cb: data plane
// with 1 and 2 queues, C textbook, C batched), BENCH_NODE_ARGS (extra node flags for the
// data plane, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). Run as root:
// node apps/lab/bench/queues-bench.ts. Prints, never asserts.

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NetnsLab } from "../src/netns-lab.ts";
import { CLK_TCK, ROOT, startLabBench } from "./support/lab-bench.ts";

const RUN_DP = fileURLToPath(import.meta.resolve("@sluice/agent/src/nfqueue/run-data-plane.ts"));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FLOWS = Number(process.env.BENCH_FLOWS ?? 4000);
const PACKETS = 10;
const SETUPS = (process.env.BENCH_SETUPS ?? "1,2,c,cb").split(",").map((x) => x.trim());
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);

const bench = startLabBench("queues", ["cc", "taskset"]);
if (cpus().length < 2) bench.skip("needs 2 CPUs");
const GEN = bench.compile("udp-flows.c", "udp-flows");
const NFQ_MINIMAL = bench.compile("nfq-minimal.c", "nfq-minimal", ["-lnetfilter_queue"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

interface Setup {
  /** "1"/"2": the data plane with that many queues; "c"/"cb": the C consumer, textbook/batched. */
  kind: string;
  label: string;
  queues: number;
  lab: NetnsLab;
  pid: number;
  stop: () => Promise<void>;
  rates: number[];
  cpuUs: number[];
  /** Share of the consumer's CPU spent in the kernel (receiving, verdicts, the reinjected packets' forwarding). */
  sysShare: number[];
  /** Share of the burst in the busiest queue. */
  skew: number[];
  /** CPU 0's softirq + system time per packet while the burst was queued (1 core only). */
  queueUs: number[];
}

/** CPU 0's system + irq + softirq time so far (seconds). */
function cpu0KernelSeconds(): number {
  const line = readFileSync("/proc/stat", "latin1")
    .split("\n")
    .find((l) => l.startsWith("cpu0 "))!;
  const f = line.split(/\s+/).map(Number);
  return (f[3]! + f[6]! + f[7]!) / CLK_TCK;
}

/** The process's [user, system] CPU seconds so far (all threads). */
function cpuSeconds(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(f[11]) / CLK_TCK, Number(f[12]) / CLK_TCK];
}

/** Packets waiting in each of the data plane's queues (its namespace's view, through its pid). */
function waitingPerQueue(pid: number): number[] {
  const out: number[] = [];
  for (const line of readFileSync(`/proc/${pid}/net/netfilter/nfnetlink_queue`, "latin1").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8) out[Number(f[0])] = Number(f[2]);
  }
  return out;
}
const waiting = (pid: number) => waitingPerQueue(pid).reduce((a, b) => a + (b ?? 0), 0);

async function setup(kind: string): Promise<Setup> {
  const queues = kind === "2" ? 2 : 1;
  const c = kind === "c" || kind === "cb";
  const label =
    kind === "c"
      ? "C consumer, textbook"
      : kind === "cb"
        ? "C consumer, batched"
        : `${queues} queue(s) on ${queues} core(s)`;
  const lab = bench.newLab(`qb${kind}`, 80 + SETUPS.indexOf(kind));
  const cpuList = queues === 1 ? "0" : "0,1";
  const target = queues === 1 ? "--queue-num 0" : `--queue-balance 0:${queues - 1} --queue-cpu-fanout`;
  lab.restoreRules(lab.server, "*raw\n-A PREROUTING -p udp -j DROP\nCOMMIT\n", [4]);
  lab.restoreRules(
    lab.router,
    `*mangle\n-A PREROUTING -p udp --dport 10000:59999 -j NFQUEUE ${target}\nCOMMIT\n`,
    [4],
  );
  lab.mustExec(lab.router, "sh", [
    "-c",
    `echo ${queues === 1 ? 1 : 3} > /sys/class/net/r0/queues/rx-0/rps_cpus`,
  ]);
  const rcvbuf = String(256 * 1024 * 1024);
  const cmd = c
    ? [NFQ_MINIMAL, "0", "2176", "1000000", "0", "0", rcvbuf, kind === "cb" ? "64" : "1"]
    : [
        process.execPath,
        ...NODE_ARGS,
        RUN_DP,
        "--queues",
        queues === 1 ? "0" : `0:${queues - 1}`,
        "--protocols",
        join(ROOT, "protocols"),
        "--no-fail-open",
        "--maxlen",
        "1000000",
        "--rcvbuf",
        rcvbuf,
      ];
  const child = lab.spawn(lab.router, "taskset", ["-c", cpuList, ...cmd]);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 400 && !/"event":"ready"|^ready/m.test(out); i++) await sleep(100);
  const pid = c && /^ready/m.test(out) ? child.pid! : Number(/"pid":(\d+)/.exec(out)?.[1]);
  if (!pid) throw new Error(`${label} did not start`);
  return {
    kind,
    label,
    queues,
    queueUs: [],
    lab,
    pid,
    rates: [],
    cpuUs: [],
    sysShare: [],
    skew: [],
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function round(s: Setup, n: number): Promise<void> {
  process.kill(s.pid, "SIGSTOP");
  const k0 = cpu0KernelSeconds();
  // New flows each round: another source port (udp-flows: SPORT_BASE + i / 50000).
  const r = s.lab.exec(s.lab.client, "taskset", [
    "-c",
    s.queues === 1 ? "1" : "0,1",
    GEN,
    s.lab.addr.server4,
    String(FLOWS / 50000),
    "50000",
    String(PACKETS),
    "1",
    "18",
    String(20000 + 10 * n + SETUPS.indexOf(s.kind)),
  ]);
  const g = JSON.parse(r.stdout) as { sent: number };
  await sleep(200);
  const k1 = cpu0KernelSeconds();
  const perQueue = waitingPerQueue(s.pid);
  const queued = perQueue.reduce((a, b) => a + (b ?? 0), 0);
  s.skew.push(Math.max(...perQueue.map((x) => x ?? 0)) / Math.max(1, queued));
  const cpu0 = cpuSeconds(s.pid);
  const t0 = process.hrtime.bigint();
  process.kill(s.pid, "SIGCONT");
  let left = queued;
  while (left > 0) {
    await sleep(2);
    left = waiting(s.pid);
    if (Number(process.hrtime.bigint() - t0) > 60e9) throw new Error("the queues did not drain in 60 s");
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(s.pid);
  const cpu = cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1];
  s.sysShare.push((cpu1[1] - cpu0[1]) / Math.max(1e-9, cpu));
  if (queued < 0.9 * g.sent)
    console.log(`  (round ${n}, ${s.label}: ${queued} of ${g.sent} sent were queued)`);
  if (s.queues === 1) s.queueUs.push(((k1 - k0) * 1e6) / Math.max(1, queued));
  s.rates.push(queued / seconds);
  s.cpuUs.push((cpu * 1e6) / queued);
}

console.log(
  `queues bench: ${cpus().length} CPUs, bursts of ${fmt(FLOWS)} new UDP flows x ${PACKETS} packets (46-byte IP), ` +
    `${ROUNDS} alternating rounds; load before ${loadavg()}`,
);
const setups: Setup[] = [];
for (const kind of SETUPS) setups.push(await setup(kind));
for (let n = 0; n < ROUNDS; n++) for (const s of n % 2 ? [...setups].reverse() : setups) await round(s, n);
const byKind = (k: string) => setups.find((s) => s.kind === k);
for (const s of setups) {
  const q = s.queueUs.length
    ? `; queueing on the box's core ${median(s.queueUs).toFixed(1)} µs per packet`
    : "";
  console.log(
    `  ${s.label}: ${fmt(median(s.rates))} verdicts/s ` +
      `[${fmt(Math.min(...s.rates))}-${fmt(Math.max(...s.rates))}], consumer CPU ${median(s.cpuUs).toFixed(1)} µs per verdict (all threads, ${(100 * median(s.sysShare)).toFixed(0)}% in the kernel)` +
      (s.queues > 1 ? `; busiest queue's share of a burst ${(100 * median(s.skew)).toFixed(0)}%` : "") +
      q,
  );
  await s.stop();
}
const ratio = (a: Setup | undefined, b: Setup | undefined, what: string) => {
  if (!a || !b) return;
  const r = a.rates.map((x, i) => x / b.rates[i]!);
  const cpu = median(b.cpuUs) / median(a.cpuUs);
  console.log(
    `  ${what}: ${median(r).toFixed(2)}x [${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}] by rate, ${cpu.toFixed(2)}x by CPU per verdict`,
  );
};
ratio(byKind("2"), byKind("1"), "2 queues / 1 queue");
ratio(byKind("1"), byKind("c"), "data plane (1 queue) / C textbook");
ratio(byKind("1"), byKind("cb"), "data plane (1 queue) / C batched");
// One core does both halves for a live flow of packets: queue it (softirq), then drain it.
for (const s of setups.filter((x) => x.queues === 1 && x.queueUs.length)) {
  const perPacket = median(s.queueUs) + median(s.cpuUs);
  console.log(
    `  one core, queueing + ${s.label}: ${perPacket.toFixed(1)} µs per queued packet => at most ${fmt(1e6 / perPacket)} queued packets/s`,
  );
}
console.log(`  load after ${loadavg()}`);
bench.cleanup();
