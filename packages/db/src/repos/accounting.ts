// Accounting rolled up per minute: per class (bytes, packets, drops, max and average rate) and
// per protocol and per catalogue application (bytes, connections). rollUp() turns the agent's per-second samples (GET
// /v1/stats, or the stats stream) into minute rows; insert() stores them (idempotent per
// minute); the queries return a time range, optionally in wider buckets, for the charts.

import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { Direction } from "../generated/sqlite/enums.ts";
import { num } from "./util.ts";

export interface ClassMinuteRow {
  /** Start of the minute (UTC). */
  minute: Date;
  direction: Direction;
  className: string;
  bytes: number;
  packets: number;
  drops: number;
  maxRateBps: number;
  avgRateBps: number;
}

export interface ProtocolMinuteRow {
  minute: Date;
  protocol: string;
  bytes: number;
  /** Most connections seen at once in the minute. */
  connections: number;
}

export interface AppMinuteRow {
  minute: Date;
  /** Catalogue app name, e.g. "youtube". */
  app: string;
  /** Its category, e.g. "video". */
  category: string;
  bytes: number;
  /** Most connections seen at once in the minute. */
  connections: number;
}

/** What rollUp() needs of the agent's StatsSample (counters are cumulative). */
export interface SampleLike {
  /** ms since the epoch */
  t: number;
  classes: {
    direction: "upload" | "download";
    name: string;
    bytes: number;
    packets: number;
    drops: number;
    rateBps: number;
  }[];
  protocols: { protocol: string; bytes: number; rateBps?: number; connections: number }[];
  /** Per catalogue application (agents before the catalogue have none). */
  apps?: { app: string; category: string; bytes: number; rateBps?: number; connections: number }[];
}

export const MINUTE_MS = 60_000;
export const floorMinute = (d: Date | number): Date =>
  new Date(Math.floor(new Date(d).getTime() / MINUTE_MS) * MINUTE_MS);

/**
 * Minute rows from per-second samples (sorted or not). Byte, packet and drop counts are the
 * growth of the cumulative counters within each minute, counted from the last sample before
 * it (so nothing falls between minutes); a counter that went down (a policy re-applied, the
 * classes recreated) counts from zero. Pass the last sample of the previous batch as `prev`.
 */
export function rollUp(
  samples: readonly SampleLike[],
  prev?: SampleLike | null,
): { classes: ClassMinuteRow[]; protocols: ProtocolMinuteRow[]; apps: AppMinuteRow[] } {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const classes = new Map<string, ClassMinuteRow & { rateSum: number; n: number }>();
  const protocols = new Map<string, ProtocolMinuteRow>();
  const lastClass = new Map<string, { bytes: number; packets: number; drops: number }>();
  const lastProto = new Map<string, number>();
  const apps = new Map<string, AppMinuteRow>();
  const lastApp = new Map<string, number>();
  const grow = (now: number, before: number | undefined) =>
    before === undefined ? 0 : now >= before ? now - before : now;
  for (const s of prev ? [prev] : []) {
    for (const c of s.classes) lastClass.set(`${c.direction}\0${c.name}`, c);
    for (const p of s.protocols) lastProto.set(p.protocol, p.bytes);
    for (const a of s.apps ?? []) lastApp.set(a.app, a.bytes);
  }
  for (const s of sorted) {
    const minute = floorMinute(s.t);
    for (const c of s.classes) {
      const k = `${c.direction}\0${c.name}`;
      const before = lastClass.get(k);
      lastClass.set(k, c);
      const rk = `${minute.getTime()}\0${k}`;
      let row = classes.get(rk);
      if (!row) {
        row = {
          minute,
          direction: c.direction,
          className: c.name,
          bytes: 0,
          packets: 0,
          drops: 0,
          maxRateBps: 0,
          avgRateBps: 0,
          rateSum: 0,
          n: 0,
        };
        classes.set(rk, row);
      }
      row.bytes += grow(c.bytes, before?.bytes);
      row.packets += grow(c.packets, before?.packets);
      row.drops += grow(c.drops, before?.drops);
      row.maxRateBps = Math.max(row.maxRateBps, c.rateBps);
      row.rateSum += c.rateBps;
      row.n++;
    }
    for (const p of s.protocols) {
      const before = lastProto.get(p.protocol);
      lastProto.set(p.protocol, p.bytes);
      const rk = `${minute.getTime()}\0${p.protocol}`;
      let row = protocols.get(rk);
      if (!row) {
        row = { minute, protocol: p.protocol, bytes: 0, connections: 0 };
        protocols.set(rk, row);
      }
      row.bytes += grow(p.bytes, before);
      row.connections = Math.max(row.connections, p.connections);
    }
    for (const a of s.apps ?? []) {
      const before = lastApp.get(a.app);
      lastApp.set(a.app, a.bytes);
      const rk = `${minute.getTime()}\0${a.app}`;
      let row = apps.get(rk);
      if (!row) {
        row = { minute, app: a.app, category: a.category, bytes: 0, connections: 0 };
        apps.set(rk, row);
      }
      row.bytes += grow(a.bytes, before);
      row.connections = Math.max(row.connections, a.connections);
    }
  }
  return {
    classes: [...classes.values()].map(({ rateSum, n, ...r }) => ({ ...r, avgRateBps: n ? rateSum / n : 0 })),
    protocols: [...protocols.values()],
    apps: [...apps.values()],
  };
}

