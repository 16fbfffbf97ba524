// What every lab benchmark does before it measures: skip (exit 0, saying why) without root,
// namespaces or the tools it needs; remove labs of dead runs; a work directory; compile its
// C helpers; build throwaway labs; and tear all of it down on exit, Ctrl-C or SIGTERM.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSync } from "../../src/exec.ts";
import { NetnsLab, labUnavailable, removeStaleLabs } from "../../src/netns-lab.ts";

const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
export const CLK_TCK = Number(runSync(["getconf", "CLK_TCK"], { allowFail: true }).stdout.trim()) || 100;

export interface LabBench {
  /** A fresh directory, removed at the end. */
  work: string;
  /** Prints why the benchmark cannot run here and exits 0. */
  skip(why: string): never;
  /** Compiles bench/SRC into the work directory (skips the benchmark if it cannot). */
  compile(src: string, out: string, libs?: string[]): string;
  /** A throwaway lab, destroyed at the end. */
  newLab(tag: string, net?: number): NetnsLab;
  /** Runs at the end too, before the labs are destroyed (e.g. kill an agent). */
  onCleanup(fn: () => void): void;
  /** Tears everything down now (idempotent). */
  cleanup(): void;
}

/** `name` for messages; `tools` that must be on PATH (beside the lab's own). */
export function startLabBench(name: string, tools: string[] = []): LabBench {
  const skip = (why: string): never => {
    console.log(`${name} bench skipped: ${why}`);
    process.exit(0);
  };
  const why = labUnavailable();
  if (why) skip(why);
  for (const tool of tools)
    if (runSync(["sh", "-c", 'command -v "$1"', "sh", tool], { allowFail: true }).code !== 0)
      skip(`${tool} not installed`);
  removeStaleLabs();

  const work = mkdtempSync(join(tmpdir(), `sltest-${name}-`));
  const labs: NetnsLab[] = [];
  const hooks: (() => void)[] = [];
  const cleanup = () => {
    for (const fn of hooks.splice(0)) fn();
    for (const l of labs.splice(0)) l.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  return {
    work,
    skip,
    compile(src, out, libs = []) {
      const bin = join(work, out);
      const r = runSync(["cc", "-O2", "-o", bin, join(BENCH_DIR, src), ...libs], { allowFail: true });
      if (r.code !== 0) skip(`cannot compile ${src}: ${r.stderr.trim()}`);
      return bin;
    },
    newLab(tag, net) {
      const l = NetnsLab.create(tag, net);
      labs.push(l);
      return l;
    },
    onCleanup: (fn) => hooks.push(fn),
    cleanup,
  };
}

/**
 * Copies the pattern set the agent would load into DIR: the classic l7-filter set when
 * ../shared has it (without its catch-all "unknown" and "unset" files), else the repo's
 * protocols/, else a one-pattern set.
 */
export function copyBenchPatterns(dir: string): string {
  const classic = join(ROOT, "../shared/l7-protocols/protocols");
  const ours = join(ROOT, "protocols");
  const src = existsSync(classic) ? classic : readdirSync(ours).some((f) => f.endsWith(".pat")) ? ours : null;
  if (src) cpSync(src, dir, { recursive: true, filter: (f) => !/\/(unknown|unset)\.pat$/.test(f) });
  else {
    mkdirSync(dir);
    writeFileSync(join(dir, "http.pat"), "http\n^(get|post|head) [\\x09-\\x0d -~]* http/1\\.[01]\n");
  }
  return dir;
}

/** Packets the server namespace counted (and dropped) with its `raw PREROUTING … DROP` rule. */
export function serverDropCount(l: NetnsLab): number {
  const out = l.mustExec(l.server, "iptables", ["-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"]);
  const line = out.split("\n").find((x) => x.includes("DROP"));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}

export interface BlastOptions {
  port: number;
  flows: number;
  payload: number;
  srcBase: number;
  seconds: number;
  /** Datagrams per flow (0: as many as fit in `seconds`), with `gapUs` between rounds. */
  limit?: number;
  gapUs?: number;
  /** Pin the sender to this CPU (taskset). */
  cpu?: string;
}

/** Sends small UDP datagrams from the client namespace with udp-blast (bench/udp-blast.c). */
export function udpBlast(l: NetnsLab, bin: string, o: BlastOptions) {
  const args = [
    l.addr.server4,
    String(o.port),
    String(o.seconds),
    String(o.flows),
    String(o.payload),
    String(o.srcBase),
  ];
  if (o.limit) args.push(String(o.limit), String(o.gapUs ?? 0));
  const r = o.cpu ? l.exec(l.client, "taskset", ["-c", o.cpu, bin, ...args]) : l.exec(l.client, bin, args);
  if (r.code !== 0) throw new Error(`udp-blast failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { sent: number; errors?: number; seconds: number; cpu_us: number };
}

/**
 * Starts `argv` in the router namespace (pinned to `cpu` when given) and waits for a line of
 * its output matching `ready`; then its CPU time so far, and a stop that returns its output.
 */
export async function startInRouter(
  l: NetnsLab,
  argv: [string, ...string[]],
  ready: RegExp,
  o: { cpu?: string; timeoutMs?: number } = {},
) {
  const child = o.cpu
    ? l.spawn(l.router, "taskset", ["-c", o.cpu, ...argv])
    : l.spawn(l.router, argv[0], argv.slice(1));
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  // Generous: a data plane compiling 100+ patterns on one pinned CPU of a loaded machine
  // can take a minute to say it is ready.
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  while (!ready.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(
        `${argv.join(" ")} ${child.exitCode !== null ? `exited ${child.exitCode}` : "not ready in time"}: ${err.slice(-2000) || out.slice(-2000)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    /** CPU seconds the process (all its threads) used so far. */
    cpuSeconds(): number {
      const stat = l.exec(l.router, "cat", [`/proc/${child.pid}/stat`]).stdout;
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(f[11]) + Number(f[12])) / CLK_TCK;
    },
    async stop(): Promise<string> {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      return out;
    },
  };
}
