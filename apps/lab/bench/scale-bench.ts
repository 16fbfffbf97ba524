// Scale: many concurrent one-way UDP flows at a set rate of new flows through the box, with
// the real agent running in the box namespace (`sluice agent`: probe, apply, data plane,
// sampler, API). Then, per run:
//   - decided / total: the generated flows whose conntrack mark carries a verdict (protocol
//     field unknown or a protocol), over all generated flows still tracked;
//   - the agent's own view: flows decided, of them late (window partly lost), classification
//     health (queue full, socket full, passed uninspected, windows lost);
//   - agent RSS (idle, peak), agent CPU (share of one core over the run);
//   - GET /v1/stats latency (what `sluice stats` waits for), sampled during the run.
// Runs: 1 queue with the box (softirq via RPS) and the agent on CPU 0, the generator on CPU 1;
// then 2 queues (--queue-cpu-fanout) with RPS and the agent on both CPUs (the generator
// shares them: on this 2-core machine that is the best "2 cores" there is).
// Env: SCALE_RATE new flows/s (20000), SCALE_SECONDS of new flows (5), SCALE_PACKETS per
// flow (12: past the 10-packet window), SCALE_GAP_MS between a flow's packets (450),
// SCALE_QUEUES ("1,2"), SCALE_PAYLOAD ("junk" or "torrent"). Run as root: node apps/lab/bench/scale-bench.ts. Prints only.

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultPolicy } from "@sluice/policy";
import { AgentClient } from "@sluice/agent-contract";
import { CLK_TCK, ROOT, startLabBench } from "./support/lab-bench.ts";

const SLUICE = fileURLToPath(import.meta.resolve("@sluice/agent/bin/sluice"));
const RATE = Number(process.env.SCALE_RATE ?? 20000);
const SECONDS = Number(process.env.SCALE_SECONDS ?? 5);
const PACKETS = Number(process.env.SCALE_PACKETS ?? 12);
const GAP_MS = Number(process.env.SCALE_GAP_MS ?? 450);
const QUEUES = (process.env.SCALE_QUEUES ?? "1,2").split(",").map(Number);
// What the flows carry: "junk" (nothing matches: every flow is inspected over its whole
// window, the worst case) or "torrent" (a BitTorrent DHT query: decided at its first packet,
// as most real flows are within a few).
const PAYLOAD_KIND = process.env.SCALE_PAYLOAD ?? "junk";
const PAYLOAD_TEXT = PAYLOAD_KIND === "torrent" ? "d1:ad2:id20:" : "";
const PAYLOAD = 18;
const WINDOW = 10;
const SPORT_BASE = 30000;

const bench = startLabBench("scale", ["cc", "taskset"]);
const work = bench.work;
const agents: ChildProcess[] = [];
bench.onCleanup(() => {
  for (const a of agents.splice(0)) a.kill("SIGKILL");
});
const GEN = bench.compile("udp-flows.c", "udp-flows");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

function procStat(pid: number): { rssKb: number; anonKb: number; fileKb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const rssKb = kb("VmRSS");
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssKb,
    anonKb: kb("RssAnon"),
    fileKb: kb("RssFile"),
    cpuSeconds: (Number(f[11]) + Number(f[12])) / CLK_TCK,
  };
}

