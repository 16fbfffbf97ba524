import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy, markFields } from "@sluice/policy";
import { TestAgent } from "../src/testing/test-agent.ts";
import { NFT_DECIDED_MAP, NFT_FAMILY, NFT_TABLE, protocolCounter } from "../src/render/nft.ts";

// A decided connection's packets are counted by the post chain's first lookup (the decided
// map's element counter, render/nft.ts), the others by the protocol's named counter: the
// protocol's bytes are both.
test("per-protocol bytes: the named counter plus the decided map's element counter", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-decided-"));
  const t = await TestAgent.start({
    socket: join(dir, "agent.sock"),
    initialPolicy: defaultPolicy(),
    sampleMs: 0,
  });
  try {
    const table = `${NFT_FAMILY} ${NFT_TABLE}`;
    // sip: a protocol of the default policy the test agent's made-up traffic leaves alone
    const l7 = t.agent.protocolCatalogue().find((p) => p.name === "sip")!.mark;
    const key = (l7 << markFields().protocol.shift) >>> 0;
    const bytesOf = async () =>
      (await t.agent.accounting.tick()).protocols.find((p) => p.protocol === "sip")?.bytes ?? 0;
    const before = await bytesOf();
    assert.ok(
      t.kernel.nft.countElement(table, NFT_DECIDED_MAP, key, 120_000, 100),
      "sip is in the decided map",
    );
    t.kernel.nft.count(table, protocolCounter(l7), 6_000, 5);
    assert.equal((await bytesOf()) - before, 126_000);
  } finally {
    await t.stop();
  }
});
