// Fault injection against the real agent (`sluice agent`, its CLI entry point) in a network
// namespace made for the test (issue 16): the agent SIGKILLed in the middle of an apply and
// restarted, its data directory full, then read-only. Each ends with the box on the last
// good policy — iptables-save and tc identical to what they were — the history intact, and
// a clear error.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import { AgentClient } from "@sluice/agent-contract";
import { testNamespace } from "./support/box-namespace.ts";

const root = process.getuid?.() === 0;
const opts = { skip: root ? false : "needs root (network namespaces, tmpfs)", timeout: 180_000 };
const NS = testNamespace("faults");
const SLUICE = fileURLToPath(new URL("../bin/sluice", import.meta.url));
const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const DEVICES = ["wan0", "lan0"];

let dir: string;
let data: string;
let hooks: string;
let socket: string;
let client: AgentClient;
let agent: ChildProcess | null = null;
let agentLog = "";

function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** What the box holds: Sluice's mangle table and every tc object, without counters. */
function boxState(): string {
  const ipt = sh(["ip", "netns", "exec", NS, "iptables-save", "-t", "mangle"])
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/\[\d+:\d+\]/g, ""))
    .join("\n");
  const ip6 = sh(["ip", "netns", "exec", NS, "ip6tables-save", "-t", "mangle"])
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/\[\d+:\d+\]/g, ""))
    .join("\n");
  const tc = DEVICES.flatMap((d) =>
    ["qdisc", "class", "filter"].map((k) => sh(["ip", "netns", "exec", NS, "tc", k, "show", "dev", d])),
  ).join("\n");
  return `${ipt}\n${ip6}\n${tc}`;
}

function policy(webRate: string, name: string): PolicyInput {
  const p = defaultPolicy();
  p.name = name;
  (p.classes.upload[1] as { rate: string }).rate = webRate;
  return p;
}

async function startAgent(): Promise<void> {
  agentLog = "";
  // detached: its own process group, so a SIGKILL reaches the CLI wrapper, node and any
  // command it is running
  agent = spawn(
    "ip",
    [
      "netns",
      "exec",
      NS,
      SLUICE,
      "agent",
      "--data",
      data,
      "--socket",
      socket,
      "--protocols",
      PROTOCOLS,
      "--no-data-plane",
    ],
    {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PATH: `${hooks}:${process.env.PATH}` },
    },
  );
  agent.stdout!.on("data", (b: Buffer) => (agentLog += b.toString()));
  agent.stderr!.on("data", (b: Buffer) => (agentLog += b.toString()));
  for (let i = 0; i < 240; i++) {
    try {
      await client.call("GET", "/v1/status");
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`agent did not come up\n${agentLog.slice(-3000)}`);
}

async function killAgent(signal: NodeJS.Signals): Promise<void> {
  const p = agent;
  agent = null;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once("exit", r));
  process.kill(-p.pid!, signal);
  await exited;
}

type Status = { policy: { id: number; name: string } | null };
type History = {
  id: number;
  status: string;
  lastGood: boolean;
  error?: { step?: string; message?: string };
}[];

async function apply(p: PolicyInput): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    return {
      status: 200,
      body: await client.call<Record<string, unknown>>("POST", "/v1/apply", { policy: p, user: "test" }),
    };
  } catch (e) {
    const err = e as { status?: number; body?: Record<string, unknown>; message: string };
    return { status: err.status ?? 0, body: err.body ?? { error: err.message } };
  }
}

before(() => {
  if (!root) return;
  spawnSync("ip", ["netns", "del", NS]);
  sh(["ip", "netns", "add", NS]);
  sh(["ip", "-n", NS, "link", "add", "wan0", "type", "veth", "peer", "name", "wanp"]);
  sh(["ip", "-n", NS, "link", "add", "lan0", "type", "veth", "peer", "name", "lanp"]);
  for (const d of ["wan0", "lan0", "wanp", "lanp"]) sh(["ip", "-n", NS, "link", "set", d, "up"]);
  dir = mkdtempSync(join(tmpdir(), "sluice-faults-"));
  data = join(dir, "data");
  mkdirSync(data);
  // a small tmpfs: the data directory can be filled, then made read-only
  sh(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "sluice-faults", data]);
  socket = join(dir, "agent.sock");
  client = new AgentClient(socket);
  // iptables-restore that, while `hold` exists, signals `reached` and waits for its caller
  // to die (never restoring anything): the agent is then killed with tc already changed
  hooks = join(dir, "bin");
  mkdirSync(hooks);
  const real = sh(["sh", "-c", "command -v iptables-restore"]).trim();
  writeFileSync(
    join(hooks, "iptables-restore"),
    `#!/bin/sh\nif [ -e "${dir}/hold" ]; then\n  touch "${dir}/reached"\n  while kill -0 $PPID 2>/dev/null; do sleep 0.05; done\n  exit 1\nfi\nexec ${real} "$@"\n`,
  );
  chmodSync(join(hooks, "iptables-restore"), 0o755);
});

