// Overload and lost windows, for real, in namespaces this test creates and removes: the
// router runs the mangle rules the agent renders (render/iptables.ts) and the data plane.
// A connection whose window never fully reached the data plane (its packets passed while no
// worker was bound, as when a full queue fails open or a worker restarts) still ends with a
// verdict, `unknown`: in the kernel even with no data plane at all, and recorded by the data
// plane when it sees the first packet past the window. A queue that overflows moves the
// kernel's counters, which the data plane reports.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsLab, labUnavailable, removeStaleLabs } from "../src/netns-lab.ts";
import { installRenderedRules, renderedNft } from "../src/rendered-rules.ts";
import { DataPlaneProcess } from "./support/data-plane-process.ts";
import { HealthTracker } from "@sluice/agent/src/daemon/classification-health.ts";

const NODE = process.execPath;
const skip: string | false = labUnavailable() ?? false;
const PORT = 9100;
const UNKNOWN = 2 << 8;

// Sends COUNT datagrams from each of the source ports, one port after the other.
const UDP_SEND_JS = `
import dgram from "node:dgram";
const [host, port, count, ...sports] = process.argv.slice(1);
for (const sp of sports) {
  const s = dgram.createSocket("udp4");
  await new Promise((r) => s.bind(Number(sp), r));
  for (let i = 0; i < Number(count); i++) {
    await new Promise((r) => s.send("x".repeat(20), Number(port), host, r));
    if (Number(count) > 1) await new Promise((r) => setTimeout(r, 5));
  }
  s.close();
}
`;

let lab: NetnsLab;
let dir: string;
let patterns: string;

function send(count: number, sports: number[]) {
  const r = lab.exec(lab.client, NODE, [
    "--input-type=module",
    "-e",
    UDP_SEND_JS,
    lab.addr.server4,
    String(PORT),
    String(count),
    ...sports.map(String),
  ]);
  assert.equal(r.code, 0, r.stderr);
}

function ctMark(sport: number): number {
  const e = lab.conntrack(4).find((c) => c.l4 === "udp" && c.sport === sport && c.dport === PORT);
  assert.ok(e, `no conntrack entry for udp ${sport}->${PORT}`);
  return e.mark;
}

/** The data plane on the router's one queue. */
const dataPlane = (args: string[]) =>
  new DataPlaneProcess(lab, ["--queues", "0", "--protocols", patterns, ...args]);

before(() => {
  if (skip) return;
  removeStaleLabs();
  lab = NetnsLab.create("ovl", 12);
  process.once("exit", () => lab.destroy());
  dir = mkdtempSync(join(tmpdir(), "sltest-ovl-"));
  patterns = join(dir, "protocols");
  mkdirSync(patterns);
  writeFileSync(join(patterns, "hello.pat"), "hello\n^hello\n");
  // The agent's rules for a one-queue policy on the router.
  installRenderedRules(lab, { queues: 1, packets: 10, protocolMarks: new Map([["hello", 3]]) });
  lab.restoreRules(lab.server, `*raw\n-A PREROUTING -p udp --dport ${PORT} -j DROP\nCOMMIT\n`, [4]);
});

