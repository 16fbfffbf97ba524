// Schedules as a pure function: (policy, instant) → the policy in force and the next
// boundary. Property tests against an independent reading of the wall clock, across zones
// with daylight-saving changes (including half-hour ones) and windows crossing midnight.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  activeWindows,
  defaultPolicy,
  describeWindow,
  effectivePolicy,
  nextBoundary,
  validatePolicy,
  WEEKDAYS,
  type Policy,
} from "../src/index.ts";

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "America/Sao_Paulo",
  "Australia/Lord_Howe", // 30-minute daylight-saving shift
  "Pacific/Chatham", // +12:45 / +13:45
  "Asia/Kolkata",
  "America/St_Johns",
];

function policyWith(timeZone: string, schedules: unknown[]): Policy {
  const r = validatePolicy({ ...defaultPolicy(), timeZone, schedules });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

/** Local weekday (mon…sun) and minute of the day, read independently through toLocaleString. */
function local(zone: string, ms: number): { day: number; minute: number } {
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday!);
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** The definition, written the plain way: today's part of a window, or yesterday's overflow. */
function oracleActive(p: Policy, ms: number): number[] {
  const { day, minute } = local(p.timeZone, ms);
  const hm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  return p.schedules.flatMap((w, i) => {
    const s = hm(w.start);
    const e = hm(w.end);
    const on = (d: number) => w.days.includes(WEEKDAYS[(d + 7) % 7]!);
    const today = on(day) && minute >= s && (e > s ? minute < e : true);
    const overflow = e <= s && on(day - 1) && minute < e;
    return today || overflow ? [i] : [];
  });
}

const time = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45, 59))
  .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
const windowArb = fc
  .record({
    days: fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1, maxLength: 7 }),
    start: time,
    end: fc.oneof(time, fc.constant("24:00")),
  })
  .filter((w) => w.start !== w.end);
const scheduleArb = fc.record({
  zone: fc.constantFrom(...ZONES),
  windows: fc.array(windowArb, { minLength: 1, maxLength: 3 }),
  // instants from 2024 to 2031, around DST changes as often as not
  at: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2031, 0, 1) }),
});
const toPolicy = (s: { zone: string; windows: { days: string[]; start: string; end: string }[] }) =>
  policyWith(
    s.zone,
    // each window changes its own class: windows may overlap in time
    s.windows.map((w, i) => ({
      name: `w${i}`,
      ...w,
      classes: [{ class: ["p2p", "bulk", "web"][i]!, priority: 7 }],
    })),
  );

test("the windows in force agree with a plain reading of the local wall clock", () => {
  fc.assert(
    fc.property(scheduleArb, (s) => {
      const p = toPolicy(s);
      assert.deepEqual(activeWindows(p, s.at), oracleActive(p, s.at));
    }),
    { numRuns: 300 },
  );
});

test("the next boundary is the first instant the set of windows changes (minute by minute)", () => {
  fc.assert(
    fc.property(scheduleArb, (s) => {
      const p = toPolicy(s);
      const now = activeWindows(p, s.at).join();
      const b = nextBoundary(p, s.at);
      const limit = s.at + 15 * 86400_000;
      // every whole minute after `at` up to the boundary (or two weeks): nothing changes
      const first = Math.floor(s.at / 60000) * 60000 + 60000;
      for (let t = first; t < (b ? b.at : limit); t += 60000)
        assert.equal(
          activeWindows(p, t).join(),
          now,
          `changed at ${new Date(t).toISOString()} before the boundary`,
        );
      if (!b) return;
      assert.ok(b.at > s.at);
      assert.ok(b.at - 1 <= s.at || activeWindows(p, b.at - 1).join() === now);
      const then = activeWindows(p, b.at);
      assert.notEqual(then.join(), now);
      assert.deepEqual(
        [...b.starts, ...b.ends].sort(),
        p.schedules
          .filter((_, i) => then.includes(i) !== now.split(",").includes(String(i)))
          .map((w) => w.name)
          .sort(),
      );
    }),
    { numRuns: 60 },
  );
});

test("no windows, or windows covering the whole week: no boundary", () => {
  assert.equal(nextBoundary(policyWith("UTC", []), Date.now()), null);
  const always = policyWith("Europe/Berlin", [
    {
      name: "all",
      days: [...WEEKDAYS],
      start: "00:00",
      end: "24:00",
      classes: [{ class: "p2p", priority: 7 }],
    },
  ]);
  assert.deepEqual(activeWindows(always, Date.UTC(2026, 2, 29, 1, 30)), [0]);
  assert.equal(nextBoundary(always, Date.UTC(2026, 2, 29, 0, 0)), null);
});

