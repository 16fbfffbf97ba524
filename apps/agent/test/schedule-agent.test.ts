// The agent switches at schedule boundaries through its usual apply and history, on an
// injected clock (no sleeping until 08:00): the real Agent on a FakeKernel (TestAgent).
// The kernel's class limits change at the boundary, the history says why, and an agent
// started again (a reboot: empty kernel) puts in force what the clock says now.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import { TestAgent } from "../src/testing/test-agent.ts";
import { ManualClock } from "../src/daemon/clock.ts";

const WORK_HOURS = {
  name: "work-hours",
  days: ["mon", "tue", "wed", "thu", "fri"],
  start: "08:00",
  end: "18:00",
  classes: [{ class: "p2p", ceil: "2mbit" }],
};

function policy(): PolicyInput {
  return { ...defaultPolicy(), timeZone: "Europe/Berlin", schedules: [WORK_HOURS] } as PolicyInput;
}

/** The p2p class's ceil as the fake kernel holds it, per device. */
function p2pCeil(t: TestAgent): Record<string, number> {
  const out: Record<string, number> = {};
  for (const dev of ["wan0", "lan0"]) {
    // p2p is the fourth class of each direction: minor 0x10 + 3
    const c = t.kernel.devices.get(dev)?.classes.find((x) => x.classid === "1:13");
    out[dev] = c?.ceil ?? -1;
  }
  return out;
}

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * The agent on a fake kernel, its clock set to `utc` (ms), in `dataDir` (a new one unless
 * given), applying the scheduled policy first unless it restarts on a data directory.
 */
async function agentAt(utc: number, dataDir = tmp("sluice-sched-"), initial = true) {
  const clock = new ManualClock(utc);
  const t = await TestAgent.start({
    socket: join(dataDir, "agent.sock"),
    dataDir,
    ...(initial ? { initialPolicy: policy() } : {}),
    sampleMs: 0,
    clock,
  });
  return { t, clock, dataDir };
}

test("p2p is capped at 08:00 and released at 18:00 (Berlin), each switch a history entry", async () => {
  // Monday 7 December 2026, 07:59 CET
  const { t, clock } = await agentAt(Date.UTC(2026, 11, 7, 6, 59));
  try {
    await t.agent.scheduler.idle();
    assert.deepEqual(p2pCeil(t), { wan0: 10_000_000, lan0: 10_000_000 });
    assert.equal(t.entries.length, 1);
    const status = t.agent.status();
    assert.deepEqual(status.schedule, {
      timeZone: "Europe/Berlin",
      active: [],
      next: { at: "2026-12-07T07:00:00.000Z", starts: ["work-hours"], ends: [] },
    });

    clock.set(Date.UTC(2026, 11, 7, 7, 0)); // 08:00 CET: the timer fires
    await t.agent.scheduler.idle();
    assert.deepEqual(p2pCeil(t), { wan0: 2_000_000, lan0: 2_000_000 });
    const started = t.agent.history()[0]!;
    assert.equal(started.note, "schedule: work-hours started");
    assert.equal(started.user, "schedule");
    assert.equal(started.status, "applied");
    assert.equal(started.lastGood, true);
    assert.equal(t.agent.status().schedule!.next!.at, "2026-12-07T17:00:00.000Z");
    // the stored policy is the one the admin applied: the window is rendered, not saved into it
    assert.deepEqual(t.lastGood()!.policy, t.entries[0]!.policy);
    assert.match(t.lastGood()!.scripts.tc, /classid 1:13 .*ceil 2000000bit|classid 1:13 .*ceil 2Mbit/i);

    clock.set(Date.UTC(2026, 11, 7, 12, 0)); // noon: nothing to do
    await t.agent.scheduler.idle();
    assert.equal(t.entries.length, 2);

    clock.set(Date.UTC(2026, 11, 7, 17, 0)); // 18:00 CET
    await t.agent.scheduler.idle();
    assert.deepEqual(p2pCeil(t), { wan0: 10_000_000, lan0: 10_000_000 });
    assert.equal(t.agent.history()[0]!.note, "schedule: work-hours ended");
    assert.equal(t.entries.length, 3);

    // an admin's apply inside a window is rendered with it, and no switch follows
    clock.set(Date.UTC(2026, 11, 8, 9, 0)); // Tuesday 10:00 CET
    await t.agent.scheduler.idle();
    assert.equal(t.agent.history()[0]!.note, "schedule: work-hours started");
    const p = policy();
    p.name = "edited";
    const r = await t.agent.apply(p, { user: "admin" });
    await t.agent.scheduler.idle();
    assert.equal(r.entry.user, "admin");
    assert.equal(t.agent.history()[0]!.id, r.entry.id);
    assert.deepEqual(p2pCeil(t), { wan0: 2_000_000, lan0: 2_000_000 });
    assert.deepEqual(t.lastGood()!.windows, ["work-hours"]);
  } finally {
    await t.stop();
  }
});

test("a boundary passed while the agent was stopped is caught up at start (reboot: empty kernel)", async () => {
  // applied on Saturday: no window
  const { t: first, dataDir } = await agentAt(Date.UTC(2026, 11, 12, 10, 0));
  assert.deepEqual(p2pCeil(first), { wan0: 10_000_000, lan0: 10_000_000 });
  await first.stop();
  // Monday 09:30 CET, new fake kernel (nothing installed), same data directory
  const { t: again } = await agentAt(Date.UTC(2026, 11, 14, 8, 30), dataDir, false);
  try {
    await again.agent.scheduler.idle();
    assert.deepEqual(p2pCeil(again), { wan0: 2_000_000, lan0: 2_000_000 });
    const h = again.agent.history();
    assert.equal(h[0]!.note, "schedule: work-hours started");
    assert.equal(h[0]!.lastGood, true);
    assert.deepEqual(again.agent.status().schedule!.active, ["work-hours"]);
  } finally {
    await again.stop();
  }
});

test("while a policy is being tried the schedule waits; confirming lets it switch", async () => {
  const { t, clock } = await agentAt(Date.UTC(2026, 11, 7, 6, 0));
  try {
    await t.agent.scheduler.idle();
    await t.agent.apply({ ...policy(), name: "tried" }, { user: "admin", trySeconds: 600 });
    clock.set(Date.UTC(2026, 11, 7, 7, 0));
    await t.agent.scheduler.idle();
    assert.equal(t.agent.history()[0]!.status, "trying", "no switch on top of a try");
    assert.deepEqual(p2pCeil(t), { wan0: 10_000_000, lan0: 10_000_000 });
    await t.agent.confirm();
    await t.agent.scheduler.idle();
    assert.equal(t.agent.history()[0]!.note, "schedule: work-hours started");
    assert.equal(t.agent.history()[0]!.name, "tried");
    assert.deepEqual(p2pCeil(t), { wan0: 2_000_000, lan0: 2_000_000 });
  } finally {
    await t.stop();
  }
});