/** CPU seconds per thread name (main thread, data-plane workers, V8's helpers, libuv's pool). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

interface Status {
  dataPlane: {
    running: boolean;
    packets?: number;
    decided?: number;
    workerHeapUsed?: number;
    workerHeapTotal?: number;
    memory?: { rss: number; mainHeapUsed: number; mainHeapTotal: number; loopDelayMaxMs?: number };
    late?: number;
    activeFlows?: number;
    inspectingFlows?: number;
    health?: {
      degraded: boolean;
      reasons: string[];
      queueDropped: number;
      unseen: number;
      lateKernel: number;
    };
  };
}

async function once(queues: number): Promise<void> {
  const lab = bench.newLab(`q${queues}`, 60 + queues);
  const boxCpus = queues === 1 ? "0" : "0,1";
  const genCpu = queues === 1 && cpus().length > 1 ? "1" : "0,1";
  lab.restoreRules(lab.server, "*raw\n-A PREROUTING -p udp -j DROP\nCOMMIT\n", [4]);
  lab.sysctl(lab.router, "net.netfilter.nf_conntrack_udp_timeout", "120");
  lab.mustExec(lab.router, "sh", [
    "-c",
    `echo ${queues === 1 ? 1 : 3} > /sys/class/net/r0/queues/rx-0/rps_cpus`,
  ]);
  const policy = defaultPolicy({ wan: "r1", lan: "r0", uplink: "10gbit", downlink: "10gbit" });
  policy.inspection = { packets: WINDOW, bytes: 2048, queues, queueBase: 0 };
  const policyFile = join(work, `policy-${queues}.json`);
  writeFileSync(policyFile, JSON.stringify(policy));
  const socket = join(work, `agent-${queues}.sock`);
  const agent = spawn(
    "ip",
    [
      "netns",
      "exec",
      lab.router,
      "taskset",
      "-c",
      boxCpus,
      SLUICE,
      "agent",
      "--data",
      join(work, `data-${queues}`),
      "--socket",
      socket,
      "--protocols",
      join(ROOT, "protocols"),
      "--initial-policy",
      policyFile,
    ],
    // Its own session, so its own scheduling group (autogroup), as a service on a box has:
    // in the bench's session it would share one CPU share with the generator.
    { stdio: "ignore", detached: true },
  );
  agents.push(agent);
  const client = new AgentClient(socket);
  let up = false;
  for (let i = 0; i < 240 && !up; i++) {
    try {
      up = (await client.call<Status>("GET", "/v1/status")).dataPlane.running;
    } catch {
      /* not yet */
    }
    if (!up) await sleep(250);
  }
  if (!up) throw new Error("the agent did not come up");
  await sleep(2000);
  const idle = procStat(agent.pid!);
  const idleDp = (await client.call<Status>("GET", "/v1/status")).dataPlane;

  // The load, in the background; the stats API and the agent's memory sampled meanwhile.
  const gen = lab.spawn(
    lab.client,
    "taskset",
    [
      "-c",
      genCpu,
      GEN,
      lab.addr.server4,
      String(SECONDS),
      String(RATE),
      String(PACKETS),
      String(GAP_MS),
      String(PAYLOAD),
      String(SPORT_BASE),
      PAYLOAD_TEXT,
    ],
    { detached: true },
  );
  let genOut = "";
  gen.stdout!.on("data", (d: Buffer) => (genOut += d.toString()));
  const genDone = new Promise((r) => gen.once("exit", r));
  const t0 = Date.now();
  const cpu0 = procStat(agent.pid!).cpuSeconds;
  const threads0 = threadCpu(agent.pid!);
  const packets0 = (await client.call<Status>("GET", "/v1/status")).dataPlane.packets ?? 0;
  // What `sluice stats` waits for (the latest sample), the full answer (history for the
  // graphs), and the longest the agent's main thread went without a turn of its event loop.
  const latencies: number[] = [];
  const fullLatencies: number[] = [];
  let loopDelayMax = 0;
  // Flows decided by the data plane over time: the best rate over a second or more.
  const decidedAt: { t: number; n: number }[] = [];
  let peakKb = idle.rssKb;
  let peak = idle;
  let finished = false;
  void genDone.then(() => (finished = true));
  // Where the memory is at the peak: the workers' heaps and the main thread's.
  let atPeak: Status["dataPlane"] | null = null;
  const sampleOnce = async () => {
    let s = Date.now();
    await client.call("GET", "/v1/stats/latest");
    latencies.push(Date.now() - s);
    s = Date.now();
    await client.call("GET", "/v1/stats");
    fullLatencies.push(Date.now() - s);
    const dpNow = (await client.call<Status>("GET", "/v1/status")).dataPlane;
    decidedAt.push({ t: Date.now(), n: dpNow.decided ?? 0 });
    loopDelayMax = Math.max(loopDelayMax, dpNow.memory?.loopDelayMaxMs ?? 0);
    const now = procStat(agent.pid!);
    const rss = now.rssKb;
    if (rss > peakKb || !atPeak) {
      if (rss > peakKb) peak = now;
      peakKb = Math.max(peakKb, rss);
      atPeak = dpNow;
    }
    await sleep(500);
  };
  while (!finished) await sampleOnce();
  // The last flows' packets drain; the sampler's next conntrack pass sees them all.
  for (let i = 0; i < 6; i++) await sampleOnce();
  const wall = (Date.now() - t0) / 1000;
  const cpu = procStat(agent.pid!).cpuSeconds - cpu0;
  const threads = [...threadCpu(agent.pid!)]
    .map(([name, s]) => [name, s - (threads0.get(name) ?? 0)] as const)
    .filter(([, s]) => s > 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${((100 * s) / ((Date.now() - t0) / 1000)).toFixed(0)}%`)
    .join(", ");
  const g = JSON.parse(genOut) as {
    flows: number;
    sent: number;
    errors: number;
    seconds: number;
    late_ms: number;
  };
  const st = await client.call<Status>("GET", "/v1/status");

  // decided / total, from the box's conntrack table (the generated flows only).
  const ct = lab.exec(lab.router, "conntrack", ["-L", "-p", "udp", "-d", lab.addr.server4]);
  let total = 0;
  let decided = 0;
  // Flows whose packets past the window reached the box's netfilter (a saturated box drops
  // some before conntrack sees them: no rule can decide those).
  let past = 0;
  let pastDecided = 0;
  for (const line of ct.stdout.split("\n")) {
    const dport = Number(/dport=(\d+)/.exec(line)?.[1] ?? 0);
    if (dport < 10000 || dport >= 60000) continue;
    total++;
    const mark = Number(/mark=(\d+)/.exec(line)?.[1] ?? 0);
    const ok = (mark & 0xff00) >>> 8 >= 2;
    if (ok) decided++;
    const packets = Number(/packets=(\d+)/.exec(line)?.[1] ?? 0);
    if (packets > WINDOW) {
      past++;
      if (ok) pastDecided++;
    }
  }
  const served = Number(
    /^\s*(\d+)/.exec(
      lab
        .mustExec(lab.server, "iptables", ["-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"])
        .split("\n")[2] ?? "",
    )?.[1] ?? 0,
  );
  const dp = st.dataPlane;
  const classified = (dp.packets ?? 0) - packets0;
  let bestRate = 0;
  for (let i = 0, j = 0; i < decidedAt.length; i++) {
    while (j + 1 < i && decidedAt[i]!.t - decidedAt[j + 1]!.t >= 1000) j++;
    const span = decidedAt[i]!.t - decidedAt[j]!.t;
    if (span >= 1000) bestRate = Math.max(bestRate, ((decidedAt[i]!.n - decidedAt[j]!.n) * 1000) / span);
  }
  console.log(
    `\n${queues} queue(s), box+agent on CPU ${boxCpus}, generator on CPU ${genCpu}; load ${loadavg()}`,
  );
  console.log(
    `  generator: ${fmt(g.flows)} flows (${fmt(RATE)} new/s for ${SECONDS} s, ${PACKETS} packets each ${GAP_MS} ms apart: ` +
      `~${fmt((RATE * (PACKETS - 1) * GAP_MS) / 1000)} concurrent), ${fmt(g.sent)} datagrams in ${g.seconds.toFixed(1)} s ` +
      `(${fmt(g.sent / g.seconds)}/s), ${g.errors} send errors, at worst ${g.late_ms} ms behind schedule`,
  );
  const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(2)}%`;
  console.log(
    `  through the box: ${fmt(served)} of ${fmt(g.sent)} datagrams reached the server (${pct(served, g.sent)}); ` +
      `${fmt(past)} of ${fmt(total)} tracked flows got more than the ${WINDOW}-packet window through`,
  );
  console.log(
    `  verdicts (conntrack): ${fmt(pastDecided)} / ${fmt(past)} of the flows past their window = ${pct(pastDecided, past)}  goal >= 99%; ` +
      `all tracked flows: ${fmt(decided)} / ${fmt(total)} = ${pct(decided, total)}`,
  );
  console.log(
    `  agent: ${fmt(dp.decided ?? 0)} flows decided by the data plane (${fmt(dp.late ?? 0)} of them late), ` +
      `${fmt(dp.activeFlows ?? 0)} in its tables; classification ${dp.health?.degraded ? "DEGRADED" : "healthy"}` +
      (dp.health?.reasons.length ? ` (${dp.health.reasons.join("; ")})` : ""),
  );
  console.log(
    `  agent RSS: ${fmt(idle.rssKb / 1024)} MB idle, ${fmt(peakKb / 1024)} MB peak  goal <= 200 MB; ` +
      `CPU ${((100 * cpu) / wall).toFixed(0)}% of a core over ${wall.toFixed(1)} s (${threads})`,
  );
  const p = atPeak as Status["dataPlane"] | null;
  const mb = (n: number | undefined) => `${((n ?? 0) / 1048576).toFixed(0)}`;
  console.log(
    `  resident: idle ${fmt(idle.anonKb / 1024)} MB anonymous + ${fmt(idle.fileKb / 1024)} MB file-backed (the node binary, libraries); ` +
      `peak ${fmt(peak.anonKb / 1024)} + ${fmt(peak.fileKb / 1024)} MB`,
  );
  if (idleDp.memory)
    console.log(
      `  idle: main thread heap ${mb(idleDp.memory.mainHeapUsed)}/${mb(idleDp.memory.mainHeapTotal)} MB (used/reserved), ` +
        `workers' heaps ${mb(idleDp.workerHeapUsed)}/${mb(idleDp.workerHeapTotal)} MB`,
    );
  if (p?.memory)
    console.log(
      `  at the peak: main thread heap ${mb(p.memory.mainHeapUsed)}/${mb(p.memory.mainHeapTotal)} MB (used/reserved), ` +
        `workers' heaps ${mb(p.workerHeapUsed)}/${mb(p.workerHeapTotal)} MB, ${fmt(p.activeFlows ?? 0)} flows in the tables (${fmt(p.inspectingFlows ?? 0)} under inspection)`,
    );
  console.log(
    `  classification: ${fmt(classified)} packets through the data plane, ${fmt(classified / wall)}/s over the run; ` +
      `agent CPU ${((cpu * 1e6) / Math.max(1, classified)).toFixed(1)} µs per packet (all threads, its syscalls' kernel time included); ` +
      `flows decided at best ${fmt(bestRate)}/s (over a second or more)`,
  );
  console.log(
    `  sluice stats (GET /v1/stats/latest): median ${median(latencies)} ms, max ${Math.max(...latencies)} ms over ${latencies.length} calls  goal < 1000 ms; ` +
      `GET /v1/stats (with the history): median ${median(fullLatencies)} ms, max ${Math.max(...fullLatencies)} ms; ` +
      `main thread blocked at most ${loopDelayMax} ms at a time`,
  );
  const exited = new Promise((r) => agent.once("exit", r));
  agent.kill("SIGTERM");
  await exited;
  agents.splice(agents.indexOf(agent), 1);
  lab.destroy();
}

console.log(
  `scale bench: ${cpus().length} CPUs, ${RATE} new UDP flows/s for ${SECONDS} s, ${PACKETS} packets per flow, ` +
    `${PAYLOAD + 28}-byte IP packets (${PAYLOAD_KIND} payload); load before ${loadavg()}`,
);
for (const q of QUEUES) await once(q);
bench.cleanup();