test("weekdays 08:00–18:00 in Berlin: p2p capped to 2 Mbit/s inside, back outside", () => {
  const p = policyWith("Europe/Berlin", [
    {
      name: "work-hours",
      days: ["mon", "tue", "wed", "thu", "fri"],
      start: "08:00",
      end: "18:00",
      classes: [{ class: "p2p", ceil: "2mbit" }],
      rules: [{ protocol: "http", class: "bulk" }],
    },
  ]);
  const p2p = (q: Policy) => q.classes.upload.find((c) => c.name === "p2p")!.ceil;
  // Monday 7 December 2026, 09:00 CET = 08:00 UTC
  const inside = effectivePolicy(p, Date.UTC(2026, 11, 7, 8, 0));
  assert.deepEqual(inside.active, ["work-hours"]);
  assert.equal(p2p(inside.policy), 2_000_000);
  assert.equal(inside.policy.classes.download.find((c) => c.name === "p2p")!.ceil, 2_000_000);
  assert.equal(inside.policy.rules.find((r) => "protocol" in r && r.protocol === "http")!.class, "bulk");
  assert.equal(inside.policy.rules.length, p.rules.length, "the rule for http is replaced, not added");
  assert.deepEqual(inside.next, { at: Date.UTC(2026, 11, 7, 17, 0), starts: [], ends: ["work-hours"] });
  // Friday 19:00 → next is Monday 08:00 CET
  const weekend = effectivePolicy(p, Date.UTC(2026, 11, 11, 18, 0));
  assert.deepEqual(weekend.active, []);
  assert.equal(p2p(weekend.policy), p2p(p));
  assert.equal(weekend.next!.at, Date.UTC(2026, 11, 14, 7, 0));
  assert.deepEqual(weekend.next!.starts, ["work-hours"]);
  assert.equal(describeWindow(p.schedules[0]!), "Mon–Fri 08:00–18:00");
});

test("a window crossing midnight ends the next day, and Sunday's wraps into Monday", () => {
  const p = policyWith("UTC", [
    {
      name: "night",
      days: ["fri", "sun"],
      start: "22:00",
      end: "06:00",
      classes: [{ class: "p2p", priority: 7 }],
    },
  ]);
  // 2026-12-12 is a Saturday
  assert.deepEqual(activeWindows(p, Date.UTC(2026, 11, 12, 3, 0)), [0]); // Sat 03:00 (from Fri)
  assert.deepEqual(activeWindows(p, Date.UTC(2026, 11, 12, 23, 0)), []); // Sat 23:00
  assert.deepEqual(activeWindows(p, Date.UTC(2026, 11, 14, 5, 59)), [0]); // Mon 05:59 (from Sun)
  assert.equal(nextBoundary(p, Date.UTC(2026, 11, 14, 5, 0))!.at, Date.UTC(2026, 11, 14, 6, 0));
  assert.equal(nextBoundary(p, Date.UTC(2026, 11, 12, 7, 0))!.at, Date.UTC(2026, 11, 13, 22, 0));
});

test("daylight saving in Berlin: a window starting in the skipped hour starts at the jump", () => {
  // 29 March 2026: 02:00 CET → 03:00 CEST (01:00 UTC)
  const p = policyWith("Europe/Berlin", [
    { name: "dawn", days: ["sun"], start: "02:30", end: "04:00", classes: [{ class: "p2p", priority: 7 }] },
  ]);
  const b = nextBoundary(p, Date.UTC(2026, 2, 29, 0, 30))!;
  assert.equal(b.at, Date.UTC(2026, 2, 29, 1, 0));
  assert.deepEqual(b.starts, ["dawn"]);
  assert.equal(nextBoundary(p, b.at)!.at, Date.UTC(2026, 2, 29, 2, 0)); // 04:00 CEST
});

test("daylight saving in Berlin: the repeated hour is in force twice", () => {
  // 25 October 2026: 03:00 CEST → 02:00 CET (01:00 UTC)
  const p = policyWith("Europe/Berlin", [
    { name: "late", days: ["sun"], start: "01:00", end: "02:30", classes: [{ class: "p2p", priority: 7 }] },
  ]);
  const steps: string[] = [];
  let t = Date.UTC(2026, 9, 24, 22, 0);
  for (let i = 0; i < 4; i++) {
    const b = nextBoundary(p, t)!;
    steps.push(`${new Date(b.at).toISOString().slice(11, 16)} ${b.starts.length ? "start" : "end"}`);
    t = b.at;
  }
  // 01:00 CEST (23:00 UTC), 02:30 CEST (00:30), 02:00 CET again (01:00), 02:30 CET (01:30)
  assert.deepEqual(steps, ["23:00 start", "00:30 end", "01:00 start", "01:30 end"]);
});

