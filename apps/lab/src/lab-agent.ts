// The agent as the lab runs it: a real `sluice agent` inside the lab's box namespace, with
// its own data directory, control socket and log file (agent.log beside them).

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentClient } from "@sluice/agent-contract";
import { LAB } from "./constants.ts";

const SLUICE = fileURLToPath(import.meta.resolve("@sluice/agent/bin/sluice"));

export class LabAgent {
  readonly dir = mkdtempSync(join(tmpdir(), "sluice-lab-agent-"));
  readonly socket = join(this.dir, "agent.sock");
  readonly client = new AgentClient(this.socket);
  private proc: ChildProcess | null = null;

  private readonly protocols: string | undefined;
  private readonly extraArgs: string[];

  /** `protocols`: the pattern directory the agent loads (its app catalogue beside it; the
   * agent's default when undefined); `extraArgs`: more `sluice agent` options (e.g. --leases FILE). */
  constructor(protocols: string | undefined, extraArgs: string[] = []) {
    this.protocols = protocols;
    this.extraArgs = extraArgs;
  }

  /** The agent's process id (it replaces `ip netns exec`), while it runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The end of the agent's log, for a failing test's message. */
  logTail(chars = 3000): string {
    try {
      return readFileSync(join(this.dir, "agent.log"), "utf8").slice(-chars);
    } catch {
      return "";
    }
  }

  /** Starts the agent and waits until its data plane runs. */
  async start(timeoutMs = 60_000): Promise<void> {
    // the agent's stdout and stderr, appended to its log (the child keeps its own copy)
    const log = openSync(join(this.dir, "agent.log"), "a");
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
        ...(this.protocols ? ["--protocols", this.protocols] : []),
        ...this.extraArgs,
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    for (const end = Date.now() + timeoutMs; Date.now() < end;) {
      try {
        const s = await this.client.call<{ dataPlane: { running: boolean } }>("GET", "/v1/status");
        if (s.dataPlane.running) return;
      } catch {
        /* not up yet */
      }
      await sleep(250);
    }
    throw new Error(`the agent did not come up in ${timeoutMs / 1000} s\n${this.logTail()}`);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill(signal);
    await exited;
  }
}
