// The live per-app and per-protocol lines: bursty counters read once a second do not zigzag.

import { test } from "node:test";
import assert from "node:assert/strict";
import { smoothRates } from "../src/lib/smooth.ts";

test("a flow delivering 2 Mbit every other second reads as a steady 1 Mbit/s", () => {
  const ts = Array.from({ length: 20 }, (_, i) => 1_000_000 + i * 1000);
  const raw = ts.map((_, i) => (i % 2 ? 2e6 : 0));
  const smooth = smoothRates(ts, raw, 4000);
  for (const v of smooth.slice(4)) assert.ok(Math.abs(v! - 1e6) < 1, `${v} is about 1 Mbit/s`);
  // the raw series swings by 2 Mbit/s between neighbours; the smoothed one by nothing
  const swing = (ys: (number | null)[]) =>
    Math.max(...ys.slice(5).map((y, i) => Math.abs(y! - ys.slice(4)[i]!)));
  assert.equal(swing(raw), 2e6);
  assert.ok(swing(smooth) < 1);
});

test("a steady rate stays itself, gaps stay gaps, irregular sampling is weighted by time", () => {
  const ts = [0, 1000, 2000, 3000, 4000];
  assert.deepEqual(smoothRates(ts, [5, 5, 5, 5, 5], 3000), [5, 5, 5, 5, 5]);
  assert.deepEqual(smoothRates(ts, [5, null, 5, 5, 5], 3000)[1], null);
  // 1 s at 0 then 3 s at 4: the mean over the last 4 s is 3
  assert.equal(smoothRates([0, 1000, 4000], [0, 0, 4], 4000)[2], 3);
});
