// One subscription to the agent's stats stream for the whole dashboard: keeps a ring of the
// last minutes (what the Overview's live graphs read, so N browsers do not mean N streams)
// and, every minute, rolls the finished minutes up into per-class, per-protocol and per-app
// rows in the database (the "last hours" graphs). Reconnects by itself when the agent goes away.

import { floorMinute, MINUTE_MS, type Db } from "@sluice/db";
import type { AgentService } from "../agent/service.ts";
import type { StatsSample } from "@sluice/agent-contract";

export interface LiveClass {
  direction: "upload" | "download";
  name: string;
  rateBps: number;
  /** Drops per second since the previous sample. */
  dropRate: number;
}

export interface LiveSample {
  t: number;
  uploadBps: number;
  downloadBps: number;
  dropRate: number;
  connections: number;
  classes: LiveClass[];
  protocols: { protocol: string; rateBps: number; connections: number }[];
  /** Per catalogue app and per category (empty from an agent without a catalogue). */
  apps: { app: string; category: string; rateBps: number; connections: number }[];
  categories: { category: string; rateBps: number; connections: number }[];
}

export interface StatsHubOptions {
  /** How much of the live ring to keep (ms); default 15 minutes. */
  keepMs?: number;
  /** Delay before reconnecting to the stream (ms); default 3000. */
  retryMs?: number;
  log?: (msg: string, err?: unknown) => void;
}

export class StatsHub {
  private readonly agent: AgentService;
  private readonly db: Db;
  private readonly opts: Required<Omit<StatsHubOptions, "log">> & Pick<StatsHubOptions, "log">;
  private ring: LiveSample[] = [];
  private full: StatsSample | null = null;
  private prevFull: StatsSample | null = null;
  /** Full samples of minutes not yet rolled up. */
  private pending: StatsSample[] = [];
  /** The last sample of the previous roll-up (counter baseline). */
  private rolledPrev: StatsSample | null = null;
  private stopStream: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private rollTimer: NodeJS.Timeout | null = null;
  private streaming = false;
  private started = false;
  private lastRollup: {
    at: string;
    classes: number;
    protocols: number;
    apps: number;
    error: string | null;
  } | null = null;

  constructor(agent: AgentService, db: Db, opts: StatsHubOptions = {}) {
    this.agent = agent;
    this.db = db;
    this.opts = { keepMs: opts.keepMs ?? 15 * 60_000, retryMs: opts.retryMs ?? 3000, log: opts.log };
  }

  get running(): boolean {
    return this.started;
  }

  get connected(): boolean {
    return this.streaming;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
    this.rollTimer = setInterval(() => void this.rollUpNow(), MINUTE_MS);
    this.rollTimer.unref?.();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.stopStream?.();
    this.stopStream = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.rollTimer) clearInterval(this.rollTimer);
    this.retryTimer = this.rollTimer = null;
    this.streaming = false;
    await this.rollUpNow();
  }

  private connect(): void {
    if (!this.started) return;
    this.stopStream = this.agent.client.streamStats(
      (sample) => this.ingest(sample),
      (err) => {
        this.streaming = false;
        this.agent.noteReachable(err);
        this.stopStream?.();
        this.stopStream = null;
        if (!this.started) return;
        this.retryTimer = setTimeout(() => this.connect(), this.opts.retryMs);
        this.retryTimer.unref?.();
      },
      () => {
        this.streaming = true;
        this.agent.noteReachable(null);
        void this.seed();
      },
    );
  }

  /** On (re)connect: fill the ring with the agent's own recent history. */
  private async seed(): Promise<void> {
    try {
      const { history } = await this.agent.stats();
      const newest = this.ring.at(-1)?.t ?? 0;
      for (const s of history) if (s.t > newest) this.ingest(s, false);
      this.ring.sort((a, b) => a.t - b.t);
    } catch (e) {
      this.opts.log?.("stats: could not read the agent's history", e);
    }
  }

  /** Takes one sample (from the stream, or a test). */
  ingest(s: StatsSample, live = true): void {
    if (this.full && s.t <= this.full.t && live) return;
    const prev = this.prevFull && this.prevFull.t < s.t ? this.prevFull : this.full;
    const dt = prev ? Math.max(0.001, (s.t - prev.t) / 1000) : 0;
    const prevDrops = new Map(prev?.classes.map((c) => [`${c.direction}/${c.name}`, c.drops]) ?? []);
    const classes: LiveClass[] = s.classes
      .filter((c) => c.leaf)
      .map((c) => {
        const before = prevDrops.get(`${c.direction}/${c.name}`);
        return {
          direction: c.direction,
          name: c.name,
          rateBps: c.rateBps,
          dropRate: before === undefined || dt === 0 || c.drops < before ? 0 : (c.drops - before) / dt,
        };
      });
    const sample: LiveSample = {
      t: s.t,
      uploadBps: s.totals.uploadBps,
      downloadBps: s.totals.downloadBps,
      dropRate: classes.reduce((n, c) => n + c.dropRate, 0),
      connections: s.totals.connections,
      classes,
      protocols: s.protocols.map((p) => ({
        protocol: p.protocol,
        rateBps: p.rateBps,
        connections: p.connections,
      })),
      apps: (s.apps ?? []).map((a) => ({
        app: a.app,
        category: a.category,
        rateBps: a.rateBps,
        connections: a.connections,
      })),
      categories: (s.categories ?? []).map((c) => ({
        category: c.category,
        rateBps: c.rateBps,
        connections: c.connections,
      })),
    };
    this.ring.push(sample);
    const cutoff = s.t - this.opts.keepMs;
    while (this.ring.length && this.ring[0]!.t < cutoff) this.ring.shift();
    if (!this.full || s.t >= this.full.t) {
      this.prevFull = this.full;
      this.full = s;
    }
    if (!this.rolledPrev || s.t > this.rolledPrev.t) this.pending.push(s);
  }

  /** Live samples newer than `since` (ms). */
  live(since = 0): LiveSample[] {
    return this.ring.filter((s) => s.t > since);
  }

  /** The newest full sample (top talkers, connections). */
  latest(): StatsSample | null {
    return this.full;
  }

  rollupInfo() {
    return this.lastRollup;
  }

  /** Stores the finished minutes; the current minute stays pending. */
  async rollUpNow(now = Date.now()): Promise<{ classes: number; protocols: number; apps: number }> {
    const boundary = floorMinute(now).getTime();
    const done = this.pending.filter((s) => s.t < boundary).sort((a, b) => a.t - b.t);
    if (!done.length) return { classes: 0, protocols: 0, apps: 0 };
    this.pending = this.pending.filter((s) => s.t >= boundary);
    const rows = this.db.accounting.rollUp(done, this.rolledPrev);
    this.rolledPrev = done.at(-1)!;
    try {
      await this.db.accounting.insert(rows);
      this.lastRollup = {
        at: new Date().toISOString(),
        classes: rows.classes.length,
        protocols: rows.protocols.length,
        apps: rows.apps.length,
        error: null,
      };
    } catch (e) {
      this.lastRollup = {
        at: new Date().toISOString(),
        classes: 0,
        protocols: 0,
        apps: 0,
        error: (e as Error).message,
      };
      this.opts.log?.("stats: roll-up failed", e);
    }
    return { classes: rows.classes.length, protocols: rows.protocols.length, apps: rows.apps.length };
  }
}
