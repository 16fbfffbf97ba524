// The one place Sluice runs commands: argv arrays (never a shell string), input on stdin.
// Tests swap in a recording or failure-injecting Executor.

import { spawn, spawnSync } from "node:child_process";

export interface CommandResult {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
}

export interface Executor {
  run(argv: string[], opts?: RunOptions): Promise<CommandResult>;
}

export class CommandError extends Error {
  readonly result: CommandResult;
  constructor(result: CommandResult) {
    super(
      `\`${result.argv.join(" ")}\` exited ${result.code}: ${result.stderr.trim() || result.stdout.trim() || "(no output)"}`,
    );
    this.name = "CommandError";
    this.result = result;
  }
}

export class SystemExecutor implements Executor {
  run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve) => {
      const [cmd, ...args] = argv as [string, ...string[]];
      const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], timeout: opts.timeoutMs ?? 30_000 });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", (e) => resolve({ argv, code: 127, stdout: "", stderr: e.message }));
      child.on("close", (code, signal) =>
        resolve({
          argv,
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString() + (signal ? `\nkilled by ${signal}` : ""),
        }),
      );
      child.stdin.on("error", () => {}); // a command that exits before reading stdin
      child.stdin.end(opts.input ?? "");
    });
  }
}

/**
 * The synchronous twin of SystemExecutor.run (same argv, stdin and result), for the few
 * callers that cannot wait for the event loop: teardown in an `exit` handler, the test
 * lab's set-up steps between test cases.
 */
export function runSync(argv: string[], opts: RunOptions = {}): CommandResult {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, {
    input: opts.input ?? "",
    timeout: opts.timeoutMs ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
    encoding: "utf8",
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT")
    return { argv, code: 127, stdout: "", stderr: r.error.message };
  return {
    argv,
    code: r.status ?? 128,
    stdout: r.stdout ?? "",
    stderr:
      (r.stderr ?? "") +
      (r.signal ? `\nkilled by ${r.signal}` : "") +
      (r.error ? `\n${r.error.message}` : ""),
  };
}

/** Runs and throws CommandError on a non-zero exit. */
export async function must(exec: Executor, argv: string[], opts?: RunOptions): Promise<CommandResult> {
  const r = await exec.run(argv, opts);
  if (r.code !== 0) throw new CommandError(r);
  return r;
}

/** Runs every command inside a network namespace (tests, the lab's box). */
export class NetnsExecutor implements Executor {
  private readonly ns: string;
  private readonly inner: Executor;
  constructor(ns: string, inner: Executor = new SystemExecutor()) {
    this.ns = ns;
    this.inner = inner;
  }
  run(argv: string[], opts?: RunOptions): Promise<CommandResult> {
    return this.inner.run(["ip", "netns", "exec", this.ns, ...argv], opts);
  }
}