after(() => {
  if (skip) return;
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("a connection past its window without a verdict gets unknown, data plane or not", { skip }, async () => {
  // No data plane bound: --queue-bypass lets the window's packets through unseen.
  send(10, [40001, 40002]);
  assert.equal(ctMark(40001) & 0xff00, 0, "inside the window: no verdict yet");
  // Still none bound: the first packet past the window marks the connection unknown.
  send(1, [40002]);
  assert.equal(ctMark(40002) & 0xff00, UNKNOWN);
  // With the data plane up, the first packet past the window reaches it marked unknown;
  // it records the flow it never saw the start of, decided unknown.
  const dp = dataPlane(["--events"]);
  try {
    await dp.waitFor((l) => l.event === "ready", "ready line");
    send(2, [40001]);
    const ev = await dp.waitFor(
      (l) => l.event === "flow" && l.client === `${lab.addr.client4}:40001`,
      "flow event for the late connection",
    );
    assert.equal(ev.protocol, "unknown");
    assert.equal(ev.decidedAtPacket, 1);
    assert.equal(ctMark(40001) & 0xff00, UNKNOWN);
  } finally {
    const st = await dp.stop();
    assert.equal(st.late, 1);
    assert.equal(st.decided, 1);
  }
});

test("packets that leave without a verdict are counted, those with one are not", { skip }, async () => {
  // The agent's nftables table for the same policy: its first post rule counts forwarded
  // TCP/UDP packets whose protocol field is still 0 (the kernel counts a fail-open nowhere).
  const nft = renderedNft({ queues: 1, packets: 10, protocolMarks: new Map([["hello", 3]]) });
  assert.ok(nft, "the policy renders an nftables table");
  lab.mustExec(lab.router, "nft", ["-f", "-"], nft);
  const uninspected = () => {
    const out = lab.mustExec(lab.router, "nft", ["list", "counter", "inet", "sluice", "uninspected"]);
    return Number(/packets (\d+)/.exec(out)?.[1] ?? NaN);
  };
  try {
    assert.equal(uninspected(), 0);
    // No data plane bound: --queue-bypass passes the window's packets, unseen and counted.
    send(3, [42001]);
    assert.equal(uninspected(), 3);
    // Bound: every packet gets a verdict (the field says "being inspected"), none counted.
    const dp = dataPlane(["--stats-every", "100"]);
    try {
      await dp.waitFor((l) => l.event === "ready", "ready line");
      send(3, [42002]);
      // every packet verdicted (so past postrouting) before the counter is read
      await dp.waitFor((l) => l.event === "stats" && Number(l.packets) >= 3, "3 packets verdicted");
      assert.equal(ctMark(42002) & 0xff00, 0, "inside its window, not decided yet");
      assert.equal(uninspected(), 3);
    } finally {
      await dp.stop();
    }
  } finally {
    lab.exec(lab.router, "nft", ["delete", "table", "inet", "sluice"]);
  }
});

test(
  "a queue that overflows moves the kernel's drop counters, reported by the data plane",
  { skip },
  async () => {
    // No fail-open and a 1-packet queue: a burst of new connections overflows it.
    const dp = dataPlane(["--no-fail-open", "--maxlen", "1", "--stats-every", "100"]);
    try {
      await dp.waitFor((l) => l.event === "ready", "ready line");
      send(
        1,
        Array.from({ length: 400 }, (_, i) => 41000 + i),
      );
      await dp.waitFor((l) => l.event === "stats" && Number(l.queueDropped) > 0, "queue drops in stats");
    } finally {
      await dp.stop();
    }
  },
);

test("classification health: degraded while an overload counter moved within the last minute", () => {
  const h = new HealthTracker();
  const c = {
    queueDropped: 0,
    userDropped: 0,
    unseen: 0,
    lateKernel: 0,
    lateSeen: 0,
    restarts: 0,
    uninspected: 0,
  };
  h.record(c, 0);
  h.record({ ...c }, 30_000);
  assert.equal(h.current().degraded, false);
  h.record({ ...c, unseen: 40, lateKernel: 3 }, 40_000);
  const d = h.current();
  assert.equal(d.degraded, true);
  assert.deepEqual(d.reasons, [
    "40 packets passed uninspected (fail-open)",
    "3 connections lost part of their window and were marked unknown",
  ]);
  // A minute later with no new losses: healthy again, the totals kept.
  h.record({ ...c, unseen: 40, lateKernel: 3 }, 100_000);
  h.record({ ...c, unseen: 40, lateKernel: 3 }, 110_000);
  assert.equal(h.current().degraded, false);
  assert.equal(h.current().unseen, 40);
});
