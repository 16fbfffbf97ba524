// One data-plane worker thread: serves one NFQUEUE queue with its own flow table. The
// kernel's --queue-balance hash keeps both directions of a flow on the same queue, so the
// flow tables are not shared; the DNS cache is (through the main thread), since a lookup
// and the connection after it hash to different queues. Counters and decided-flow events
// go to the main thread in batches.

import { parentPort, workerData } from "node:worker_threads";
import { existsSync, readFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import {
  loadPatternDirs,
  loadAppCatalogue,
  catalogueBeside,
  type AppCatalogue,
  type Matcher,
  type PatternSet,
  type Transport,
  type WindowOptions,
} from "@sluice/classifier";
import { NfQueue, type NfQueueOptions } from "./queue-io.ts";
import { PacketClassifier } from "./packet-classifier.ts";
import { restoreAfterLoading, threadNice } from "./thread-priority.ts";
import type { PacketView } from "./netlink.ts";
import type { KernelQueueStats, QueueStats, Routing, ToMain, ToWorker } from "./messages.ts";

export interface WorkerInit {
  queue: NfQueueOptions;
  protocolDirs: string[];
  window: WindowOptions;
  maxFlows: number;
  routing: Routing;
  statsIntervalMs: number;
  eventsPerInterval: number;
}

/** A pattern set that can be swapped under a live flow table (flows keep their state). */
class SwappableMatcher implements Matcher {
  current: PatternSet;
  constructor(ps: PatternSet) {
    this.current = ps;
  }
  match(subject: Buffer | string, transport: Transport, seen?: number) {
    return this.current.match(subject, transport, seen);
  }
}

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: ToMain) => port.postMessage(m);
const log = (level: "info" | "warn" | "error", msg: string) => post({ type: "log", level, msg });

function readKernelStats(queue: number): KernelQueueStats | null {
  // queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped id_sequence 1
  try {
    for (const line of readFileSync("/proc/net/netfilter/nfnetlink_queue", "latin1").split("\n")) {
      const f = line.trim().split(/\s+/).map(Number);
      if (f.length >= 8 && f[0] === queue)
        return { waiting: f[2]!, queueDropped: f[5]!, userDropped: f[6]!, idSequence: f[7]! };
    }
  } catch {
    // not mounted / not readable: leave it out
  }
  return null;
}

/** The application catalogue beside the protocols (protocols/apps/catalogue.json), if any. */
function loadApps(protocolDirs: readonly string[]): AppCatalogue | null {
  const path = catalogueBeside(protocolDirs[0] ?? "");
  if (!existsSync(path)) return null;
  try {
    return loadAppCatalogue(path);
  } catch (e) {
    log("warn", `queue ${init.queue.queue}: ${(e as Error).message}; flows get no application`);
    return null;
  }
}

function main(): void {
  let patterns: PatternSet;
  try {
    patterns = loadPatternDirs(init.protocolDirs);
  } catch (e) {
    post({ type: "error", queue: init.queue.queue, error: `loading patterns: ${(e as Error).message}` });
    return;
  }
  const matcher = new SwappableMatcher(patterns);
  const queueNum = init.queue.queue;
  const pc = new PacketClassifier({
    queue: queueNum,
    matcher,
    window: init.window,
    maxFlows: init.maxFlows,
    maxEvents: init.eventsPerInterval,
    routing: init.routing,
    apps: loadApps(init.protocolDirs),
    onError: (msg) => log("error", msg),
    // at once, not with the stats: the reply is held until the answer comes
    onMedia: (request) => post({ type: "media", request }),
  });
  const dnsCache = pc.dnsCache;
  // Seconds, refreshed once per received batch.
  const beforeBatch = () => pc.setTime(Date.now() / 1000);
  beforeBatch();
  const handler = (p: PacketView, buf: Buffer): number => pc.handle(p, buf);

  let q: NfQueue;
  try {
    q = NfQueue.open(init.queue, handler, log, beforeBatch);
  } catch (e) {
    post({ type: "error", queue: queueNum, error: (e as Error).message });
    return;
  }

  const snapshot = (): QueueStats => {
    const ts = pc.table.stats();
    return {
      queue: queueNum,
      ...pc.counters,
      verdicts: { ...pc.verdicts },
      io: { ...q.stats },
      flows: {
        active: pc.activeFlows,
        inspecting: ts.inspecting,
        created: ts.created,
        fastPath: pc.decidedFlows.size,
      },
      kernel: readKernelStats(queueNum),
      patterns: matcher.current.size,
      dns: { entries: dnsCache.size, learned: dnsCache.learned, hits: dnsCache.hits },
      apps: pc.table.apps?.size ?? 0,
      heap: (({ used_heap_size, total_heap_size }) => ({ used: used_heap_size, total: total_heap_size }))(
        getHeapStatistics(),
      ),
    };
  };

  let lastPost = Date.now();
  const flushStats = (force: boolean) => {
    const t = Date.now();
    if (!force && t - lastPost < init.statsIntervalMs) return;
    lastPost = t;
    post({ type: "stats", stats: snapshot(), events: pc.takeEvents() });
    const learned = dnsCache.drain();
    if (learned.length) post({ type: "dns", queue: queueNum, entries: learned });
  };

  let running = true;
  let stopRequested = false;
  port.on("message", (m: ToWorker) => {
    if (m.type === "stop") {
      running = false;
      stopRequested = true;
    } else if (m.type === "routing") {
      pc.setRouting(m.routing);
    } else if (m.type === "media-ready") {
      pc.mediaReady(m.key);
    } else if (m.type === "dns") {
      dnsCache.apply(m.entries, Date.now() / 1000);
    } else if (m.type === "reload") {
      try {
        const ps = loadPatternDirs(m.protocolDirs);
        matcher.current = ps;
        pc.patternsChanged(loadApps(m.protocolDirs));
        post({ type: "reloaded", id: m.id, queue: queueNum, patterns: ps.size, skipped: ps.skipped.length });
      } catch (e) {
        post({ type: "reload-error", id: m.id, queue: queueNum, error: (e as Error).message });
      }
    }
  });

  restoreAfterLoading();
  post({
    type: "ready",
    queue: queueNum,
    patterns: patterns.size,
    skipped: patterns.skipped.length,
    nice: threadNice(),
  });

  // The loop: receive (blocking up to waitMs for the first packet) and handle packets in
  // slices of at most SLICE_MS, then give the event loop a turn (stop/reload messages,
  // stats) and go on.
  const SLICE_MS = 20;
  const pump = () => {
    if (!running) return shutdown();
    const start = Date.now();
    for (;;) {
      const n = q.pump(16, true);
      if (n === 0 || Date.now() - start >= SLICE_MS) break;
    }
    flushStats(false);
    setImmediate(pump);
  };
  const shutdown = () => {
    // The kernel's counters disappear with the queue: read them first.
    const kernel = readKernelStats(queueNum);
    try {
      q.close();
    } catch (e) {
      log("error", `closing queue ${queueNum}: ${(e as Error).message}`);
    }
    post({ type: "stopped", stats: { ...snapshot(), kernel }, events: pc.takeEvents() });
    if (stopRequested) port.close();
  };
  setImmediate(pump);
}

main();
