// `sluice classify --json` against Debian's ndpiReader (package libndpi-bin) on the same
// capture: the nDPI corpus's Ethernet pcaps concatenated COPIES times with shifted
// addresses (bench/ndpi-capture.ts), at two sizes: ×10 (~0.4 M packets, a few seconds,
// where start-up and warm-up weigh) and ×100 (~4 M packets, ~1.6 GB, ~260k flows: the
// steady state of a long capture). Both tools read the same file as whole processes,
// alternating, ROUNDS times each; start-up (the same command on an empty capture) is
// subtracted from the median time. Peak memory is each process's maximum resident set
// (GNU time's %M). BENCH_COPIES=10,100 picks the sizes, BENCH_ROUNDS the runs per size
// (default 5 for ×10, 3 above).
// Run: npm run bench, or node packages/classifier/bench/vs-ndpi.ts

import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConcatenatedCapture, writeEmptyCapture } from "./ndpi-capture.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CORPUS = join(ROOT, "../shared/corpus/ndpi");
const SLUICE = join(ROOT, "apps/agent/bin/sluice");
const NDPI = "/usr/bin/ndpiReader";
const TIME = "/usr/bin/time";
const SIZES = (process.env.BENCH_COPIES ?? "10,100").split(",").map(Number);
const roundsFor = (copies: number) => Number(process.env.BENCH_ROUNDS ?? (copies <= 10 ? 5 : 3));

function skip(why: string): never {
  console.log(`sluice vs ndpiReader bench skipped: ${why}`);
  process.exit(0);
}
if (!existsSync(join(CORPUS, "index.json"))) skip(`${CORPUS} not present`);
if (!existsSync(NDPI)) skip(`${NDPI} not installed (apt-get install libndpi-bin; ./dev setup does it)`);
if (!existsSync(TIME)) skip(`${TIME} not installed (apt-get install time; ./dev setup does it)`);

interface Sample {
  wall: number;
  cpu: number;
  /** Peak resident set, bytes. */
  rss: number;
  /** Bytes the command wrote to stdout. */
  out: number;
  /** Lines it wrote (Sluice: one per flow), counted on the first run only. */
  lines: number;
}

function countNewlines(file: string): number {
  const buf = readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

const dir = mkdtempSync(join(tmpdir(), "sluice-vs-ndpi-"));
try {
  const empty = join(dir, "empty.pcap");
  writeEmptyCapture(empty);

  const tools: Record<"sluice" | "ndpi", (file: string) => string[]> = {
    sluice: (file) => [SLUICE, "classify", "--json", file],
    ndpi: (file) => [NDPI, "-i", file, "-q"],
  };

  const runOnce = (argv: string[], countLines: boolean): Sample => {
    const timing = join(dir, "time.txt");
    const outFile = join(dir, "out.txt");
    const fd = openSync(outFile, "w");
    const r = spawnSync(TIME, ["-f", "%e %U %S %M", "-o", timing, ...argv], {
      stdio: ["ignore", fd, "pipe"],
      encoding: "utf8",
    });
    closeSync(fd);
    if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
    const [wall, user, sys, kb] = readFileSync(timing, "utf8")
      .trim()
      .split("\n")
      .at(-1)!
      .split(" ")
      .map(Number);
    return {
      wall: wall!,
      cpu: user! + sys!,
      rss: kb! * 1024,
      out: statSync(outFile).size,
      lines: countLines ? countNewlines(outFile) : 0,
    };
  };

  for (const copies of SIZES) {
    const capture = join(dir, `corpus-x${copies}.pcap`);
    const built = buildConcatenatedCapture(CORPUS, copies, capture);
    const rounds = roundsFor(copies);
    const samples = {
      sluice: { full: [] as Sample[], empty: [] as Sample[] },
      ndpi: { full: [] as Sample[], empty: [] as Sample[] },
    };
    for (let i = 0; i < rounds; i++) {
      // Alternate which tool goes first, so that neither always gets the warmer machine.
      const order: ("sluice" | "ndpi")[] = i % 2 ? ["ndpi", "sluice"] : ["sluice", "ndpi"];
      for (const t of order) {
        samples[t].full.push(runOnce(tools[t](capture), i === 0));
        samples[t].empty.push(runOnce(tools[t](empty), false));
      }
    }

    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    const summary = (t: "sluice" | "ndpi") => {
      const s = samples[t];
      const wall = median(s.full.map((x) => x.wall)) - median(s.empty.map((x) => x.wall));
      const cpu = median(s.full.map((x) => x.cpu)) - median(s.empty.map((x) => x.cpu));
      return {
        wall,
        cpu,
        pps: built.packets / Math.max(wall, 1e-3),
        rss: median(s.full.map((x) => x.rss)),
        rssEmpty: median(s.empty.map((x) => x.rss)),
        startup: median(s.empty.map((x) => x.wall)),
      };
    };
    const sl = summary("sluice");
    const nd = summary("ndpi");
    const flows = samples.sluice.full[0]!.lines;
    const mb = (b: number) => (b / 1048576).toFixed(0);

    console.log(
      `sluice classify vs ndpiReader: ${built.packets} packets (${built.captures} Ethernet pcaps × ${copies}, shifted addresses), ${flows} flows by Sluice`,
    );
    console.log(
      `median of ${rounds} alternating runs, start-up (empty capture) subtracted; load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`,
    );
    console.log("tool                          kpps (wall)   CPU s   start-up s   peak RSS MB (empty)");
    for (const [name, s] of [
      ["sluice classify --json", sl],
      ["ndpiReader -i FILE -q", nd],
    ] as const) {
      console.log(
        `${name.padEnd(28)}  ${(s.pps / 1000).toFixed(0).padStart(11)}  ${s.cpu.toFixed(2).padStart(6)}  ${s.startup.toFixed(2).padStart(11)}  ${mb(s.rss).padStart(10)} (${mb(s.rssEmpty)})`,
      );
    }
    console.log(`ratio packets/s Sluice ÷ ndpiReader (wall): ${(sl.pps / nd.pps).toFixed(2)}× (goal ≥ 1.0)`);
    console.log(
      `ratio CPU time Sluice ÷ ndpiReader:        ${(sl.cpu / Math.max(nd.cpu, 1e-3)).toFixed(2)}×`,
    );
    console.log(`ratio peak memory Sluice ÷ ndpiReader:     ${(sl.rss / nd.rss).toFixed(2)}× (goal ≤ 1.0)`);
    rmSync(capture, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
