// Standalone data plane: `node run-data-plane.ts --queues 0:1 --protocols DIR` serves the
// queues until SIGTERM/SIGINT, then stops cleanly (exit 0). SIGHUP reloads the patterns.
// stdout carries JSON lines: {"event":"ready",...}, {"event":"flow",...} per decided flow
// (with --events), {"event":"stats",...} (with --stats-every MS), {"event":"stopped",...}.
// Logs go to stderr. Run it in the routing namespace, e.g. `ip netns exec NS node ...`.

import { parseArgs } from "node:util";
import { DataPlane, type DataPlaneOptions } from "./data-plane.ts";
import type { QueueIoMode } from "./queue-io.ts";

const USAGE = `usage: node run-data-plane.ts --queues FIRST:LAST|N[,N...] --protocols DIR [--protocols DIR...]
  [--mask 0xff00] [--shift 8] [--copy-range N] [--window-packets 10] [--window-bytes 2048]
  [--maxlen 4096] [--rcvbuf BYTES] [--no-fail-open] [--io fast|libnfq] [--batch 64] [--events]
  [--stats-every MS]`;

function parseQueues(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?::(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad queue list "${text}"`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new Error(`bad queue range "${part}"`);
    for (let q = a; q <= b; q++) out.push(q);
  }
  return out;
}

function num(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${text}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      queues: { type: "string" },
      protocols: { type: "string", multiple: true },
      mask: { type: "string" },
      shift: { type: "string" },
      "copy-range": { type: "string" },
      "window-packets": { type: "string" },
      "window-bytes": { type: "string" },
      maxlen: { type: "string" },
      rcvbuf: { type: "string" },
      "no-fail-open": { type: "boolean" },
      io: { type: "string" },
      batch: { type: "string" },
      events: { type: "boolean" },
      "stats-every": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.queues || !values.protocols?.length) {
    console.error(USAGE);
    return 2;
  }
  const out = (obj: object) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  const window: DataPlaneOptions["window"] = {};
  const wp = num(values["window-packets"], "window-packets");
  const wb = num(values["window-bytes"], "window-bytes");
  if (wp !== undefined) window.packets = wp;
  if (wb !== undefined) window.bytes = wb;
  if (values.io !== undefined && values.io !== "fast" && values.io !== "libnfq")
    throw new Error("--io: fast or libnfq");
  const opts: DataPlaneOptions = {
    queues: parseQueues(values.queues),
    protocolDirs: values.protocols,
    window,
    mask: num(values.mask, "mask"),
    shift: num(values.shift, "shift"),
    copyRange: num(values["copy-range"], "copy-range"),
    maxlen: num(values.maxlen, "maxlen"),
    rcvbufBytes: num(values.rcvbuf, "rcvbuf"),
    failOpen: !values["no-fail-open"],
    io: values.io as QueueIoMode | undefined,
    batch: num(values.batch, "batch"),
    onLog: (level, msg) => process.stderr.write(`${level}: ${msg}\n`),
  };
  if (values.events) opts.onFlowDecided = (ev) => out({ event: "flow", ...ev });

  const dp = await DataPlane.start(opts);
  out({ event: "ready", pid: process.pid, queues: opts.queues });

  const statsEvery = num(values["stats-every"], "stats-every");
  const timer = statsEvery
    ? setInterval(() => out({ event: "stats", ...dp.stats().total }), statsEvery)
    : null;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      if (timer) clearInterval(timer);
      process.stderr.write(`info: ${sig}: stopping\n`);
      dp.stop().then(
        () => {
          out({ event: "stopped", ...dp.stats().total });
          resolve(0);
        },
        (e: Error) => {
          process.stderr.write(`error: stopping: ${e.message}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGHUP", () => {
      dp.reload(opts.protocolDirs).then(
        () => out({ event: "reloaded" }),
        (e: Error) => process.stderr.write(`error: reload: ${e.message}\n`),
      );
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  },
);