export interface RangeQuery {
  from: Date;
  to: Date;
  /** Bucket width in seconds (a multiple of 60); default 60 (one point per minute). */
  bucketSeconds?: number;
}

export interface ClassPoint extends ClassMinuteRow {
  /** Start of the bucket. */
  minute: Date;
}

export interface ProtocolPoint extends ProtocolMinuteRow {
  minute: Date;
}

export interface AppPoint extends AppMinuteRow {
  minute: Date;
}

export interface AppTotal {
  app: string;
  category: string;
  bytes: number;
  maxConnections: number;
}

export interface CategoryTotal {
  category: string;
  bytes: number;
}

export interface ClassTotal {
  direction: Direction;
  className: string;
  bytes: number;
  packets: number;
  drops: number;
  maxRateBps: number;
}

export interface ProtocolTotal {
  protocol: string;
  bytes: number;
  maxConnections: number;
}

function bucketOf(q: RangeQuery): number {
  const b = Math.round((q.bucketSeconds ?? 60) / 60) * 60;
  if (b < 60) throw new Error("bucketSeconds must be at least 60");
  return b * 1000;
}

export function accountingRepo(prisma: PrismaClient) {
  return {
    rollUp,

    /** Stores minute rows; a row for a minute already stored replaces it. */
    async insert(rows: {
      classes?: ClassMinuteRow[];
      protocols?: ProtocolMinuteRow[];
      apps?: AppMinuteRow[];
    }): Promise<void> {
      const ops = [
        ...(rows.classes ?? []).map((r) => {
          const minute = floorMinute(r.minute);
          const data = {
            bytes: BigInt(Math.round(r.bytes)),
            packets: BigInt(Math.round(r.packets)),
            drops: BigInt(Math.round(r.drops)),
            maxRateBps: r.maxRateBps,
            avgRateBps: r.avgRateBps,
          };
          return prisma.classMinute.upsert({
            where: { minute_direction_className: { minute, direction: r.direction, className: r.className } },
            create: { minute, direction: r.direction, className: r.className, ...data },
            update: data,
          });
        }),
        ...(rows.protocols ?? []).map((r) => {
          const minute = floorMinute(r.minute);
          const data = { bytes: BigInt(Math.round(r.bytes)), connections: Math.round(r.connections) };
          return prisma.protocolMinute.upsert({
            where: { minute_protocol: { minute, protocol: r.protocol } },
            create: { minute, protocol: r.protocol, ...data },
            update: data,
          });
        }),
        ...(rows.apps ?? []).map((r) => {
          const minute = floorMinute(r.minute);
          const data = {
            category: r.category,
            bytes: BigInt(Math.round(r.bytes)),
            connections: Math.round(r.connections),
          };
          return prisma.appMinute.upsert({
            where: { minute_app: { minute, app: r.app } },
            create: { minute, app: r.app, ...data },
            update: data,
          });
        }),
      ];
      if (ops.length) await prisma.$transaction(ops);
    },

    /**
     * Per class over [from, to), oldest first, one point per bucket with data. In a bucket:
     * bytes, packets and drops add up, maxRateBps is the highest, avgRateBps is the mean over
     * the whole bucket (minutes without a row count as idle).
     */
    async classSeries(q: RangeQuery & { direction?: Direction; className?: string }): Promise<ClassPoint[]> {
      const bucket = bucketOf(q);
      const rows = await prisma.classMinute.findMany({
        where: {
          minute: { gte: q.from, lt: q.to },
          ...(q.direction ? { direction: q.direction } : {}),
          ...(q.className ? { className: q.className } : {}),
        },
        orderBy: [{ minute: "asc" }, { direction: "asc" }, { className: "asc" }],
      });
      const out = new Map<string, ClassPoint>();
      for (const r of rows) {
        const start = new Date(Math.floor(r.minute.getTime() / bucket) * bucket);
        const k = `${start.getTime()}\0${r.direction}\0${r.className}`;
        let p = out.get(k);
        if (!p) {
          p = {
            minute: start,
            direction: r.direction,
            className: r.className,
            bytes: 0,
            packets: 0,
            drops: 0,
            maxRateBps: 0,
            avgRateBps: 0,
          };
          out.set(k, p);
        }
        p.bytes += num(r.bytes);
        p.packets += num(r.packets);
        p.drops += num(r.drops);
        p.maxRateBps = Math.max(p.maxRateBps, r.maxRateBps);
        p.avgRateBps += (r.avgRateBps * MINUTE_MS) / bucket;
      }
      return [...out.values()].sort(
        (a, b) =>
          a.minute.getTime() - b.minute.getTime() ||
          a.direction.localeCompare(b.direction) ||
          a.className.localeCompare(b.className),
      );
    },

    /** Per protocol over [from, to): bytes add up, connections is the highest in the bucket. */
    async protocolSeries(q: RangeQuery & { protocol?: string }): Promise<ProtocolPoint[]> {
      const bucket = bucketOf(q);
      const rows = await prisma.protocolMinute.findMany({
        where: { minute: { gte: q.from, lt: q.to }, ...(q.protocol ? { protocol: q.protocol } : {}) },
        orderBy: [{ minute: "asc" }, { protocol: "asc" }],
      });
      const out = new Map<string, ProtocolPoint>();
      for (const r of rows) {
        const start = new Date(Math.floor(r.minute.getTime() / bucket) * bucket);
        const k = `${start.getTime()}\0${r.protocol}`;
        let p = out.get(k);
        if (!p) {
          p = { minute: start, protocol: r.protocol, bytes: 0, connections: 0 };
          out.set(k, p);
        }
        p.bytes += num(r.bytes);
        p.connections = Math.max(p.connections, r.connections);
      }
      return [...out.values()].sort(
        (a, b) => a.minute.getTime() - b.minute.getTime() || a.protocol.localeCompare(b.protocol),
      );
    },

    /** Per app over [from, to): bytes add up, connections is the highest in the bucket. */
    async appSeries(q: RangeQuery & { app?: string; category?: string }): Promise<AppPoint[]> {
      const bucket = bucketOf(q);
      const rows = await prisma.appMinute.findMany({
        where: {
          minute: { gte: q.from, lt: q.to },
          ...(q.app ? { app: q.app } : {}),
          ...(q.category ? { category: q.category } : {}),
        },
        orderBy: [{ minute: "asc" }, { app: "asc" }],
      });
      const out = new Map<string, AppPoint>();
      for (const r of rows) {
        const start = new Date(Math.floor(r.minute.getTime() / bucket) * bucket);
        const k = `${start.getTime()}\0${r.app}`;
        let p = out.get(k);
        if (!p) {
          p = { minute: start, app: r.app, category: r.category, bytes: 0, connections: 0 };
          out.set(k, p);
        }
        p.bytes += num(r.bytes);
        p.connections = Math.max(p.connections, r.connections);
      }
      return [...out.values()].sort(
        (a, b) => a.minute.getTime() - b.minute.getTime() || a.app.localeCompare(b.app),
      );
    },

    /** Totals per app over [from, to), most bytes first (category: the latest seen). */
    async appTotals(q: { from: Date; to: Date; limit?: number }): Promise<AppTotal[]> {
      const groups = await prisma.appMinute.groupBy({
        by: ["app", "category"],
        where: { minute: { gte: q.from, lt: q.to } },
        _sum: { bytes: true },
        _max: { connections: true, minute: true },
      });
      const byApp = new Map<string, AppTotal & { last: number }>();
      for (const g of groups) {
        const last = g._max.minute?.getTime() ?? 0;
        const t = byApp.get(g.app) ?? { app: g.app, category: g.category, bytes: 0, maxConnections: 0, last };
        t.bytes += num(g._sum.bytes ?? 0n);
        t.maxConnections = Math.max(t.maxConnections, g._max.connections ?? 0);
        if (last >= t.last) [t.category, t.last] = [g.category, last];
        byApp.set(g.app, t);
      }
      return [...byApp.values()]
        .map(({ last: _, ...t }) => t)
        .sort((a, b) => b.bytes - a.bytes || a.app.localeCompare(b.app))
        .slice(0, q.limit ?? 1000);
    },

    /** Totals per category over [from, to), most bytes first. */
    async categoryTotals(q: { from: Date; to: Date }): Promise<CategoryTotal[]> {
      const groups = await prisma.appMinute.groupBy({
        by: ["category"],
        where: { minute: { gte: q.from, lt: q.to } },
        _sum: { bytes: true },
      });
      return groups
        .map((g) => ({ category: g.category, bytes: num(g._sum.bytes ?? 0n) }))
        .sort((a, b) => b.bytes - a.bytes || a.category.localeCompare(b.category));
    },

    /** Totals per class over [from, to), most bytes first. */
    async classTotals(q: { from: Date; to: Date; direction?: Direction }): Promise<ClassTotal[]> {
      const groups = await prisma.classMinute.groupBy({
        by: ["direction", "className"],
        where: { minute: { gte: q.from, lt: q.to }, ...(q.direction ? { direction: q.direction } : {}) },
        _sum: { bytes: true, packets: true, drops: true },
        _max: { maxRateBps: true },
      });
      return groups
        .map((g) => ({
          direction: g.direction,
          className: g.className,
          bytes: num(g._sum.bytes ?? 0n),
          packets: num(g._sum.packets ?? 0n),
          drops: num(g._sum.drops ?? 0n),
          maxRateBps: g._max.maxRateBps ?? 0,
        }))
        .sort((a, b) => b.bytes - a.bytes || a.className.localeCompare(b.className));
    },

    /** Totals per protocol over [from, to), most bytes first. */
    async protocolTotals(q: { from: Date; to: Date; limit?: number }): Promise<ProtocolTotal[]> {
      const groups = await prisma.protocolMinute.groupBy({
        by: ["protocol"],
        where: { minute: { gte: q.from, lt: q.to } },
        _sum: { bytes: true },
        _max: { connections: true },
      });
      return groups
        .map((g) => ({
          protocol: g.protocol,
          bytes: num(g._sum.bytes ?? 0n),
          maxConnections: g._max.connections ?? 0,
        }))
        .sort((a, b) => b.bytes - a.bytes || a.protocol.localeCompare(b.protocol))
        .slice(0, q.limit ?? 1000);
    },

    /** Deletes rows older than the date; returns how many of each went. */
    async prune(olderThan: Date): Promise<{ classes: number; protocols: number; apps: number }> {
      const [c, p, a] = await prisma.$transaction([
        prisma.classMinute.deleteMany({ where: { minute: { lt: olderThan } } }),
        prisma.protocolMinute.deleteMany({ where: { minute: { lt: olderThan } } }),
        prisma.appMinute.deleteMany({ where: { minute: { lt: olderThan } } }),
      ]);
      return { classes: c.count, protocols: p.count, apps: a.count };
    },
  };
}

export type AccountingRepo = ReturnType<typeof accountingRepo>;
