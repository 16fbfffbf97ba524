// The agent's data plane (nfqueue/run-data-plane.ts) as a child of a lab's router
// namespace, with the JSON lines it prints (ready, flow, stats, reloaded, stopped).

import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { NetnsLab } from "../../src/netns-lab.ts";

export const RUN_DP = fileURLToPath(import.meta.resolve("@sluice/agent/src/nfqueue/run-data-plane.ts"));

export type DataPlaneLine = Record<string, unknown>;

export class DataPlaneProcess {
  readonly child: ChildProcess;
  readonly lines: DataPlaneLine[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(lab: NetnsLab, args: string[]) {
    this.child = lab.spawn(lab.router, process.execPath, [RUN_DP, ...args]);
    let buf = "";
    this.child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i; (i = buf.indexOf("\n")) >= 0;) {
        this.lines.push(JSON.parse(buf.slice(0, i)) as DataPlaneLine);
        buf = buf.slice(i + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** The latest line matching `pred`, waiting up to `ms` for one. */
  async waitFor(pred: (l: DataPlaneLine) => boolean, what: string, ms = 20_000): Promise<DataPlaneLine> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.findLast(pred);
      if (hit) return hit;
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`data plane: no ${what} (exit ${this.child.exitCode}); stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The flow event of a client's connection (its address and source port). */
  flowEvent(client: string, port: number): Promise<DataPlaneLine> {
    return this.waitFor(
      (l) => l.event === "flow" && l.client === `${client.includes(":") ? `[${client}]` : client}:${port}`,
      `flow event for ${client}:${port}`,
    );
  }

  /** SIGTERM, then its final line. */
  async stop(): Promise<DataPlaneLine> {
    this.child.kill("SIGTERM");
    return this.waitFor((l) => l.event === "stopped", "stopped line");
  }
}
