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
// Env: BENCH_ROUNDS (5), BENCH_FLOWS per burst (4000). Run as root:
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

const bench = startLabBench("queues", ["cc", "taskset"]);
if (cpus().length < 2) bench.skip("needs 2 CPUs");
const GEN = bench.compile("udp-flows.c", "udp-flows");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

interface Setup {
  queues: number;
  lab: NetnsLab;
  pid: number;
  stop: () => Promise<void>;
  rates: number[];
  cpuUs: number[];
  /** Share of the burst in the busiest queue. */
  skew: number[];
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
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

async function setup(queues: number): Promise<Setup> {
  const lab = bench.newLab(`qb${queues}`, 80 + queues);
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
  const child = lab.spawn(lab.router, "taskset", [
    "-c",
    cpuList,
    process.execPath,
    RUN_DP,
    "--queues",
    queues === 1 ? "0" : `0:${queues - 1}`,
    "--protocols",
    join(ROOT, "protocols"),
    "--no-fail-open",
    "--maxlen",
    "1000000",
    "--rcvbuf",
    String(256 * 1024 * 1024),
  ]);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 400 && !/"event":"ready"/.test(out); i++) await sleep(100);
  const pid = Number(/"pid":(\d+)/.exec(out)?.[1]);
  if (!pid) throw new Error(`data plane (${queues} queues) did not start`);
  return {
    queues,
    lab,
    pid,
    rates: [],
    cpuUs: [],
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
    String(20000 + 10 * n + s.queues),
  ]);
  const g = JSON.parse(r.stdout) as { sent: number };
  await sleep(200);
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
  const cpu = cpuSeconds(s.pid) - cpu0;
  if (queued < 0.9 * g.sent)
    console.log(`  (round ${n}, ${s.queues} queues: ${queued} of ${g.sent} sent were queued)`);
  s.rates.push(queued / seconds);
  s.cpuUs.push((cpu * 1e6) / queued);
}

console.log(
  `queues bench: ${cpus().length} CPUs, bursts of ${fmt(FLOWS)} new UDP flows x ${PACKETS} packets (46-byte IP), ` +
    `${ROUNDS} alternating rounds; load before ${loadavg()}`,
);
const setups = [await setup(1), await setup(2)];
for (let n = 0; n < ROUNDS; n++) for (const s of n % 2 ? [...setups].reverse() : setups) await round(s, n);
for (const s of setups) {
  console.log(
    `  ${s.queues} queue(s) on ${s.queues} core(s): ${fmt(median(s.rates))} verdicts/s ` +
      `[${fmt(Math.min(...s.rates))}-${fmt(Math.max(...s.rates))}], data plane CPU ${median(s.cpuUs).toFixed(1)} µs per verdict (all threads); ` +
      `busiest queue's share of a burst ${(100 * median(s.skew)).toFixed(0)}%`,
  );
  await s.stop();
}
const ratios = setups[1]!.rates.map((r, i) => r / setups[0]!.rates[i]!);
console.log(
  `  2 queues / 1 queue: ${median(ratios).toFixed(2)}x [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]; load after ${loadavg()}`,
);
bench.cleanup();
