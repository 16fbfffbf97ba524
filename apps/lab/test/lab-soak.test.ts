// A bounded soak of the agent in the lab (issue 16): about a minute of connection churn
// (short HTTP requests and DNS lookups from every LAN client, many at once) through the
// box with the data plane and the accounting sampler on. The agent's RSS must not grow
// beyond a bound once warm, every connection must end up decided (protocol field of its
// conntrack mark 2 or more: a pattern or "unknown", never untouched or still inspecting),
// and the agent must still answer. Uses the lab (`labUp`/`labDown`) and `sluice agent`,
// the agent's public entry point. Needs root.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultPolicy } from "@sluice/policy";
import { LAB, LabAgent } from "../src/index.ts";
import { root, labWithAgent } from "./support/lab-suite.ts";

const NS = LAB.ns;
const SERVER = LAB.v4.server;
const CLIENTS = LAB.v4.clients;
const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const NODE = process.execPath;
/** How long the churn runs (the whole test stays within about two minutes). */
const CHURN_SECONDS = Number(process.env.SLUICE_SOAK_SECONDS ?? 60);
/** Churn before the RSS baseline is taken. */
const WARM_SECONDS = 15;
/** How much the agent's RSS may grow between warm and the end of the churn. */
const RSS_BOUND = 64 * 1024 * 1024;

/** The churn script and the initial policy. */
const dir = mkdtempSync(join(tmpdir(), "sluice-soak-"));
const POLICY = join(dir, "policy.json");
writeFileSync(POLICY, JSON.stringify({ ...defaultPolicy(), name: "soak" }));
const agent = new LabAgent(PROTOCOLS, ["--initial-policy", POLICY]);
const client = agent.client;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Runs a Node script inside the LAN namespace: `concurrency` loops of short HTTP GETs and DNS lookups. */
function churn(seconds: number): Promise<{ requests: number; errors: number }> {
  const script = join(dir, "churn.mjs");
  writeFileSync(
    script,
    `import http from "node:http";
import { Resolver } from "node:dns/promises";
const end = Date.now() + ${seconds * 1000};
const clients = ${JSON.stringify(CLIENTS)};
let requests = 0, errors = 0;
const agent = new http.Agent({ keepAlive: false });
async function get(local, i) {
  await new Promise((res) => {
    const req = http.get({ host: "${SERVER}", port: 80, path: "/page/" + i, localAddress: local, agent, timeout: 5000 }, (r) => {
      r.resume();
      r.on("end", res);
      r.on("error", res);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => { errors++; res(); });
  });
  requests++;
}
async function loop(n) {
  const local = clients[n % clients.length];
  const dns = new Resolver({ timeout: 2000, tries: 1 });
  dns.setServers(["${SERVER}"]);
  dns.setLocalAddress(local);
  for (let i = 0; Date.now() < end; i++) {
    if (i % 10 === 0) await dns.resolve4("www.example.lab").catch(() => errors++);
    await get(local, i);
  }
}
await Promise.all(Array.from({ length: 16 }, (_, n) => loop(n)));
console.log(JSON.stringify({ requests, errors }));
`,
  );
  return new Promise((res, rej) => {
    const p = spawn("ip", ["netns", "exec", NS.lan, NODE, script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (err += b.toString()));
    p.on("exit", (code) =>
      code === 0
        ? res(JSON.parse(out.trim().split("\n").pop()!) as { requests: number; errors: number })
        : rej(new Error(`churn: ${err}`)),
    );
  });
}

labWithAgent(agent, {
  lab: { traffic: false },
  tearDown: () => rmSync(dir, { recursive: true, force: true }),
});

test(
  "soak: a minute of connection churn, RSS bounded, every connection decided",
  { skip: root ? false : "needs root (network namespaces)", timeout: 240_000 },
  async () => {
    // `ip netns exec` execs the CLI, which execs node: the child's pid is the agent's
    const pid = agent.pid!;
    assert.match(readFileSync(`/proc/${pid}/cmdline`, "utf8"), /agent/);
    const run = churn(CHURN_SECONDS);
    await sleep(WARM_SECONDS * 1000); // warm: workers started, flow tables, caches and heap in use
    const series: number[] = [rssOf(pid)];
    const sampler = setInterval(() => series.push(rssOf(pid)), 2000);
    const result = await run.finally(() => clearInterval(sampler));
    await sleep(3000); // the last verdicts and counters come in
    series.push(rssOf(pid));
    const mb = (b: number) => (b / 1048576).toFixed(0);
    const warm = series[0]!;
    const mid = series[Math.floor(series.length / 2)]!;
    const peak = Math.max(...series);
    const end = series[series.length - 1]!;
    console.log(
      `# soak ${CHURN_SECONDS} s: ${result.requests} requests (${result.errors} errors); agent RSS (MB) every 2 s after ${WARM_SECONDS} s: ${series.map(mb).join(" ")}; load ${readFileSync("/proc/loadavg", "utf8").trim()}`,
    );
    assert.ok(result.requests > CHURN_SECONDS * 5, `only ${result.requests} requests went through`);
    assert.ok(result.errors < result.requests / 20, `${result.errors} errors`);
    assert.ok(peak - warm < RSS_BOUND, `the agent's RSS grew by ${mb(peak - warm)} MB once warm`);
    // a leak keeps growing; a heap that settles does not: the second half adds little
    assert.ok(
      end - mid < RSS_BOUND / 2,
      `the agent's RSS still grew by ${mb(end - mid)} MB in the second half`,
    );

    // every connection of the churn is decided (conntrack keeps closed ones a while)
    const ct = spawnSync("ip", ["netns", "exec", NS.box, "conntrack", "-L", "-p", "tcp", "--dport", "80"], {
      encoding: "utf8",
    }).stdout;
    const marks = ct
      .split("\n")
      .filter((l) => l.includes(`dst=${SERVER}`))
      .map((l) => Number(/mark=(\d+)/.exec(l)?.[1] ?? "0"));
    assert.ok(marks.length > 50, `only ${marks.length} connections in conntrack`);
    const undecided = marks.filter((m) => (m & 0xff00) >>> 8 < 2).length;
    assert.equal(undecided, 0, `${undecided} of ${marks.length} connections were left undecided`);

    const status = await client.call<{
      dataPlane: {
        running: boolean;
        restarts: number;
        workerHeapUsed: number;
        memory: { rss: number; mainHeapUsed: number; mainHeapTotal: number };
      };
    }>("GET", "/v1/status");
    assert.equal(status.dataPlane.running, true);
    assert.equal(status.dataPlane.restarts, 0, "no worker died");
    // The memory status shows what the kernel says of the process, and both kinds of heap.
    const m = status.dataPlane.memory;
    const rss = rssOf(pid);
    assert.ok(Math.abs(m.rss - rss) < rss / 4, `status says ${m.rss} bytes resident, the kernel ${rss}`);
    assert.ok(m.mainHeapUsed > 0 && m.mainHeapUsed <= m.mainHeapTotal && m.mainHeapTotal < m.rss);
    assert.ok(status.dataPlane.workerHeapUsed > 0 && status.dataPlane.workerHeapUsed < m.rss);
  },
);
