// `sluice classify`: classify the connections in capture files with l7-filter semantics.

import { Command, InvalidArgumentError } from "commander";
import { existsSync } from "node:fs";
import { basename } from "node:path";
import {
  loadPatternDirs,
  loadAppCatalogue,
  catalogueBeside,
  classifyCaptureFile,
  streamCaptureFlows,
  flowClient,
  flowServer,
  type AppCatalogue,
  type CaptureSummary,
  type Flow,
  type FlowRecord,
  type PatternSet,
} from "@sluice/classifier";
import { DEFAULT_PROTOCOLS_DIR } from "./paths.ts";
import { formatTable, humanBytes } from "./format-table.ts";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

interface ClassifyOptions {
  protocols?: string[];
  packets: number;
  bytes: number;
  json?: boolean;
  patterns?: boolean;
  apps?: string;
  dissect?: boolean;
}

export function classifyCommand(): Command {
  return new Command("classify")
    .description("classify the connections in pcap/pcapng captures (l7-filter semantics)")
    .argument("<file...>", "capture files (pcap or pcapng)")
    .option(
      "--protocols <dir>",
      "a directory of .pat files (repeatable; default: Sluice's protocols/)",
      collect,
    )
    .option("--packets <n>", "inspection window: first N packets of a connection", positiveInt, 10)
    .option("--bytes <n>", "inspection window: first N payload bytes of a connection", positiveInt, 2048)
    .option("--json", "one JSON object per line per connection, printed as each connection ends")
    .option("--patterns", "also list which patterns loaded and which were skipped, and why")
    .option(
      "--apps <file>",
      "application catalogue (default: apps/catalogue.json beside the first protocols directory, if any)",
    )
    .option("--no-dissect", "patterns only: no host names (TLS/QUIC/HTTP/DNS dissectors) and no applications")
    .action((files: string[], opts: ClassifyOptions) => {
      process.exitCode = runClassify(files, opts);
    });
}

export function runClassify(files: string[], opts: ClassifyOptions): number {
  const dirs = opts.protocols?.length ? opts.protocols : [DEFAULT_PROTOCOLS_DIR];
  let set: PatternSet;
  try {
    set = loadPatternDirs(dirs);
  } catch (e) {
    process.stderr.write(`sluice classify: ${(e as Error).message}\n`);
    return 2;
  }
  if (opts.patterns || set.skipped.length) {
    const report = opts.patterns
      ? set.report()
      : `${set.size} patterns loaded, ${set.skipped.length} skipped (--patterns says why)`;
    process.stderr.write(`${report}\n`);
  }
  if (set.size === 0) {
    process.stderr.write("sluice classify: no usable pattern loaded\n");
    return 2;
  }
  let apps: AppCatalogue | null = null;
  if (opts.dissect !== false) {
    const path = opts.apps ?? catalogueBeside(dirs[0]!);
    if (opts.apps || existsSync(path)) {
      try {
        apps = loadAppCatalogue(path);
      } catch (e) {
        process.stderr.write(`sluice classify: ${(e as Error).message}\n`);
        return 2;
      }
    }
  }
  let failed = 0;
  const all: FlowRecord[] = [];
  const options = {
    window: { packets: opts.packets, bytes: opts.bytes },
    dissect: opts.dissect !== false,
    apps,
  };
  const out = new LineWriter();
  for (const file of files) {
    // --json streams: a connection is printed when it ends, so memory holds only the live ones.
    const pcap = JSON.stringify(basename(file));
    const s = opts.json
      ? streamCaptureFlows(file, set, options, (f) => out.line(jsonLine(pcap, f)))
      : classifyCaptureFile(file, set, options);
    out.flush();
    if (s.error) {
      failed++;
      const n = "flows" in s ? s.flows.length : s.flowCount;
      process.stderr.write(`sluice classify: ${s.error.file}: at byte ${s.error.offset}: ${s.error.reason}`);
      process.stderr.write(n ? ` (showing the ${n} connections read before it)\n` : "\n");
    }
    if ("flows" in s) {
      printCapture(s);
      all.push(...s.flows);
    }
  }
  if (!opts.json && files.length > 1) {
    process.stdout.write(`\n== all ${files.length} captures ==\n${summaryTable(all)}\n`);
  }
  return failed ? 1 : 0;
}

