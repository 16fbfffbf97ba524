// The last hours, from the per-minute roll-ups in the database: average rate per class and
// direction, rate per protocol and per application (with its category), in buckets sized so a chart gets a few hundred points.

import { z } from "zod";
import { protectedProcedure } from "../../trpc.ts";

export const getHistoryInput = z.object({
  hours: z
    .number()
    .min(1)
    .max(24 * 30)
    .default(6),
});

export const getHistory = protectedProcedure.input(getHistoryInput).query(async ({ ctx, input }) => {
  const to = new Date();
  const from = new Date(to.getTime() - input.hours * 3600_000);
  const bucketSeconds = Math.max(60, Math.ceil((input.hours * 3600) / 240 / 60) * 60);
  const [classes, protocols, apps, categories] = await Promise.all([
    ctx.deps.db.accounting.classSeries({ from, to, bucketSeconds }),
    ctx.deps.db.accounting.protocolSeries({ from, to, bucketSeconds }),
    ctx.deps.db.accounting.appSeries({ from, to, bucketSeconds }),
    ctx.deps.db.accounting.categoryTotals({ from, to }),
  ]);
  return {
    from: from.getTime(),
    to: to.getTime(),
    bucketSeconds,
    classes: classes.map((p) => ({
      t: p.minute.getTime(),
      direction: p.direction,
      name: p.className,
      avgRateBps: p.avgRateBps,
      maxRateBps: p.maxRateBps,
      drops: p.drops,
    })),
    protocols: protocols.map((p) => ({
      t: p.minute.getTime(),
      protocol: p.protocol,
      rateBps: (p.bytes * 8) / bucketSeconds,
      connections: p.connections,
    })),
    apps: apps.map((p) => ({
      t: p.minute.getTime(),
      app: p.app,
      category: p.category,
      rateBps: (p.bytes * 8) / bucketSeconds,
      connections: p.connections,
    })),
    /** Bytes per category over the whole range, most first. */
    categories,
  };
});
