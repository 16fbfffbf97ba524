// (policy, instant) → the policy in force and the next boundary. A window is in force
// whenever the local wall clock (policy.timeZone) reads a time inside it: from `start` on
// each of its days to `end` (the next day when end ≤ start). On the day clocks skip an hour
// a window starting inside the gap starts when the clock jumps; on the day they go back, a
// window covering the repeated hour is in force during both passes of it.

import type { Policy, TargetRule, Direction } from "./schema.ts";
import { DIRECTIONS, ruleTarget } from "./schema.ts";
import { WEEKDAYS, minutesOf, type ScheduleWindow } from "./schedule-schema.ts";
import { WEEK_MINUTES, offsetChange, wallClock } from "./time-zone.ts";

/** [start, end) in minutes of the week (Monday 00:00 = 0), never wrapping. */
export type WeekInterval = readonly [number, number];

/** The minutes of the week a window covers, split where they wrap past Sunday midnight. */
export function windowIntervals(w: Pick<ScheduleWindow, "days" | "start" | "end">): WeekInterval[] {
  const s = minutesOf(w.start);
  const e = minutesOf(w.end);
  const length = e > s ? e - s : e + 1440 - s;
  const out: WeekInterval[] = [];
  for (const d of new Set(w.days)) {
    const from = WEEKDAYS.indexOf(d) * 1440 + s;
    const to = from + length;
    if (to <= WEEK_MINUTES) out.push([from, to]);
    else out.push([from, WEEK_MINUTES], [0, to - WEEK_MINUTES]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

const inside = (iv: readonly WeekInterval[], minute: number) =>
  iv.some(([a, b]) => minute >= a && minute < b);

/** Indexes of the windows in force at the instant `ms`. */
export function activeWindows(policy: Pick<Policy, "schedules" | "timeZone">, ms: number): number[] {
  if (!policy.schedules.length) return [];
  const m = wallClock(policy.timeZone, ms).minuteOfWeek;
  return policy.schedules.flatMap((w, i) => (inside(windowIntervals(w), m) ? [i] : []));
}

export interface ScheduleBoundary {
  /** The instant (UTC epoch ms) the set of windows in force changes. */
  at: number;
  /** Names of the windows that start and end there. */
  starts: string[];
  ends: string[];
}

/**
 * The first instant after `ms` at which the set of windows in force changes, or null when
 * it never does (no windows, or windows covering the whole week).
 */
export function nextBoundary(
  policy: Pick<Policy, "schedules" | "timeZone">,
  ms: number,
): ScheduleBoundary | null {
  const { schedules, timeZone } = policy;
  if (!schedules.length) return null;
  const intervals = schedules.map(windowIntervals);
  const edges = [...new Set(intervals.flat().flatMap(([a, b]) => [a % WEEK_MINUTES, b % WEEK_MINUTES]))];
  const setAt = (t: number) => {
    const m = wallClock(timeZone, t).minuteOfWeek;
    return intervals.map((iv) => inside(iv, m));
  };
  const now = setAt(ms);
  const differs = (t: number) => {
    const s = setAt(t);
    return s.some((v, i) => v !== now[i]) ? s : null;
  };
  const result = (at: number, s: boolean[]): ScheduleBoundary => ({
    at,
    starts: schedules.flatMap((w, i) => (s[i] && !now[i] ? [w.name] : [])),
    ends: schedules.flatMap((w, i) => (!s[i] && now[i] ? [w.name] : [])),
  });
  let t = ms;
  // Each step reaches the next edge on the wall clock, or an offset change before it; two
  // weeks of steps find any change there is (a week of edges, plus a few offset changes).
  for (let step = 0; step < 2 * edges.length + 16; step++) {
    const c = wallClock(timeZone, t);
    const minute = Math.floor(c.minuteOfWeek);
    const wallMinute = Math.floor(c.wallMs / 60000) * 60000;
    let ahead = Infinity;
    for (const e of edges) {
      const d = e > minute ? e - minute : e - minute + WEEK_MINUTES;
      if (d < ahead) ahead = d;
    }
    const cand = wallMinute + ahead * 60000 - c.offsetMs;
    const at = wallClock(timeZone, cand).offsetMs === c.offsetMs ? cand : offsetChange(timeZone, t, cand);
    const s = differs(at);
    if (s) return result(at, s);
    t = at;
  }
  return null;
}

/** A target rule's identity (the same target in two rules is the same rule). */
export function ruleKey(r: TargetRule): string {
  const { kind, value } = ruleTarget(r);
  return `${kind}\u0000${kind === "hostname" ? value.toLowerCase() : value}`;
}

/** The directions a class change touches. */
export const changeDirections = (c: { direction?: Direction | undefined }): readonly Direction[] =>
  c.direction ? [c.direction] : DIRECTIONS;

/** The policy with the given windows' changes made (classes' limits, rules replaced or added). */
export function withWindows(policy: Policy, active: readonly number[]): Policy {
  if (!active.length) return policy;
  const out: Policy = structuredClone(policy);
  for (const i of active) {
    const w = policy.schedules[i]!;
    for (const change of w.classes)
      for (const dir of changeDirections(change))
        for (const c of out.classes[dir])
          if (c.name === change.class) {
            if (change.rate !== undefined) c.rate = change.rate;
            if (change.ceil !== undefined) c.ceil = change.ceil;
            if (change.priority !== undefined) c.priority = change.priority;
          }
    for (const r of w.rules) {
      const at = out.rules.findIndex((x) => ruleKey(x) === ruleKey(r));
      if (at >= 0) out.rules[at] = structuredClone(r);
      else out.rules.push(structuredClone(r));
    }
  }
  return out;
}

export interface EffectivePolicy {
  /** The policy with the windows in force applied: what the box should run now. */
  policy: Policy;
  /** Names of the windows in force. */
  active: string[];
  next: ScheduleBoundary | null;
}

/** What is in force at `ms` and when that changes. */
export function effectivePolicy(policy: Policy, ms: number): EffectivePolicy {
  const idx = activeWindows(policy, ms);
  return {
    policy: withWindows(policy, idx),
    active: idx.map((i) => policy.schedules[i]!.name),
    next: nextBoundary(policy, ms),
  };
}

/** "Mon–Fri 08:00–18:00"-style summary of a window's days and hours. */
export function describeWindow(w: Pick<ScheduleWindow, "days" | "start" | "end">): string {
  const label = (d: string) => d[0]!.toUpperCase() + d.slice(1);
  const days = WEEKDAYS.filter((d) => w.days.includes(d));
  const idx = days.map((d) => WEEKDAYS.indexOf(d));
  const run = idx.length > 2 && idx.every((v, i) => i === 0 || v === idx[i - 1]! + 1);
  const dayText = run ? `${label(days[0]!)}–${label(days.at(-1)!)}` : days.map(label).join(",");
  return `${dayText} ${w.start}–${w.end}`;
}
