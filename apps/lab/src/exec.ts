// Running commands in the lab: the agent's one Executor (argv arrays, never a shell string,
// input on stdin), optionally inside a lab namespace. A non-zero exit throws CommandError
// unless `allowFail` is set.

import { readFileSync } from "node:fs";
import {
  CommandError,
  NetnsExecutor,
  runSync as runCommandSync,
  SystemExecutor,
  type CommandResult,
  type Executor,
} from "@sluice/agent/src/kernel/executor.ts";

export { CommandError, type CommandResult };

export interface ExecOptions {
  /** Written to the command's stdin (which is then closed). */
  input?: string;
  /** Kill the command after this many milliseconds; default 30 s. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing when the exit code is not 0. */
  allowFail?: boolean;
}

const system = new SystemExecutor();

function checked(r: CommandResult, opts: ExecOptions): CommandResult {
  if (r.code !== 0 && !opts.allowFail) throw new CommandError(r);
  return r;
}

async function runOn(exec: Executor, argv: readonly string[], opts: ExecOptions): Promise<CommandResult> {
  if (!argv.length) throw new Error("run: empty argv");
  const runOpts = {
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    timeoutMs: opts.timeoutMs ?? 30_000,
  };
  return checked(await exec.run([...argv], runOpts), opts);
}

/** Runs `argv` (no shell) and collects its output. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<CommandResult> {
  return runOn(system, argv, opts);
}

/** Synchronous `run`, for teardown paths that must not depend on the event loop. */
export function runSync(argv: readonly string[], opts: ExecOptions = {}): CommandResult {
  if (!argv.length) throw new Error("runSync: empty argv");
  return checked(runCommandSync([...argv], opts), opts);
}

/** `ip netns exec NS argv...`: runs argv (no shell) inside a network namespace. */
export function execInNs(
  ns: string,
  argv: readonly string[],
  opts: ExecOptions = {},
): Promise<CommandResult> {
  return runOn(new NetnsExecutor(ns, system), argv, opts);
}

/** Synchronous `execInNs`. */
export function execInNsSync(ns: string, argv: readonly string[], opts: ExecOptions = {}): CommandResult {
  return runSync(["ip", "netns", "exec", ns, ...argv], opts);
}

/** Pids of every process in namespace `ns` (`ip netns pids`; none when it is gone). */
export function pidsInNs(ns: string): number[] {
  const out = runSync(["ip", "netns", "pids", ns], { allowFail: true }).stdout;
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/**
 * Ends (SIGTERM) the processes named `comm` in namespace `ns`: downloads a test started
 * with a generous time limit (a loaded machine makes every step slow) and has measured.
 */
export function killInNs(ns: string, comm: string): void {
  for (const pid of pidsInNs(ns)) {
    let name = "";
    try {
      name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      continue; // already gone
    }
    if (name === comm) process.kill(pid, "SIGTERM");
  }
}
