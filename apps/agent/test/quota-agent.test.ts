// Quota counts in the agent, on the FakeKernel's nftables (quota objects) and an injected
// clock: the kernel's count is read into quota-usage.json, carried into the next apply and
// into an agent started on an empty kernel (a reboot), and a new period starts from zero
// through a history entry.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import { TestAgent } from "../src/testing/test-agent.ts";
import { ManualClock } from "../src/daemon/clock.ts";

const TABLE = "inet sluice";

function policy(): PolicyInput {
  return {
    ...defaultPolicy(),
    timeZone: "Europe/Berlin",
    quotas: [{ name: "kid", address: "10.1.0.23", allowance: "1MB", period: "day", demoteTo: "bulk" }],
  } as PolicyInput;
}

const used = (t: TestAgent) => t.agent.status().quotas!.find((q) => q.name === "kid")!;
const kernelQuota = (t: TestAgent) => t.kernel.nft.tables.get(TABLE)?.quotas.get("quota_kid");

test("counts survive an apply and a reboot; a new day starts from zero", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-quota-"));
  const socket = join(dir, "agent.sock");
  // Monday 7 December 2026, 10:00 CET
  const clock = new ManualClock(Date.UTC(2026, 11, 7, 9, 0));
  const t = await TestAgent.start({ socket, dataDir: dir, initialPolicy: policy(), sampleMs: 0, clock });
  try {
    assert.deepEqual(kernelQuota(t), { bytes: 1_000_000, used: 0, inv: true });
    t.kernel.nft.consume(TABLE, "quota_kid", 400_000); // the host's traffic, counted by the kernel
    await t.agent.syncQuotas();
    assert.equal(used(t).used, 400_000);
    assert.equal(used(t).demoted, false);
    assert.equal(used(t).periodKey, "2026-12-07");
    assert.equal(used(t).periodEnds, "2026-12-07T23:00:00.000Z");
    const file = JSON.parse(readFileSync(join(dir, "quota-usage.json"), "utf8")) as unknown;
    assert.deepEqual(file, { version: 1, used: { kid: { period: "2026-12-07", bytes: 400_000 } } });

    // an apply replaces the table: the count carries on from the kernel's, not from zero
    // (past the allowance the kernel reports the allowance: still spent after the apply)
    t.kernel.nft.consume(TABLE, "quota_kid", 500_000);
    await t.agent.apply({ ...policy(), name: "again" }, { user: "admin" });
    assert.deepEqual(kernelQuota(t), { bytes: 1_000_000, used: 900_000, inv: true });
    assert.match(
      t.lastGood()!.scripts.nft ?? "",
      /quota quota_kid \{\n {4}over 1000000 bytes used 900000 bytes/,
    );
    t.kernel.nft.consume(TABLE, "quota_kid", 300_000);
    await t.agent.syncQuotas();
    assert.equal(used(t).used, 1_000_000, "the kernel reports a spent quota at its allowance");
    assert.equal(used(t).demoted, true);
  } finally {
    await t.stop();
  }

  // a reboot: an empty kernel, the same data directory, later the same day
  clock.set(Date.UTC(2026, 11, 7, 20, 0));
  const again = await TestAgent.start({ socket, dataDir: dir, sampleMs: 0, clock });
  try {
    await again.agent.scheduler.idle();
    assert.equal(kernelQuota(again)?.used, 1_000_000, "the restored table starts from the saved count");
    assert.equal(used(again).demoted, true);
    const entries = again.entries.length;
    // midnight in Berlin: the period resets through an apply with a history entry
    clock.set(Date.UTC(2026, 11, 7, 23, 0));
    await again.agent.scheduler.idle();
    assert.equal(again.entries.length, entries + 1);
    const last = again.agent.history()[0]!;
    assert.equal(last.note, "quota: kid period reset (2026-12-08)");
    assert.equal(last.status, "applied");
    assert.equal(kernelQuota(again)?.used, 0);
    assert.equal(used(again).used, 0);
    assert.equal(used(again).demoted, false);
    assert.equal(used(again).periodKey, "2026-12-08");
  } finally {
    await again.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