test("validation names the field: bad zone, end equal to start, overlaps, unknown class, limits", () => {
  const base = defaultPolicy();
  const issues = (doc: Record<string, unknown>) => {
    const r = validatePolicy({ ...base, ...doc });
    return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
  };
  const w = (extra: Record<string, unknown>) => ({
    name: "w",
    days: ["mon"],
    start: "08:00",
    end: "18:00",
    classes: [{ class: "p2p", ceil: "2mbit" }],
    ...extra,
  });
  assert.match(
    issues({ timeZone: "Mars/Olympus" }).join("\n"),
    /^timeZone: unknown time zone "Mars\/Olympus"/,
  );
  assert.match(
    issues({ schedules: [w({ end: "08:00" })] }).join("\n"),
    /^schedules\[0\]\.end: the window ends when it starts/,
  );
  assert.match(issues({ schedules: [w({ start: "25:00" })] }).join("\n"), /^schedules\[0\]\.start: a time/);
  assert.match(
    issues({ schedules: [w({}), w({ name: "v", days: ["mon"], start: "17:00", end: "02:00" })] }).join("\n"),
    /^schedules\[1\]: overlaps schedules\[0\] \("w"\) on upload class "p2p" \(Mon 17:00–18:00\)/,
  );
  // the same class in different directions, or at different times, is fine
  assert.deepEqual(
    issues({
      schedules: [
        w({ classes: [{ class: "p2p", direction: "upload", ceil: "2mbit" }] }),
        w({ name: "v", classes: [{ class: "p2p", direction: "download", ceil: "2mbit" }] }),
        w({ name: "u", start: "18:00", end: "08:00" }),
      ],
    }),
    [],
  );
  assert.match(
    issues({
      schedules: [
        w({ rules: [{ protocol: "bittorrent", class: "bulk" }] }),
        w({ name: "v", classes: [], rules: [{ protocol: "bittorrent", class: "web" }] }),
      ],
    }).join("\n"),
    /^schedules\[1\]: overlaps schedules\[0\] \("w"\) on the rule for protocol bittorrent/,
  );
  assert.match(
    issues({ schedules: [w({ classes: [{ class: "nope", rate: "1mbit" }] })] }).join("\n"),
    /^schedules\[0\]\.classes\[0\]\.class: no class named "nope"/,
  );
  assert.match(
    issues({ schedules: [w({ classes: [{ class: "p2p" }] })] }).join("\n"),
    /^schedules\[0\]\.classes\[0\]: a class change sets at least one/,
  );
  assert.match(
    issues({ schedules: [w({ rules: [{ protocol: "ssh", class: "nope" }] })] }).join("\n"),
    /^schedules\[0\]\.rules\[0\]\.class: no class named "nope"/,
  );
  assert.deepEqual(issues({ schedules: [w({ classes: [{ class: "p2p", ceil: "30mbit" }] })] }), [
    'schedules[0].classes[0].ceil: while "w" is in force: ceil 30Mbit is above the link rate 20Mbit',
  ]);
  // two windows that are fine alone but not together (2 Mbit/s of upload rates to spare)
  const slack = structuredClone(base);
  slack.classes.upload.find((c) => c.name === "default")!.rate = "3mbit";
  const both = validatePolicy({
    ...slack,
    schedules: [
      w({ classes: [{ class: "p2p", rate: "3mbit", direction: "upload" }] }),
      w({
        name: "v",
        start: "12:00",
        end: "13:00",
        classes: [{ class: "bulk", rate: "5mbit", direction: "upload" }],
      }),
    ],
  });
  assert.ok(!both.ok);
  assert.equal(both.issues.length, 1, JSON.stringify(both.issues));
  assert.match(
    `${both.issues[0]!.path}: ${both.issues[0]!.message}`,
    /^schedules\[0\]: while "w" and "v" are in force: the guaranteed rates of .* add up to 22Mbit/,
  );
  const alone = validatePolicy({
    ...slack,
    schedules: [w({ classes: [{ class: "p2p", rate: "3mbit", direction: "upload" }] })],
  });
  assert.ok(alone.ok);
});
