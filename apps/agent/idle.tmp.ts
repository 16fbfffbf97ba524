import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy } from "@sluice/policy";
import { NetnsLab, removeStaleLabs } from "./src/nfqueue/netns-lab.ts";
import { AgentClient } from "@sluice/agent-contract";
removeStaleLabs();
const work = mkdtempSync(join(tmpdir(), "sltest-idle-"));
const lab = NetnsLab.create("idle", 70);
try {
  const policy = defaultPolicy({ wan: "r1", lan: "r0", uplink: "10gbit", downlink: "10gbit" });
  policy.inspection = { packets: 10, bytes: 2048, queues: Number(process.env.Q ?? 1), queueBase: 0 };
  writeFileSync(join(work, "p.json"), JSON.stringify(policy));
  const sock = join(work, "a.sock");
  const agent = spawn("ip", ["netns", "exec", lab.router, "/work/wt/dp/apps/agent/bin/sluice", "agent", "--data", join(work, "d"), "--socket", sock, "--protocols", "/work/wt/dp/protocols", "--initial-policy", join(work, "p.json")], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NODE_OPTIONS: process.env.AGENT_NODE_OPTIONS ?? "" } });
  const client = new AgentClient(sock);
  for (let i = 0; i < 240; i++) { try { if ((await client.call<{ dataPlane: { running: boolean } }>("GET", "/v1/status")).dataPlane.running) break; } catch {} await new Promise((r) => setTimeout(r, 250)); }
  for (const t of [2, 8]) {
    await new Promise((r) => setTimeout(r, t * 1000));
    // the node process: child of ip netns exec (exec'd), so same pid
    const st = readFileSync(`/proc/${agent.pid}/status`, "utf8");
    console.log(`after +${t}s`, /VmRSS:.*/.exec(st)?.[0], /Threads:.*/.exec(st)?.[0]);
  }
  const sm = readFileSync(`/proc/${agent.pid}/smaps_rollup`, "utf8");
  console.log(sm.split("\n").filter((l) => /Rss|Anonymous|Pss_File/.test(l)).join("; "));
  agent.kill("SIGTERM");
  await new Promise((r) => agent.once("exit", r));
} finally { lab.destroy(); }
