// The agent's NFQUEUE data plane: one worker thread per queue number (the iptables rule is
// `-j NFQUEUE --queue-balance FIRST:LAST --queue-bypass`), each classifying its packets with
// its own flow table and accepting them with the flow's l7 mark in the masked field of the
// packet mark: newMark = (mark & ~mask) | ((l7mark << shift) & mask).
//
// The NFQUEUE sockets live in the network namespace of the process that opens them, so run
// the data plane in the namespace that routes the traffic (e.g. under `ip netns exec`).

import { Worker } from "node:worker_threads";
import { DEFAULT_WINDOW, loadPatternDirs, type WindowOptions } from "@sluice/classifier";
import { markFields } from "@sluice/policy";
import { DEFAULT_QUEUE_OPTIONS, type QueueIoMode } from "./queue-io.ts";
import type { WorkerInit } from "./worker.ts";
import type {
  FlowDecidedEvent,
  MarkFieldMask,
  MediaRequest,
  QueueStats,
  Routing,
  ToMain,
  ToWorker,
} from "./messages.ts";

/** The mark fields of a policy that leaves `marks` at its defaults. */
const DEFAULT_FIELDS = markFields();

export type { FlowDecidedEvent, QueueStats, KernelQueueStats, MediaRequest, Routing } from "./messages.ts";

export interface DataPlaneOptions {
  /** Queue numbers to serve, one worker thread each (the rule's --queue-balance range). */
  queues: number[];
  /** Directories of `.pat` files (and an optional l7-filter.conf). */
  protocolDirs: string[];
  /** The caller loaded protocolDirs already (the agent): no early check in its thread. */
  patternsLoaded?: boolean;
  /** The l7-filter inspection window; default 10 packets / 2048 bytes. */
  window?: Partial<WindowOptions>;
  /** The packet-mark bits that carry the l7 mark; default 0xff00. */
  mask?: number;
  /** Where the l7 mark goes inside the mask; default 8 (unset 0x100, unknown 0x200, ...). */
  shift?: number;
  /** The mark bits of the flow's catalogue app id; default 0xff0000 (shift 16). */
  app?: MarkFieldMask;
  /** The mark bits of the matching hostname rule's position; default 0xff000000 (shift 24). */
  host?: MarkFieldMask;
  /** Hostname rules in order: a decided flow's host field = the id of the first that matches. */
  hostRules?: { glob: string; id: number }[];
  /** Bytes of each packet copied to userspace; default window bytes + 128 (headers). */
  copyRange?: number;
  /** Kernel queue length per queue; default 4096. */
  maxlen?: number;
  /** Accept, rather than drop, what a full queue can't take; default true. */
  failOpen?: boolean;
  /** Queue GSO packets whole (NFQA_CFG_F_GSO); default true. */
  gso?: boolean;
  /** Messages per recvmmsg(); default 64. */
  batch?: number;
  /** Netlink socket receive buffer; default 8 MiB. */
  rcvbufBytes?: number;
  /** "fast" (recvmmsg + JS parsing + batched verdicts, default) or "libnfq" (callback per packet). */
  io?: QueueIoMode;
  /** Flows under inspection per worker at most (LRU); default 131072. */
  maxFlows?: number;
  /** How often workers report counters and decided flows; default 250 ms. */
  statsIntervalMs?: number;
  /**
   * Decided-flow events per worker and stats interval at most (the first ones; events of
   * flows with a host name always go, the others are counted in `eventsDropped`); default
   * all. At tens of thousands of new flows a second, building, cloning and handling an
   * event per flow costs more than the classification when only recent ones are shown.
   */
  eventsPerInterval?: number;
  onFlowDecided?: (ev: FlowDecidedEvent) => void;
  /** RTSP media followed live: the rtsp and rtp l7 marks (see Routing.rtsp), or null. */
  rtsp?: { control: number; media: number } | null;
  /**
   * An RTSP SETUP reply's media (with `rtsp`): add the expectations and resolve; the
   * worker holds the reply until then. Without it, replies are not held.
   */
  onMediaExpected?: (req: MediaRequest) => Promise<void>;
  onLog?: (level: "info" | "warn" | "error", msg: string) => void;
}

