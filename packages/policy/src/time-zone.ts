// Wall-clock time in an IANA time zone, from the runtime's ICU data (Intl): the UTC offset
// at an instant and the local day of week and minute. Schedules and quota periods are
// defined on the local wall clock, so daylight-saving changes move them with the clock.

/** Minutes in a week; local time as "minute of the week" counts from Monday 00:00. */
export const WEEK_MINUTES = 7 * 24 * 60;

export interface WallClock {
  /** Local time minus UTC, in ms, at the instant. */
  offsetMs: number;
  /** Local wall time as if it were UTC (ms), e.g. for getUTCDate(). */
  wallMs: number;
  /** Day of week, Monday 0 … Sunday 6. */
  weekday: number;
  /** Minute of the week, with the fraction of the minute (Monday 00:00 = 0). */
  minuteOfWeek: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when the runtime knows `zone` as an IANA time zone ("Europe/Berlin", "UTC"). */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(zone)) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall clock in `zone` at the instant `ms` (UTC epoch milliseconds). */
export function wallClock(zone: string, ms: number): WallClock {
  const parts = formatter(zone).formatToParts(new Date(ms));
  const n = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const frac = ((ms % 1000) + 1000) % 1000;
  const wallMs = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) + frac;
  const day = new Date(wallMs);
  const weekday = (day.getUTCDay() + 6) % 7;
  const minuteOfDay = (wallMs - Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate())) / 60000;
  return { offsetMs: wallMs - ms, wallMs, weekday, minuteOfWeek: weekday * 1440 + minuteOfDay };
}

/**
 * The first instant in (from, to] at which the zone's UTC offset differs from the one at
 * `from` (a daylight-saving change), found by bisection to the millisecond; the caller
 * knows the offsets at `from` and `to` differ.
 */
export function offsetChange(zone: string, from: number, to: number): number {
  const off = wallClock(zone, from).offsetMs;
  let lo = from;
  let hi = to;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(zone, mid).offsetMs === off) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The first instant whose local wall time is at or after the wall time `wallMs` (local time
 * written as UTC ms): the usual instant, or where that wall time does not exist (the hour
 * skipped in spring), the moment the clock jumps past it. Ambiguous wall times (autumn)
 * give the first of the two instants.
 */
export function instantOfWall(zone: string, wallMs: number): number {
  // Offsets lie within ±18 h: start a day early and walk with the offset found there.
  let t = wallMs - 18 * 3600_000;
  for (let i = 0; i < 8; i++) {
    const c = wallClock(zone, t);
    if (c.wallMs >= wallMs) return t;
    const next = t + (wallMs - c.wallMs);
    const n = wallClock(zone, next);
    if (n.offsetMs !== c.offsetMs) {
      // a change lies in between: move to it and look again from there
      const change = offsetChange(zone, t, next);
      if (wallClock(zone, change).wallMs >= wallMs) return change;
      t = change;
      continue;
    }
    return next;
  }
  return t;
}
