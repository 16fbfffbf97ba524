// Quota periods on the policy's local wall clock: a day from midnight, a week from Monday
// midnight, a month from the 1st. The key names the period ("2026-12-07", "week 2026-12-07",
// "2026-12"); used amounts are kept per key, so a new period starts from zero.

import type { QuotaPeriod } from "./quota-schema.ts";
import { instantOfWall, wallClock } from "./time-zone.ts";

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The local wall time (as UTC ms) the period holding `ms` started. */
function periodStartWall(period: QuotaPeriod, zone: string, ms: number): number {
  const c = wallClock(zone, ms);
  const d = new Date(c.wallMs);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === "day") return midnight;
  if (period === "week") return midnight - c.weekday * 86400_000;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function periodKey(period: QuotaPeriod, zone: string, ms: number): string {
  const start = periodStartWall(period, zone, ms);
  if (period === "day") return iso(start);
  if (period === "week") return `week ${iso(start)}`;
  return iso(start).slice(0, 7);
}

/** The instant the period holding `ms` ends (the next one starts). */
export function periodEnd(period: QuotaPeriod, zone: string, ms: number): number {
  const s = new Date(periodStartWall(period, zone, ms));
  const next =
    period === "day"
      ? Date.UTC(s.getUTCFullYear(), s.getUTCMonth(), s.getUTCDate() + 1)
      : period === "week"
        ? Date.UTC(s.getUTCFullYear(), s.getUTCMonth(), s.getUTCDate() + 7)
        : Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 1);
  return instantOfWall(zone, next);
}
