// The README's first command, `./dev start` (scripts/start.sh after the set-up): the lab
// comes up, the agent runs in its box on the lab policy, the traffic mix flows through it,
// and the dashboard answers; the agent's accounting has live per-class bytes. Ctrl-C
// (SIGINT) stops everything and removes the lab. Needs root; uses the lab's namespaces
// (SLUICE_LAB_PREFIX), a data directory and socket of its own, and a free port.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentClient, type StatsSample } from "@sluice/agent-contract";
import { LAB } from "../src/index.ts";
import { rootOnly } from "./support/lab-suite.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sluice-dev-start-"));
const socket = join(dir, "agent.sock");
let start: ChildProcess | null = null;
let output = "";

after(async () => {
  if (start && start.exitCode === null) {
    start.kill("SIGINT");
    await new Promise((r) => start!.once("exit", r));
  }
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (start?.exitCode !== null) break;
    await sleep(500);
  }
  throw new Error(`./dev start: no ${what}\n${output.slice(-4000)}`);
}

const namespaces = () => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;

test(
  "./dev start: lab, agent with live per-class bytes and the dashboard; Ctrl-C removes it all",
  { ...rootOnly, timeout: 420_000 },
  async () => {
    const port = await freePort();
    start = spawn("bash", [join(ROOT, "scripts/start.sh")], {
      cwd: ROOT,
      env: {
        ...process.env,
        SLUICE_DATA: join(dir, "data"),
        SLUICE_SOCKET: socket,
        SLUICE_WEB_PORT: String(port),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    start.stdout!.on("data", (b: Buffer) => (output += b.toString()));
    start.stderr!.on("data", (b: Buffer) => (output += b.toString()));

    // the agent's accounting: the traffic mix moves bytes in some class
    const client = new AgentClient(socket);
    const sample = await until("per-class bytes from the agent", 120_000, async () => {
      const s = await client.call<StatsSample | null>("GET", "/v1/stats/latest");
      return s && s.classes.some((c) => c.bytes > 0) ? s : null;
    });
    assert.ok(namespaces().includes(LAB.ns.box), "the lab's box namespace is up");
    const busy = sample.classes.filter((c) => c.bytes > 0).map((c) => `${c.direction} ${c.name}`);
    const t0 = performance.now();
    console.log(`# live classes after ${(performance.now() / 1000).toFixed(0)} s: ${busy.join(", ")}`);

    // the dashboard: a fresh database sends the first visit to the setup page
    const res = await until("dashboard", 240_000, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
      return r.status < 500 ? r : null;
    });
    // (the first start builds the dashboard when its sources changed: a minute or two)
    console.log(`# the dashboard answered ${((performance.now() - t0) / 1000).toFixed(0)} s later`);
    assert.equal(res.status, 307, await res.text());
    assert.match(res.headers.get("location") ?? "", /\/setup$/);

    // Ctrl-C: everything stops and the lab goes away
    start.kill("SIGINT");
    const code = await new Promise<number | null>((r) => start!.once("exit", (c) => r(c)));
    assert.match(output, /\[start\] stopping/);
    assert.ok(
      !namespaces().includes(LAB.ns.box),
      `the lab is removed (exit ${code})\n${output.slice(-2000)}`,
    );
    await assert.rejects(client.call("GET", "/v1/status"), "the agent has stopped");
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), "the dashboard has stopped");
  },
);
