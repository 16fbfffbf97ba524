// The agent's start-up order (root, in a network namespace made for the test): `sluice agent`
// with its data plane answers on its control socket as soon as the boot policy is in place,
// while the NFQUEUE workers still load the pattern set (on the appliance that is the slowest
// part of the start), saying so in its status, and at a lower priority (the dashboard starts
// meanwhile); then the data plane runs, every thread at its own priority again.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultPolicy } from "@sluice/policy";
import { AgentClient } from "@sluice/agent-contract";
import { createBoxNamespace, deleteBoxNamespace } from "./support/box-namespace.ts";
import { LOADING_NICE } from "../src/nfqueue/thread-priority.ts";

const root = process.getuid?.() === 0;
const opts = { skip: root ? false : "needs root (network namespaces)", timeout: 120_000 };
const PREFIX = /^[a-z][a-z0-9]{0,11}$/.test(process.env.SLUICE_LAB_PREFIX ?? "")
  ? process.env.SLUICE_LAB_PREFIX!
  : "sluice";
const NS = `${PREFIX}-start`;
const SLUICE = fileURLToPath(new URL("../bin/sluice", import.meta.url));
const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));

let dir: string;
let agent: ChildProcess | null = null;
let agentLog = "";

before(async () => {
  if (!root) return;
  await createBoxNamespace(NS);
  dir = mkdtempSync(join(tmpdir(), "sluice-start-"));
});

after(async () => {
  if (!root) return;
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once("exit", r));
    process.kill(-agent.pid!, "SIGTERM");
    await exited;
  }
  await deleteBoxNamespace(NS);
  rmSync(dir, { recursive: true, force: true });
});

/** The nice value of each thread of a process (/proc/PID/task/TID/stat, field 19). */
function threadNices(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        return [Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])];
      } catch {
        return []; // the thread ended meanwhile
      }
    });
  } catch {
    return [];
  }
}

type Status = {
  policy: { id: number; user: string } | null;
  dataPlane: { running: boolean; starting?: boolean; error?: string };
};

test("the control API answers with the policy applied while the data plane starts", opts, async () => {
  const socket = join(dir, "agent.sock");
  const policy = join(dir, "policy.json");
  writeFileSync(policy, JSON.stringify(defaultPolicy()));
  agent = spawn(
    "ip",
    [
      "netns",
      "exec",
      NS,
      SLUICE,
      "agent",
      "--data",
      join(dir, "data"),
      "--socket",
      socket,
      "--protocols",
      PROTOCOLS,
      "--initial-policy",
      policy,
    ],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  agent.stdout!.on("data", (b: Buffer) => (agentLog += b.toString()));
  agent.stderr!.on("data", (b: Buffer) => (agentLog += b.toString()));
  const client = new AgentClient(socket);
  const seen: Status[] = [];
  const niceSeen = new Set<number>();
  for (let i = 0; i < 6000 && !seen.at(-1)?.dataPlane.running; i++) {
    assert.equal(agent.exitCode, null, `the agent exited\n${agentLog.slice(-3000)}`);
    for (const n of threadNices(agent.pid!)) niceSeen.add(n);
    if (existsSync(socket)) seen.push(await client.call<Status>("GET", "/v1/status"));
    else await sleep(10);
  }
  assert.ok(seen.at(-1)?.dataPlane.running, `the data plane never ran\n${agentLog.slice(-3000)}`);
  // every answer, the first included, has the boot policy in place
  for (const s of seen) assert.deepEqual([s.policy?.id, s.policy?.user], [1, "first boot"]);
  const starting = seen.filter((s) => !s.dataPlane.running);
  assert.ok(starting.length > 0, "the socket answered only once the data plane ran");
  for (const s of starting) assert.equal(s.dataPlane.starting, true, JSON.stringify(s.dataPlane));
  assert.match(agentLog, /control API listening[\s\S]*nfqueue: queue \d+: bound/);
  // the workers loaded at a lower priority (as root), and every thread has its own back
  assert.ok(niceSeen.has(LOADING_NICE), `nice values seen while starting: ${[...niceSeen].join(", ")}`);
  assert.deepEqual(new Set(threadNices(agent.pid!)), new Set([0]));
  console.log(`# ${starting.length} answers while the workers started, then running`);
});
