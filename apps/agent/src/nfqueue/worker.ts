// One data-plane worker thread: serves one NFQUEUE queue with its own flow table. The
// kernel's --queue-balance hash keeps both directions of a flow on the same queue, so the
// flow tables are not shared; the DNS cache is (through the main thread), since a lookup
// and the connection after it hash to different queues. Counters and decided-flow events
// go to the main thread in batches.

import { parentPort, workerData } from "node:worker_threads";
import { existsSync, readFileSync } from "node:fs";
import { HostnameRules } from "@sluice/policy";
import {
  FlowTable,
  PacketSlot,
  decodeIpPacketInto,
  flowClient,
  flowServer,
  loadPatternDirs,
  loadAppCatalogue,
  catalogueBeside,
  type AppCatalogue,
  type Flow,
  type Matcher,
  type PatternSet,
  type Transport,
  type WindowOptions,
} from "@sluice/classifier";
import { NfQueue, type NfQueueOptions } from "./queue-io.ts";
import { DecidedFlowCache } from "./flow-cache.ts";
import type { PacketView } from "./netlink.ts";
import { SharedDnsCache, dnsAnswerOffset } from "./shared-dns-cache.ts";

/** l7 mark of "unknown" (packages/classifier's MARK_UNKNOWN). */
const MARK_UNKNOWN = 2;
import type {
  FlowDecidedEvent,
  KernelQueueStats,
  QueueStats,
  Routing,
  ToMain,
  ToWorker,
} from "./messages.ts";

export interface WorkerInit {
  queue: NfQueueOptions;
  protocolDirs: string[];
  window: WindowOptions;
  maxFlows: number;
  routing: Routing;
  statsIntervalMs: number;
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
  const dnsCache = new SharedDnsCache();
  const table = new FlowTable(matcher, {
    window: init.window,
    maxFlows: init.maxFlows,
    apps: loadApps(init.protocolDirs),
    dnsCache,
  });
  const queueNum = init.queue.queue;

  // The mark fields, and which hostname rule a flow matches. A new routing (an apply)
  // bumps `generation`: decided flows recompute their bits on their next packet.
  let r: Routing = init.routing;
  let hostnames = new HostnameRules([]);
  let keep = 0;
  let generation = 0;
  const setRouting = (next: Routing) => {
    r = next;
    hostnames = new HostnameRules(next.hostRules.map((h) => h.glob));
    keep = ~(next.mask | next.app.mask | next.host.mask) >>> 0;
    generation++;
  };
  setRouting(init.routing);
  const routed = new WeakMap<Flow, { generation: number; bits: number; hostRule: number }>();
  const route = (flow: Flow) => {
    const known = routed.get(flow);
    if (known && known.generation === generation) return known;
    let bits = (flow.mark << r.shift) & r.mask;
    let hostRule = 0;
    if (flow.verdict !== "unset") {
      if (flow.appId) bits |= (flow.appId << r.app.shift) & r.app.mask;
      if (flow.hostname) {
        const i = hostnames.first(flow.hostname);
        if (i >= 0) {
          hostRule = r.hostRules[i]!.id;
          bits |= (hostRule << r.host.shift) & r.host.mask;
        }
      }
    }
    const v = { generation, bits: bits >>> 0, hostRule };
    // Only decided flows keep their bits: an inspected flow's change with every packet.
    if (flow.verdict !== "unset") routed.set(flow, v);
    return v;
  };

  const counters = {
    packets: 0,
    bytes: 0,
    passthrough: 0,
    decided: 0,
    late: 0,
    errors: 0,
  };
  const verdicts: Record<number, number> = {};
  let events: FlowDecidedEvent[] = [];

  // Flows with a verdict skip decode and flow-table update (see flow-cache.ts).
  const cache = new DecidedFlowCache();
  // One decoded packet for every queued one: the flow table keeps nothing of it.
  const slot = new PacketSlot();
  table.onFlowEnd = (flow) => cache.drop(flow);
  // Seconds, refreshed once per received batch.
  let now = Date.now() / 1000;
  const beforeBatch = () => {
    now = Date.now() / 1000;
  };

