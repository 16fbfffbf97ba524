// Small helpers shared by the lab's servers and traffic generators.

import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { Writable } from "node:stream";

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function randInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

export function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)]!;
}

/** 256 KB of random (incompressible) bytes, sliced for payloads. */
export const NOISE = randomBytes(256 * 1024);

export function noise(len: number): Buffer {
  if (len <= NOISE.length) {
    const off = randInt(0, NOISE.length - len);
    return NOISE.subarray(off, off + len);
  }
  return randomBytes(len);
}

/** One line to stdout (the process's log file), timestamped. */
export function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

const lastLogged = new Map<string, { at: number; suppressed: number }>();

/** Like `log`, at most once per `everyMs` per key (errors in a loop must not fill /run). */
export function logRare(key: string, msg: string, everyMs = 10_000): void {
  const now = Date.now();
  const l = lastLogged.get(key);
  if (l && now - l.at < everyMs) {
    l.suppressed++;
    return;
  }
  log(l?.suppressed ? `${msg} (+${l.suppressed} similar)` : msg);
  lastLogged.set(key, { at: now, suppressed: 0 });
}

export function errText(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message;
  return String(e);
}

/** Exponential backoff with jitter, for loops that must never spin on errors. */
export class Backoff {
  private delay: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  constructor(minMs = 500, maxMs = 15_000) {
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.delay = minMs;
  }
  /** Sleeps the current delay (±25%), then doubles it up to the maximum. */
  async fail(): Promise<void> {
    const d = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, this.maxMs);
    await sleep(d);
  }
  ok(): void {
    this.delay = this.minMs;
  }
}

/**
 * A token bucket in bits per second. `take(n)` resolves when n bytes may be sent.
 * Infinity (or 0) means unpaced: the sender is limited only by TCP (and whatever
 * the box's shaping allows).
 */
export class Pacer {
  readonly bytesPerSec: number;
  private tokens: number;
  private readonly burst: number;
  private last = Date.now();
  constructor(bitsPerSec: number) {
    this.bytesPerSec = bitsPerSec > 0 ? bitsPerSec / 8 : Infinity;
    this.burst = Number.isFinite(this.bytesPerSec) ? Math.max(32 * 1024, this.bytesPerSec / 20) : Infinity;
    this.tokens = Number.isFinite(this.burst) ? this.burst : 0;
  }
  get paced(): boolean {
    return Number.isFinite(this.bytesPerSec);
  }
  async take(n: number): Promise<void> {
    if (!this.paced) return;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSec);
      this.last = now;
      if (this.tokens >= n) {
        this.tokens -= n;
        return;
      }
      await sleep(Math.max(5, ((n - this.tokens) / this.bytesPerSec) * 1000));
    }
  }
}

/** Writes and waits for 'drain' when the socket's buffer is full; rejects if it closes. */
export function writeAsync(sock: Writable, data: Buffer | string): Promise<void> {
  if (sock.destroyed || sock.writableEnded) return Promise.reject(new Error("socket closed"));
  if (sock.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      sock.off("drain", onDrain);
      sock.off("close", onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error("socket closed"));
    };
    sock.on("drain", onDrain);
    sock.on("close", onClose);
  });
}

/** Streams `total` bytes of noise through the pacer (chunks of `chunk` bytes). */
export async function streamNoise(
  sock: Writable,
  total: number,
  pacer: Pacer,
  chunk = 16 * 1024,
): Promise<void> {
  let left = total;
  while (left > 0 && !sock.destroyed) {
    const n = Math.min(chunk, left);
    await pacer.take(n);
    await writeAsync(sock, noise(n));
    left -= n;
  }
}

/**
 * Pull-style reads from a socket: exact byte counts and lines, each with a timeout.
 * Rejects once the socket ends or errors with fewer bytes than asked for.
 */
export class SocketReader {
  private buf: Buffer = Buffer.alloc(0);
  private done: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly sock: Socket;
  private readonly onData = (d: Buffer) => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.notify();
  };
  constructor(sock: Socket) {
    this.sock = sock;
    sock.on("data", this.onData);
    sock.on("end", () => this.finish(new Error("connection closed by peer")));
    sock.on("close", () => this.finish(new Error("connection closed")));
    sock.on("error", (e) => this.finish(e));
  }
  /** Stops buffering (the caller takes over 'data'); returns what was buffered. */
  release(): Buffer {
    this.sock.off("data", this.onData);
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
  private finish(e: Error) {
    this.done ??= e;
    this.notify();
  }
  private notify() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  get buffered(): number {
    return this.buf.length;
  }
  private async wait(ready: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.done) throw this.done;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("read timed out");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }
  async exact(n: number, timeoutMs = 15_000): Promise<Buffer> {
    await this.wait(() => this.buf.length >= n, timeoutMs);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Bytes up to and including the next `delim` byte (returned without it). */
  async until(delim: number, maxLen = 4096, timeoutMs = 15_000): Promise<Buffer> {
    let at = -1;
    await this.wait(() => {
      at = this.buf.indexOf(delim);
      if (at < 0 && this.buf.length > maxLen) throw new Error("delimited read too long");
      return at >= 0;
    }, timeoutMs);
    const out = this.buf.subarray(0, at);
    this.buf = this.buf.subarray(at + 1);
    return out;
  }
  /** A text line (LF or CRLF ended), without its end. */
  async line(maxLen = 4096, timeoutMs = 15_000): Promise<string> {
    return (await this.until(0x0a, maxLen, timeoutMs)).toString("latin1").replace(/\r$/, "");
  }
}