export interface DataPlaneStats {
  queues: QueueStats[];
  total: {
    packets: number;
    bytes: number;
    passthrough: number;
    decided: number;
    /** Flows decided from the kernel's past-the-window signal (part of their window lost). */
    late: number;
    verdicts: Record<number, number>;
    enobufs: number;
    /** Kernel-side losses: full queue plus full socket buffer. */
    queueDropped: number;
    userDropped: number;
    /**
     * Packets the kernel numbered for a queue that its worker never read (a full socket
     * buffer with fail-open accepts them unseen; the kernel counts those nowhere else).
     * A full queue with fail-open is not counted by the kernel at all: the late verdicts
     * (`late`, and the kernel's past-the-window rule) show it.
     */
    unseen: number;
    /** Packets waiting in the kernel queues right now. */
    waiting: number;
    /** Flows in the workers' tables: under inspection plus decided ones remembered. */
    activeFlows: number;
    /** Of those, flows still under inspection (inside their window). */
    inspectingFlows?: number;
    /** The live workers' V8 heaps: bytes in use, bytes reserved. */
    workerHeapUsed?: number;
    workerHeapTotal?: number;
    /** Workers that died and were restarted. */
    restarts: number;
  };
}

interface Slot {
  queue: number;
  worker: Worker;
  stats: QueueStats | null;
  stopping: boolean;
  /** Resolves when the worker thread has exited. */
  exited: Promise<void>;
}

// worker-boot.ts lowers the thread's priority while worker.ts loads (thread-priority.ts)
const WORKER_URL = new URL("./worker-boot.ts", import.meta.url);
// A worker loads the classifier and compiles the pattern set before it binds its queue: about a
// second on a PC, minutes on an emulated box whose host is loaded (the appliance's boot test),
// so the appliance's unit raises the limit with SLUICE_WORKER_START_TIMEOUT_MS.
const START_TIMEOUT_MS = Number(process.env.SLUICE_WORKER_START_TIMEOUT_MS) || 60_000;
const STOP_TIMEOUT_MS = 5_000;

export class DataPlane {
  private readonly opts: Required<
    Omit<DataPlaneOptions, "onFlowDecided" | "onLog" | "window" | "patternsLoaded" | "onMediaExpected">
  > & {
    window: WindowOptions;
  };
  private readonly onFlowDecided: ((ev: FlowDecidedEvent) => void) | undefined;
  private readonly onMediaExpected: ((req: MediaRequest) => Promise<void>) | undefined;
  private readonly log: (level: "info" | "warn" | "error", msg: string) => void;
  private readonly slots = new Map<number, Slot>();
  /** Stats of workers that are gone (restarted), so totals don't go backwards. */
  private readonly retired: QueueStats[] = [];
  private restarts = 0;
  private stopped = false;
  private nextReloadId = 1;
  private readonly pendingReloads = new Map<
    number,
    { remaining: Set<number>; failed: Map<number, string>; done: () => void }
  >();

  private constructor(opts: DataPlaneOptions) {
    const window: WindowOptions = { ...DEFAULT_WINDOW, ...opts.window };
    this.opts = {
      queues: [...opts.queues],
      protocolDirs: [...opts.protocolDirs],
      window,
      mask: opts.mask ?? DEFAULT_FIELDS.protocol.mask,
      shift: opts.shift ?? DEFAULT_FIELDS.protocol.shift,
      app: opts.app ?? DEFAULT_FIELDS.app,
      host: opts.host ?? DEFAULT_FIELDS.host,
      hostRules: [...(opts.hostRules ?? [])],
      rtsp: opts.rtsp ?? null,
      copyRange: opts.copyRange ?? window.bytes + 128,
      maxlen: opts.maxlen ?? DEFAULT_QUEUE_OPTIONS.maxlen,
      failOpen: opts.failOpen ?? DEFAULT_QUEUE_OPTIONS.failOpen,
      gso: opts.gso ?? DEFAULT_QUEUE_OPTIONS.gso,
      batch: opts.batch ?? DEFAULT_QUEUE_OPTIONS.batch,
      rcvbufBytes: opts.rcvbufBytes ?? DEFAULT_QUEUE_OPTIONS.rcvbufBytes,
      io: opts.io ?? DEFAULT_QUEUE_OPTIONS.io,
      maxFlows: opts.maxFlows ?? 131072,
      statsIntervalMs: opts.statsIntervalMs ?? 250,
      eventsPerInterval: opts.eventsPerInterval ?? Infinity,
    };
    this.onFlowDecided = opts.onFlowDecided;
    this.onMediaExpected = opts.onMediaExpected;
    this.log =
      opts.onLog ?? ((level, msg) => (level === "info" ? undefined : console.error(`[nfqueue] ${msg}`)));
    validate(this.opts);
  }