  const handler = (p: PacketView, buf: Buffer): number => {
    counters.packets++;
    const off = p.payloadOffset;
    const len = p.payloadLength;
    // A DNS answer (queued by its own rule, whatever its flow's state) names later flows.
    let dnsAnswer = false;
    if (buf[off + 9] === 17 || buf[off + 6] === 17) {
      dnsAnswer = dnsAnswerOffset(buf, off, len) >= 0;
      if (dnsAnswer) dnsCache.learnFromPacket(buf, off, len, now);
    }
    // The kernel's late rule: an undecided connection past its window comes with the
    // protocol field already "unknown" (see render/iptables.ts). DNS answers are queued
    // before that rule, whatever their mark says.
    const late = !dnsAnswer && (p.mark & r.mask) >>> r.shift === MARK_UNKNOWN;
    let ipLength = len;
    if (len >= 20) {
      const v = buf[off]! >> 4;
      if (v === 4) ipLength = buf.readUInt16BE(off + 2);
      else if (v === 6 && len >= 40) ipLength = 40 + buf.readUInt16BE(off + 4);
    }
    counters.bytes += ipLength;
    const key = len >= 28 ? DecidedFlowCache.key(buf, off, len) : null;
    let flow = key === null ? undefined : cache.get(key);
    if (flow) {
      flow.packets++;
      flow.bytes += ipLength;
      if (now > flow.lastSeen) flow.lastSeen = now;
    } else {
      if (decodeIpPacketInto(buf.subarray(off, off + len), slot) !== null) {
        counters.passthrough++;
        return p.mark;
      }
      let o: ReturnType<FlowTable["observe"]>;
      try {
        o = table.observe(slot, now);
      } catch (e) {
        // A classifier bug must not take the queue down: pass the packet, say so (rarely).
        if (counters.errors++ < 5)
          log("error", `queue ${queueNum}: classifying a packet: ${(e as Error).stack}`);
        return p.mark;
      }
      flow = o.flow;
      let decided = o.decided;
      if (!decided && late && table.conclude(flow, now)) {
        decided = true;
        counters.late++;
      }
      if (decided) {
        counters.decided++;
        const v = route(flow);
        events.push({
          queue: queueNum,
          time: now,
          l4: flow.l4,
          client: flowClient(flow),
          server: flowServer(flow),
          protocol: flow.protocol,
          mark: flow.mark,
          decidedAtPacket: flow.decidedAtPacket ?? flow.packets,
          hostname: flow.hostname,
          app: flow.app,
          category: flow.category,
          hostRule: v.hostRule,
          markBits: v.bits,
        });
      }
      if (key !== null && flow.inspection === null) cache.add(key, flow);
    }
    const m = flow.mark;
    verdicts[m] = (verdicts[m] ?? 0) + 1;
    return ((p.mark & keep) | route(flow).bits) >>> 0;
  };

  let q: NfQueue;
  try {
    q = NfQueue.open(init.queue, handler, log, beforeBatch);
  } catch (e) {
    post({ type: "error", queue: queueNum, error: (e as Error).message });
    return;
  }

  const snapshot = (): QueueStats => {
    const ts = table.stats();
    return {
      queue: queueNum,
      ...counters,
      verdicts: { ...verdicts },
      io: { ...q.stats },
      flows: { active: ts.active, inspecting: ts.inspecting, created: ts.created, fastPath: cache.size },
      kernel: readKernelStats(queueNum),
      patterns: matcher.current.size,
      dns: { entries: dnsCache.size, learned: dnsCache.learned, hits: dnsCache.hits },
      apps: table.apps?.size ?? 0,
    };
  };

  let lastPost = Date.now();
  const flushStats = (force: boolean) => {
    const t = Date.now();
    if (!force && t - lastPost < init.statsIntervalMs) return;
    lastPost = t;
    post({ type: "stats", stats: snapshot(), events });
    events = [];
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
      setRouting(m.routing);
    } else if (m.type === "dns") {
      dnsCache.apply(m.entries, Date.now() / 1000);
    } else if (m.type === "reload") {
      try {
        const ps = loadPatternDirs(m.protocolDirs);
        matcher.current = ps;
        table.apps = loadApps(m.protocolDirs);
        generation++;
        post({ type: "reloaded", id: m.id, queue: queueNum, patterns: ps.size, skipped: ps.skipped.length });
      } catch (e) {
        post({ type: "reload-error", id: m.id, queue: queueNum, error: (e as Error).message });
      }
    }
  });

  post({ type: "ready", queue: queueNum, patterns: patterns.size, skipped: patterns.skipped.length });

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
    post({ type: "stopped", stats: { ...snapshot(), kernel }, events });
    events = [];
    if (stopRequested) port.close();
  };
  setImmediate(pump);
}

main();
