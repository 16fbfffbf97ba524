// Per-connection rates come from each connection's bytes at the previous conntrack pass,
// found by the kernel's connection id (netlink) or by its tuple (the conntrack tool's text).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Accounting } from "../src/stats/accounting.ts";
import type { KernelCounters } from "../src/stats/kernel-counters.ts";
import type { CtEntry } from "../src/stats/ctnetlink.ts";
import type { Executor } from "../src/kernel/executor.ts";

const entry = (id: number, sport: number, bytes: number): CtEntry => ({
  l4: "udp",
  src: "10.0.0.2",
  dst: "10.0.1.2",
  sport,
  dport: 53,
  mark: 0,
  bytes,
  packets: 1,
  state: null,
  id,
});

test("connection rates follow each connection id between two passes, over thousands of ids", async () => {
  let table: CtEntry[] = [];
  const kernel = {
    classes: async () => [],
    nftCounters: async () => [],
    conntrack: async (onEntry: (e: CtEntry) => void) => {
      for (const e of table) onEntry(e);
      return table.length;
    },
  } as unknown as KernelCounters;
  const acct = new Accounting({
    exec: { run: async () => ({ code: 1, stdout: "", stderr: "" }) } as unknown as Executor,
    model: () => null,
    protocolOf: () => "unknown",
    ipv6: false,
    kernel,
    maxConnections: 10,
  });
  const N = 5000;
  table = Array.from({ length: N }, (_, i) => entry((0xfffff000 + i * 7919) >>> 0, 1000 + (i % 60000), 100));
  const first = await acct.tick();
  // Connection i sent i more bytes; a new id (same tuple as the first) has no rate yet.
  table = table.map((e, i) => ({ ...e, bytes: e.bytes + i }));
  table.push(entry(42, 1000, 1_000_000));
  // The next pass comes once its time budget allows (a second at least).
  let s = first;
  for (let i = 0; i < 60 && s.conntrack!.at === first.conntrack!.at; i++) {
    await new Promise((r) => setTimeout(r, 500));
    s = await acct.tick();
  }
  const top = acct.allConnections();
  assert.equal(s.totals.connections, N + 1);
  assert.equal(top.length, 10);
  // The busiest by rate are the last ids, in order; the new one is not among them.
  assert.deepEqual(
    top.map((c) => c.bytes - 100),
    Array.from({ length: 10 }, (_, i) => N - 1 - i),
  );
  const dt = ((top[0]!.bytes - 100) * 8) / top[0]!.rateBps;
  assert.ok(dt > 0.5 && dt < 10, `rate from the elapsed time between passes (${dt} s)`);
  for (const c of top) assert.ok(Math.abs(c.rateBps - ((c.bytes - 100) * 8) / dt) < 1e-6 * c.rateBps + 1e-9);
});