  /** Starts one worker per queue; resolves once every queue is bound (rejects if one can't be). */
  static async start(opts: DataPlaneOptions): Promise<DataPlane> {
    const dp = new DataPlane(opts);
    // Fail early, in the caller's thread, on a missing directory or unreadable files.
    if (!opts.patternsLoaded) loadPatternDirs(dp.opts.protocolDirs);
    const results = await Promise.allSettled(dp.opts.queues.map((q) => dp.spawn(q)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length) {
      await dp.stop();
      throw new Error(failed.map((f) => (f.reason as Error).message).join("; "));
    }
    return dp;
  }

  get options(): Readonly<DataPlaneOptions> {
    return this.opts;
  }

  private spawn(queue: number): Promise<void> {
    const o = this.opts;
    const init: WorkerInit = {
      queue: {
        queue,
        copyRange: o.copyRange,
        maxlen: o.maxlen,
        failOpen: o.failOpen,
        gso: o.gso,
        batch: o.batch,
        rcvbufBytes: o.rcvbufBytes,
        io: o.io,
        waitMs: DEFAULT_QUEUE_OPTIONS.waitMs,
      },
      protocolDirs: o.protocolDirs,
      window: o.window,
      maxFlows: o.maxFlows,
      routing: this.routing(),
      statsIntervalMs: o.statsIntervalMs,
      eventsPerInterval: o.eventsPerInterval,
    };
    // A small young generation: the worker allocates per packet, and V8's default (up to
    // 3 x 16 MiB semi-spaces per thread) shows up as resident memory under load.
    const worker = new Worker(WORKER_URL, {
      workerData: init,
      name: `nfqueue-${queue}`,
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    const slot: Slot = {
      queue,
      worker,
      stats: null,
      stopping: false,
      exited: new Promise<void>((resolve) => worker.once("exit", () => resolve())),
    };
    this.slots.set(queue, slot);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) {
          reject(new Error(`queue ${queue}: worker did not start within ${START_TIMEOUT_MS} ms`));
          void worker.terminate();
        }
      }, START_TIMEOUT_MS);
      worker.on("message", (m: ToMain) => {
        switch (m.type) {
          case "ready":
            ready = true;
            clearTimeout(timer);
            this.log("info", `queue ${queue}: bound (${m.patterns} patterns, ${m.skipped} skipped)`);
            resolve();
            break;
          case "error":
            clearTimeout(timer);
            if (!ready) reject(new Error(`queue ${queue}: ${m.error}`));
            else this.log("error", `queue ${queue}: ${m.error}`);
            break;
          case "stats":
          case "stopped":
            slot.stats = m.stats;
            for (const ev of m.events) this.emitDecided(ev);
            break;
          case "reloaded":
          case "reload-error":
            this.reloadAnswer(m.id, m.queue, m.type === "reload-error" ? m.error : null);
            break;
          case "log":
            this.log(m.level, m.msg);
            break;
          case "media": {
            // The worker holds the reply until this answer, whatever the outcome.
            const ready = () => {
              if (!slot.stopping)
                worker.postMessage({ type: "media-ready", key: m.request.key } satisfies ToWorker);
            };
            const handler = this.onMediaExpected;
            if (!handler) ready();
            else
              handler(m.request).then(ready, (e: unknown) => {
                this.log("error", `RTSP media expectations: ${(e as Error).message}`);
                ready();
              });
            break;
          }
          case "dns":
            // Names one worker learned, for the others (see shared-dns-cache.ts).
            for (const other of this.slots.values())
              if (other !== slot && !other.stopping)
                other.worker.postMessage({ type: "dns", entries: m.entries } satisfies ToWorker);
            break;
        }
      });
      worker.on("error", (e) => {
        clearTimeout(timer);
        this.log("error", `queue ${queue}: worker crashed: ${e.message}`);
        if (!ready) reject(e);
      });
      worker.on("exit", (code) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`queue ${queue}: worker exited (${code}) before binding the queue`));
        if (this.slots.get(queue) !== slot) return;
        // A reload waiting on this worker won't get an answer from it.
        for (const id of this.pendingReloads.keys()) this.reloadAnswer(id, queue, "worker exited");
        if (slot.stopping || this.stopped || !ready) return;
        // Died on its own: with --queue-bypass its traffic flows unclassified meanwhile.
        if (slot.stats) this.retired.push(slot.stats);
        this.slots.delete(queue);
        this.restarts++;
        this.log("error", `queue ${queue}: worker exited (${code}); restarting`);
        setTimeout(() => {
          if (this.stopped) return;
          this.spawn(queue).catch((e: Error) =>
            this.log("error", `queue ${queue}: restart failed: ${e.message}`),
          );
        }, 1000).unref();
      });
    });
  }

  private routing(): Routing {
    const o = this.opts;
    return {
      mask: o.mask,
      shift: o.shift,
      app: o.app,
      host: o.host,
      hostRules: o.hostRules,
      rtsp: this.onMediaExpected ? o.rtsp : null,
    };
  }

  /**
   * New mark fields or hostname rules (after an apply). Workers switch at once; decided
   * flows get their new bits on their next packet (until then the connection keeps its mark).
   */
  setRouting(next: Partial<Routing>): void {
    const o = this.opts;
    const merged = { ...this.routing(), ...next };
    validate({ ...o, ...merged });
    Object.assign(o, merged);
    for (const s of this.slots.values())
      s.worker.postMessage({ type: "routing", routing: this.routing() } satisfies ToWorker);
  }

  private emitDecided(ev: FlowDecidedEvent): void {
    if (!this.onFlowDecided) return;
    try {
      this.onFlowDecided(ev);
    } catch (e) {
      this.log("error", `onFlowDecided threw: ${(e as Error).message}`);
    }
  }

  /** The latest counters of every queue (at most `statsIntervalMs` old) and their totals. */
  stats(): DataPlaneStats {
    const queues = [...this.slots.values()].flatMap((s) => (s.stats ? [s.stats] : []));
    const total: DataPlaneStats["total"] = {
      packets: 0,
      bytes: 0,
      passthrough: 0,
      decided: 0,
      late: 0,
      verdicts: {},
      enobufs: 0,
      queueDropped: 0,
      userDropped: 0,
      unseen: 0,
      waiting: 0,
      activeFlows: 0,
      inspectingFlows: 0,
      workerHeapUsed: 0,
      workerHeapTotal: 0,
      restarts: this.restarts,
    };
    for (const [i, q] of [...this.retired, ...queues].entries()) {
      total.packets += q.packets;
      total.bytes += q.bytes;
      total.passthrough += q.passthrough;
      total.decided += q.decided;
      total.late += q.late ?? 0;
      total.enobufs += q.io.enobufs;
      for (const [m, n] of Object.entries(q.verdicts))
        total.verdicts[Number(m)] = (total.verdicts[Number(m)] ?? 0) + n;
      if (i >= this.retired.length) {
        total.activeFlows += q.flows.active;
        total.inspectingFlows = (total.inspectingFlows ?? 0) + q.flows.inspecting;
        total.workerHeapUsed = (total.workerHeapUsed ?? 0) + (q.heap?.used ?? 0);
        total.workerHeapTotal = (total.workerHeapTotal ?? 0) + (q.heap?.total ?? 0);
        // Kernel counters are per queue and survive a worker restart: count live ones only.
        total.queueDropped += q.kernel?.queueDropped ?? 0;
        total.userDropped += q.kernel?.userDropped ?? 0;
        if (q.kernel) {
          total.waiting += q.kernel.waiting;
          // id_sequence numbers every packet handed to the socket since the queue was bound.
          total.unseen += Math.max(0, q.kernel.idSequence - q.kernel.waiting - q.packets);
        }
      }
    }
    return { queues, total };
  }

  /**
   * Swaps the pattern sets. Workers keep their flow tables (flows being inspected go on
   * with the new patterns; decided flows keep their verdict). A worker that fails to load
   * them is restarted with them; the promise rejects if the new patterns can't be loaded.
   */
  async reload(protocolDirs: string[]): Promise<void> {
    if (this.stopped) throw new Error("data plane is stopped");
    loadPatternDirs(protocolDirs); // throws on a missing directory: keep the old set
    this.opts.protocolDirs = [...protocolDirs];
    const id = this.nextReloadId++;
    const failed = new Map<number, string>();
    await new Promise<void>((resolve) => {
      const remaining = new Set(this.slots.keys());
      if (remaining.size === 0) return resolve();
      this.pendingReloads.set(id, { remaining, failed, done: resolve });
      for (const s of this.slots.values())
        s.worker.postMessage({ type: "reload", id, protocolDirs } satisfies ToWorker);
    });
    for (const [queue, error] of failed) {
      this.log("warn", `queue ${queue}: reload failed (${error}); restarting its worker`);
      await this.restart(queue);
    }
  }

  private reloadAnswer(id: number, queue: number, error: string | null): void {
    const r = this.pendingReloads.get(id);
    if (!r || !r.remaining.has(queue)) return;
    r.remaining.delete(queue);
    if (error) r.failed.set(queue, error);
    if (r.remaining.size === 0) {
      this.pendingReloads.delete(id);
      r.done();
    }
  }

  private async restart(queue: number): Promise<void> {
    const slot = this.slots.get(queue);
    if (slot) {
      await this.stopSlot(slot);
      if (slot.stats) this.retired.push(slot.stats);
      this.slots.delete(queue);
      this.restarts++;
    }
    await this.spawn(queue);
  }

  private async stopSlot(slot: Slot): Promise<void> {
    slot.stopping = true;
    slot.worker.postMessage({ type: "stop" } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS);
    });
    const r = await Promise.race([slot.exited, timeout]);
    clearTimeout(timer);
    if (r === "timeout") {
      this.log("warn", `queue ${slot.queue}: worker did not stop in time; terminating it`);
      await slot.worker.terminate();
    }
  }

  /**
   * Stops every worker: pending packets get their verdict, queues are destroyed and the
   * handles closed. With --queue-bypass in the rule, traffic keeps flowing (unclassified).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.slots.values()].map((s) => this.stopSlot(s)));
    for (const r of this.pendingReloads.values()) r.done();
    this.pendingReloads.clear();
  }
}

function validate(o: DataPlane["opts"]): void {
  if (!o.queues.length) throw new RangeError("at least one queue number is needed");
  const seen = new Set<number>();
  for (const q of o.queues) {
    if (!Number.isInteger(q) || q < 0 || q > 65535) throw new RangeError(`bad queue number ${q}`);
    if (seen.has(q)) throw new RangeError(`queue ${q} listed twice`);
    seen.add(q);
  }
  if (!o.protocolDirs.length) throw new RangeError("at least one protocols directory is needed");
  if (!(o.eventsPerInterval >= 0)) throw new RangeError(`bad eventsPerInterval ${o.eventsPerInterval}`);
  if (!Number.isInteger(o.mask) || o.mask <= 0 || o.mask > 0xffffffff)
    throw new RangeError(`bad mark mask ${o.mask}`);
  if (!Number.isInteger(o.shift) || o.shift < 0 || o.shift > 31)
    throw new RangeError(`bad mark shift ${o.shift}`);
  if (o.mask >>> o.shift < 3)
    throw new RangeError(
      `mask 0x${o.mask.toString(16)} >> ${o.shift} leaves no room for protocol marks (>= 3)`,
    );
  const fields = [
    ["protocol", o.mask],
    ["app", o.app.mask],
    ["host", o.host.mask],
  ] as const;
  for (const [i, [a, ma]] of fields.entries())
    for (const [b, mb] of fields.slice(i + 1))
      if ((ma & mb) !== 0) throw new RangeError(`the ${a} and ${b} mark fields overlap`);
  if (!Number.isInteger(o.copyRange) || o.copyRange < 128 || o.copyRange > 65535)
    throw new RangeError(`copy range must be 128..65535, got ${o.copyRange}`);
  if (!Number.isInteger(o.maxlen) || o.maxlen < 1) throw new RangeError(`bad queue maxlen ${o.maxlen}`);
  if (!Number.isInteger(o.batch) || o.batch < 1 || o.batch > 1024)
    throw new RangeError(`batch must be 1..1024`);
}