after(async () => {
  if (!root) return;
  await killAgent("SIGTERM").catch(() => undefined);
  spawnSync("umount", ["-l", data]);
  spawnSync("ip", ["netns", "del", NS]);
  rmSync(dir, { recursive: true, force: true });
});

test(
  "SIGKILL in the middle of an apply: after a restart the box is on the last good policy",
  opts,
  async () => {
    await startAgent();
    const first = await apply(policy("7mbit", "good"));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const good = boxState();
    const historyBefore = await client.call<History>("GET", "/v1/history");

    writeFileSync(join(dir, "hold"), "");
    const pending = apply(policy("3mbit", "interrupted"));
    for (let i = 0; i < 400 && !existsSync(join(dir, "reached")); i++) await sleep(50);
    assert.ok(
      existsSync(join(dir, "reached")),
      `the apply never reached iptables-restore\n${agentLog.slice(-2000)}`,
    );
    const half = boxState();
    assert.notEqual(half, good, "tc already holds the new tree: the box is half applied");
    await killAgent("SIGKILL");
    const answer = await pending;
    assert.notEqual(answer.status, 200);
    rmSync(join(dir, "hold"));
    rmSync(join(dir, "reached"));

    await startAgent();
    assert.equal(boxState(), good, "iptables-save and tc are those of the last good policy");
    const status = await client.call<Status>("GET", "/v1/status");
    assert.equal(status.policy?.name, "good");
    const history = await client.call<History>("GET", "/v1/history");
    assert.equal(history.length, historyBefore.length + 1, "the interrupted apply is in the history");
    const interrupted = history[0]!;
    assert.equal(interrupted.status, "failed");
    assert.match(interrupted.error?.message ?? "", /stopped during this apply/);
    assert.equal(history.find((e) => e.lastGood)?.id, historyBefore.find((e) => e.lastGood)?.id);
    // and the next apply works
    const next = await apply(policy("5mbit", "after"));
    assert.equal(next.status, 200, JSON.stringify(next.body));
    const back = await apply(policy("7mbit", "good"));
    assert.equal(back.status, 200);
    assert.equal(boxState(), good);
  },
);

test(
  "data directory full: the apply is refused with a clear error and the box is unchanged",
  opts,
  async () => {
    if (!agent) await startAgent();
    const good = boxState();
    const historyBefore = await client.call<History>("GET", "/v1/history");
    // fill the tmpfs
    const filler = join(data, "filler");
    spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { encoding: "utf8" });
    const r = await apply(policy("4mbit", "too-big"));
    assert.equal(r.status, 500);
    assert.equal(r.body.step, "record");
    assert.match(String(r.body.error), /data directory is full \(ENOSPC\); nothing was changed/);
    assert.equal(boxState(), good);
    assert.deepEqual(
      await client.call<History>("GET", "/v1/history"),
      historyBefore,
      "the history is unchanged",
    );
    assert.equal((await client.call<Status>("GET", "/v1/status")).policy?.name, "good");
    // a new hostname rule needs a stable id written first: refused the same way
    const hosts = policy("4mbit", "new-host-rule");
    hosts.rules = [...(hosts.rules ?? []), { hostname: "*.full.example", class: "bulk" }];
    const h = await apply(hosts);
    assert.equal(h.status, 500);
    assert.match(String(h.body.error), /host-ids\.json: the data directory is full \(ENOSPC\)/);
    assert.equal(boxState(), good);
    // space again: nothing was lost, the same apply goes through
    rmSync(filler);
    const ok = await apply(policy("4mbit", "fits"));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await client.call<Status>("GET", "/v1/status")).policy?.name, "fits");
    hosts.name = "fits-with-host-rule";
    const ok2 = await apply(hosts);
    assert.equal(ok2.status, 200, JSON.stringify(ok2.body));
    const back = await apply(policy("4mbit", "fits"));
    assert.equal(back.status, 200, JSON.stringify(back.body));
  },
);

test(
  "data directory read-only: apply refused, box unchanged; a restart still restores the last good",
  opts,
  async () => {
    if (!agent) await startAgent();
    const good = boxState();
    const name = (await client.call<Status>("GET", "/v1/status")).policy?.name;
    sh(["mount", "-o", "remount,ro", data]);
    try {
      const r = await apply(policy("2mbit", "read-only"));
      assert.equal(r.status, 500);
      assert.equal(r.body.step, "record");
      assert.match(String(r.body.error), /read-only \(EROFS\); nothing was changed/);
      assert.equal(boxState(), good);
      // a box whose tc was lost while the agent was down: the restart puts it back, read-only or not
      await killAgent("SIGTERM");
      for (const d of DEVICES) spawnSync("ip", ["netns", "exec", NS, "tc", "qdisc", "del", "dev", d, "root"]);
      assert.notEqual(boxState(), good);
      await startAgent();
      assert.equal(boxState(), good);
      assert.equal((await client.call<Status>("GET", "/v1/status")).policy?.name, name);
    } finally {
      sh(["mount", "-o", "remount,rw", data]);
    }
  },
);
