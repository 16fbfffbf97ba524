// Running commands: always an argv array (no shell), optionally inside a lab namespace.

import { spawn, spawnSync } from "node:child_process";

export interface ExecOptions {
  /** Written to the command's stdin (which is then closed). */
  input?: string | Buffer;
  /** Kill the command (SIGKILL) after this many milliseconds; default 30 s. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing when the exit code is not 0. */
  allowFail?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  readonly argv: readonly string[];
  readonly result: ExecResult;
  constructor(argv: readonly string[], result: ExecResult) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" | ");
    super(`${argv.join(" ")}: exit ${result.code}${detail ? `: ${detail}` : ""}`);
    this.name = "ExecError";
    this.argv = argv;
    this.result = result;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Runs `argv` (no shell) and collects its output. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error("run: empty argv"));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.stdin.on("error", () => {}); // the command may exit without reading its input
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(" ")}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: ExecResult = {
        code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + (timedOut ? "\n(timed out)" : ""),
      };
      if (result.code !== 0 && !opts.allowFail) reject(new ExecError(argv, result));
      else resolve(result);
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** Synchronous `run`, for teardown paths that must not depend on the event loop. */
export function runSync(argv: readonly string[], opts: ExecOptions = {}): ExecResult {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error("runSync: empty argv");
  const r = spawnSync(cmd, args, {
    input: opts.input ?? "",
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    encoding: "utf8",
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error(`${argv.join(" ")}: ${r.error.message}`);
  }
  const result: ExecResult = {
    code: r.status ?? 128 + (r.signal === "SIGKILL" ? 9 : 15),
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error ? `\n${r.error.message}` : ""),
  };
  if (result.code !== 0 && !opts.allowFail) throw new ExecError(argv, result);
  return result;
}

/** `ip netns exec NS argv...`: runs argv (no shell) inside a network namespace. */
export function execInNs(ns: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(["ip", "netns", "exec", ns, ...argv], opts);
}

/** Synchronous `execInNs`. */
export function execInNsSync(ns: string, argv: readonly string[], opts: ExecOptions = {}): ExecResult {
  return runSync(["ip", "netns", "exec", ns, ...argv], opts);
}
