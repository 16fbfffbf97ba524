// The agent as the lab tests run it: a real `sluice agent` inside the lab's box namespace,
// with its own data directory and control socket, plus the kernel views the tests assert on
// (conntrack entries, tc class byte counters).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { LAB, execInNs } from "../../src/index.ts";
import { AgentClient } from "@sluice/agent-contract";
import { parseConntrackLine, parseTcClassStats } from "@sluice/agent/src/stats/parse.ts";

const SLUICE = fileURLToPath(import.meta.resolve("@sluice/agent/bin/sluice"));

export class LabAgent {
  readonly dir = mkdtempSync(join(tmpdir(), "sluice-lab-agent-"));
  readonly socket = join(this.dir, "agent.sock");
  readonly client = new AgentClient(this.socket);
  private proc: ChildProcess | null = null;

  private readonly protocols: string;
  private readonly extraArgs: string[];

  /** `protocols`: the pattern directory the agent loads (its app catalogue beside it);
   * `extraArgs`: more `sluice agent` options (e.g. --leases FILE). */
  constructor(protocols: string, extraArgs: string[] = []) {
    this.protocols = protocols;
    this.extraArgs = extraArgs;
  }

  /** Starts the agent and waits until its data plane runs. */
  async start(): Promise<void> {
    this.proc = spawn(
      "ip",
      [
        "netns",
        "exec",
        LAB.ns.box,
        SLUICE,
        "agent",
        "--data",
        join(this.dir, "data"),
        "--socket",
        this.socket,
        "--protocols",
        this.protocols,
        ...this.extraArgs,
      ],
      // the agent's log, for a failing test to be read
      { stdio: ["ignore", this.logFd(), this.logFd()] },
    );
    for (let i = 0; i < 160; i++) {
      try {
        const s = await this.client.call<{ dataPlane: { running: boolean } }>("GET", "/v1/status");
        if (s.dataPlane.running) return;
      } catch {
        /* not up yet */
      }
      await sleep(250);
    }
    throw new Error("agent did not come up");
  }

  /** The agent's log file (agent.log in the test's directory), opened for appending. */
  private logFd(): number {
    return openSync(join(this.dir, "agent.log"), "a");
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill(signal);
    await exited;
  }
}

/** The box's IPv4 conntrack table. */
export async function conntrack() {
  const r = await execInNs(LAB.ns.box, ["conntrack", "-L", "-f", "ipv4"], { allowFail: true });
  return r.stdout
    .split("\n")
    .map(parseConntrackLine)
    .filter((x) => x !== null);
}

/** Bytes sent per class id on a box device. */
export async function classBytes(dev: string): Promise<Map<string, number>> {
  const r = await execInNs(LAB.ns.box, ["tc", "-s", "class", "show", "dev", dev]);
  return new Map(parseTcClassStats(r.stdout).map((c) => [c.classid, c.bytes]));
}
