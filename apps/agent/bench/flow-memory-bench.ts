// Memory per flow in a data-plane worker, without a kernel: the worker's own packet path
// (PacketClassifier: flow table, decided-flow records) fed 64-byte one-way UDP packets of
// many flows, round-robin as the scale bench's generator sends them, in a worker thread
// with the data plane's resource limits. Prints V8 heap (used/total), off-heap buffers and
// the process's resident set at three points: every flow in the middle of its window,
// every flow just decided, and after a GC. Env: FLOWS (100000), PACKETS per flow (12),
// WINDOW packets (10), SNAP (a path: a heap snapshot of the worker with every flow in the
// middle of its window). Run: node --expose-gc apps/agent/bench/flow-memory-bench.ts

import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { catalogueBeside, loadAppCatalogue, loadPatternDirs, subjectArena } from "@sluice/classifier";
import { markFields } from "@sluice/policy";
import { PacketClassifier } from "../src/nfqueue/packet-classifier.ts";

const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const FLOWS = Number(process.env.FLOWS ?? 100_000);
const PACKETS = Number(process.env.PACKETS ?? 12);
const WINDOW = Number(process.env.WINDOW ?? 10);
const MB = 1024 * 1024;

interface Point {
  label: string;
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
  tracked: number;
  inTable: number;
  arena: number;
}

if (isMainThread && !(globalThis as { gc?: unknown }).gc) {
  console.log("flow memory bench: run with node --expose-gc");
  process.exit(2);
}
if (isMainThread) {
  const rss0 = process.memoryUsage().rss;
  const w = new Worker(fileURLToPath(import.meta.url), {
    workerData: { rss0 },
    resourceLimits: { maxYoungGenerationSizeMb: Number(process.env.YOUNG_MB ?? 8) },
  });
  const points: Point[] = [];
  w.on("message", (p: Point) => points.push(p));
  await new Promise((r) => w.once("exit", r));
  console.log(
    `flow memory bench: ${FLOWS.toLocaleString("en-US")} one-way UDP flows, ${PACKETS} packets each ` +
      `(window ${WINDOW}); process RSS before the worker ${(rss0 / MB).toFixed(0)} MB`,
  );
  const base = points[0]!;
  for (const p of points) {
    const per = (n: number, b: number) => (p === base ? "" : ` (${Math.round((n - b) / FLOWS)} B/flow)`);
    console.log(
      `  ${p.label.padEnd(34)} heap used ${(p.heapUsed / MB).toFixed(1)} MB${per(p.heapUsed, base.heapUsed)}, ` +
        `heap total ${(p.heapTotal / MB).toFixed(1)} MB, off-heap ${(p.external / MB).toFixed(1)} MB, ` +
        `RSS ${(p.rss / MB).toFixed(0)} MB${per(p.rss, base.rss)}; ${p.tracked} flows tracked, ${p.inTable} in the table; subject arena ${(p.arena / MB).toFixed(1)} MB`,
    );
  }
} else {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const post = (label: string, pc: PacketClassifier) => {
    gc();
    const h = getHeapStatistics();
    const m = process.memoryUsage();
    parentPort!.postMessage({
      label,
      heapUsed: h.used_heap_size,
      heapTotal: h.total_heap_size,
      external: h.external_memory,
      rss: m.rss - (workerData as { rss0: number }).rss0,
      tracked: pc.activeFlows,
      inTable: pc.table.size,
      arena: subjectArena.slabBytes,
    } satisfies Point);
  };
  const { mask, shift, app, host } = (() => {
    const f = markFields();
    return { mask: f.protocol.mask, shift: f.protocol.shift, app: f.app, host: f.host };
  })();
  const pc = new PacketClassifier({
    queue: 0,
    matcher: loadPatternDirs([PROTOCOLS]),
    window: { packets: WINDOW, bytes: 2048 },
    maxFlows: 2 * FLOWS,
    routing: { mask, shift, app, host, hostRules: [] },
    apps: loadAppCatalogue(catalogueBeside(PROTOCOLS)),
  });
  // 20-byte IPv4 header, 8-byte UDP header, 18 bytes of 'x' (as udp-flows.c sends).
  const pkt = Buffer.alloc(46, 0x78);
  pkt[0] = 0x45;
  pkt.writeUInt16BE(46, 2);
  pkt[6] = 0x40;
  pkt[7] = 0;
  pkt[8] = 64;
  pkt[9] = 17;
  pkt.set([10, 0, 0, 2, 10, 0, 1, 2], 12);
  pkt.writeUInt16BE(5000, 22);
  pkt.writeUInt16BE(26, 24);
  const view = { mark: 0, payloadOffset: 0, payloadLength: 46 };
  post("start", pc);
  const round = (n: number) => {
    // A fractional clock, as the worker's (Date.now() / 1000).
    pc.setTime(1000.37 + n);
    for (let i = 0; i < FLOWS; i++) {
      // Client 10.0.<i / 50000>.x: 50,000 source ports per address.
      pkt[14] = Math.floor(i / 50_000);
      pkt.writeUInt16BE(10_000 + (i % 50_000), 20);
      pc.handle(view, pkt);
      // The worker posts its decided-flow events to the main thread every 250 ms.
      if ((i & 4095) === 0) pc.takeEvents();
    }
    pc.takeEvents();
  };
  for (let n = 0; n < PACKETS; n++) {
    round(n);
    if (n === (WINDOW >> 1) - 1) post(`every flow at packet ${n + 1} (inspecting)`, pc);
    if (n === (WINDOW >> 1) - 1 && process.env.SNAP) writeHeapSnapshot(process.env.SNAP);
    if (n === WINDOW - 1) post(`every flow decided (packet ${n + 1})`, pc);
  }
  post(`after packet ${PACKETS}`, pc);
}