/** JSON text of names (protocols, apps, categories): few distinct ones, each escaped once. */
const quoted = new Map<string, string>();
function q(s: string | null): string {
  if (s === null) return "null";
  let j = quoted.get(s);
  if (j === undefined) {
    j = JSON.stringify(s);
    if (quoted.size < 4096) quoted.set(s, j);
  }
  return j;
}

/**
 * One connection's JSON line, written straight from the flow (the same text as
 * `JSON.stringify` of its record's fields, in this order; addresses and ports need no
 * escaping).
 */
export function jsonLine(pcap: string, f: Flow): string {
  return (
    `{"pcap":${pcap},"l4":"${f.l4}","client":"${flowClient(f)}","server":"${flowServer(f)}",` +
    `"protocol":${q(f.protocol)},"packets":${f.packets},"bytes":${f.bytes},` +
    `"hostname":${f.hostname === null ? "null" : JSON.stringify(f.hostname)},` +
    `"app":${q(f.app)},"category":${q(f.category)}}`
  );
}

/**
 * Lines to stdout in blocks of 64 KiB: one write per block, not per connection. Each line
 * is encoded straight into the block (no string concatenated per line, none converted
 * again at the write); a block handed to `write` is never reused.
 */
class LineWriter {
  private static readonly BLOCK = 65536;
  private buf = Buffer.allocUnsafe(LineWriter.BLOCK);
  private used = 0;
  line(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.used + 3 * s.length + 1 > this.buf.length) {
      this.flush();
      if (3 * s.length + 1 > this.buf.length) {
        process.stdout.write(s + "\n");
        return;
      }
    }
    this.used += this.buf.write(s, this.used);
    this.buf[this.used++] = 0x0a;
  }
  flush(): void {
    if (!this.used) return;
    process.stdout.write(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(LineWriter.BLOCK);
    this.used = 0;
  }
}

function printCapture(s: CaptureSummary): void {
  const skipped = Object.entries(s.skipped)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  process.stdout.write(
    `== ${s.pcap} (${s.format ?? "?"}): ${s.frames} frames, ${s.flows.length} connections${skipped ? `; not classified: ${skipped}` : ""}\n`,
  );
  if (s.flows.length === 0) {
    process.stdout.write("(no TCP or UDP connections)\n");
    return;
  }
  const rows = s.flows.map((f) => [
    f.l4,
    f.client,
    f.server,
    f.protocol,
    f.packets,
    f.bytes,
    f.hostname ?? "-",
    f.app ?? "-",
    f.category ?? "-",
  ]);
  process.stdout.write(
    formatTable(
      ["l4", "client", "server", "protocol", "packets", "bytes", "hostname", "app", "category"],
      rows,
      ["left", "left", "left", "left", "right", "right", "left", "left", "left"],
    ) + "\n\n",
  );
  process.stdout.write(summaryTable(s.flows) + "\n");
}

function summaryTable(flows: FlowRecord[]): string {
  const by = new Map<string, { conns: number; packets: number; bytes: number }>();
  let total = 0;
  for (const f of flows) {
    const e = by.get(f.protocol) ?? { conns: 0, packets: 0, bytes: 0 };
    e.conns++;
    e.packets += f.packets;
    e.bytes += f.bytes;
    total += f.bytes;
    by.set(f.protocol, e);
  }
  const rows = [...by.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([p, e]) => [
      p,
      e.conns,
      e.packets,
      humanBytes(e.bytes),
      total ? `${((100 * e.bytes) / total).toFixed(1)}%` : "-",
    ]);
  return formatTable(["protocol", "connections", "packets", "bytes", "share"], rows, [
    "left",
    "right",
    "right",
    "right",
    "right",
  ]);
}
