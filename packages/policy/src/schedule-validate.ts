// Cross-field checks of the schedules: the time zone exists, windows last, no two windows
// change the same class or rule at the same time, what they change exists, and every mix
// of windows that can be in force at once still makes a valid policy. Paths point into
// "schedules[i]…" so the dashboard can show each problem beside its field.

import type { Policy } from "./schema.ts";
import { WEEKDAYS, minutesOf } from "./schedule-schema.ts";
import { changeDirections, ruleKey, windowIntervals, withWindows, type WeekInterval } from "./schedule.ts";
import { isTimeZone } from "./time-zone.ts";
import { validatePolicy, validateTargetRules, type PolicyIssue, type ValidationContext } from "./validate.ts";

type Add = (path: string, message: string) => void;

const at = (i: number) => `schedules[${i}]`;

function clockText(minuteOfWeek: number): string {
  const d = Math.floor(minuteOfWeek / 1440) % 7;
  const m = minuteOfWeek % 1440;
  const day = WEEKDAYS[d]!;
  return `${day[0]!.toUpperCase()}${day.slice(1)} ${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function overlap(a: readonly WeekInterval[], b: readonly WeekInterval[]): WeekInterval | null {
  for (const [a0, a1] of a)
    for (const [b0, b1] of b) {
      const from = Math.max(a0, b0);
      const to = Math.min(a1, b1);
      if (from < to) return [from, to];
    }
  return null;
}

/** What a window changes: "upload class \"p2p\"", "rule bittorrent", each once. */
function targetsOf(policy: Policy, i: number): Map<string, string> {
  const w = policy.schedules[i]!;
  const out = new Map<string, string>();
  for (const c of w.classes)
    for (const dir of changeDirections(c))
      out.set(`class\u0000${dir}\u0000${c.class}`, `${dir} class "${c.class}"`);
  for (const r of w.rules)
    out.set(`rule\u0000${ruleKey(r)}`, `the rule for ${ruleKey(r).replace("\u0000", " ")}`);
  return out;
}

export function checkSchedules(policy: Policy, ctx: ValidationContext, add: Add): void {
  const { schedules } = policy;
  if (!isTimeZone(policy.timeZone))
    add("timeZone", `unknown time zone "${policy.timeZone}" (an IANA name such as Europe/Berlin, or UTC)`);
  const names = new Map<string, number>();
  const intervals = schedules.map(windowIntervals);
  schedules.forEach((w, i) => {
    const prev = names.get(w.name);
    if (prev !== undefined)
      add(`${at(i)}.name`, `duplicate window name "${w.name}" (also schedules[${prev}])`);
    else names.set(w.name, i);
    if (new Set(w.days).size !== w.days.length) add(`${at(i)}.days`, "a day is listed twice");
    if (minutesOf(w.start) === minutesOf(w.end) % 1440 && w.end !== "24:00")
      add(`${at(i)}.end`, `the window ends when it starts (${w.start}); for a whole day use 00:00–24:00`);
    w.classes.forEach((c, j) => {
      const dirs = changeDirections(c).filter((d) => policy.classes[d].some((x) => x.name === c.class));
      if (!dirs.length)
        add(
          `${at(i)}.classes[${j}].class`,
          `no class named "${c.class}" in ${c.direction ?? "upload or download"}`,
        );
    });
    if (w.rules.length) {
      const r = validateTargetRules(w.rules, policy.classes, ctx);
      if (!r.ok) for (const issue of r.issues) add(`${at(i)}.${issue.path}`, issue.message);
    }
  });
  // Two windows changing the same class or rule must not be in force at the same time.
  for (let j = 0; j < schedules.length; j++) {
    const tj = targetsOf(policy, j);
    for (let i = 0; i < j; i++) {
      const shared = [...targetsOf(policy, i)].filter(([k]) => tj.has(k));
      if (!shared.length) continue;
      const o = overlap(intervals[i]!, intervals[j]!);
      if (o)
        add(
          at(j),
          `overlaps schedules[${i}] ("${schedules[i]!.name}") on ${shared[0]![1]} (${clockText(o[0])}–${clockText(o[1]).slice(4)}): two windows cannot change it at the same time`,
        );
    }
  }
}

/**
 * Every set of windows that can be in force at once (the sets found at each window edge of
 * the week), applied to the policy, must itself be valid. Run once the policy and the
 * windows pass on their own.
 */
export function checkScheduledPolicies(policy: Policy, ctx: ValidationContext, add: Add): void {
  const intervals = policy.schedules.map(windowIntervals);
  const edges = [...new Set(intervals.flat().flatMap(([a]) => [a]))];
  const seen = new Set<string>();
  const said = new Set<string>();
  for (const m of edges) {
    const set = intervals.flatMap((iv, i) => (iv.some(([a, b]) => m >= a && m < b) ? [i] : []));
    const key = set.join(",");
    if (!set.length || seen.has(key)) continue;
    seen.add(key);
    const patched = withWindows(policy, set);
    const r = validatePolicy({ ...patched, schedules: [], quotas: [] }, ctx);
    if (r.ok) continue;
    const during = set.map((i) => `"${policy.schedules[i]!.name}"`).join(" and ");
    for (const issue of r.issues) {
      const [path, message] = placeIssue(policy, set, issue, during);
      // a change to both directions' class can break both the same way: say it once
      if (said.has(`${path}\u0000${message}`)) continue;
      said.add(`${path}\u0000${message}`);
      add(path, message);
    }
  }
}

/** An issue of a patched policy, at the window field that caused it where there is one. */
function placeIssue(policy: Policy, set: number[], issue: PolicyIssue, during: string): [string, string] {
  const message = `while ${during} ${set.length > 1 ? "are" : "is"} in force: ${issue.message}`;
  const cls = /^classes\.(upload|download)\[(\d+)\]\.?(\w*)/.exec(issue.path);
  if (cls) {
    const name = policy.classes[cls[1] as "upload" | "download"][Number(cls[2])]?.name;
    for (const i of set) {
      const j = policy.schedules[i]!.classes.findIndex(
        (c) => c.class === name && changeDirections(c).includes(cls[1] as "upload" | "download"),
      );
      if (j >= 0) {
        const field = cls[3] && ["rate", "ceil", "priority"].includes(cls[3]) ? `.${cls[3]}` : "";
        return [`${at(i)}.classes[${j}]${field}`, message];
      }
    }
  }
  return [at(set[0]!), message];
}
