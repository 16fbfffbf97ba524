// The capability probe on this kernel (root, in a network namespace): its batches (one tc
// and one ip batch, an iptables-restore transaction per family, one nft script) find what
// the one-command-at-a-time probe finds — also on a kernel that lacks some of it (the CI and
// development kernels lack sch_sfq, cls_fw...), when the tools' batch mode is unavailable,
// and with leftovers of a crashed probe in place — and leave nothing behind.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { NetnsExecutor, type CommandResult, type Executor, type RunOptions } from "../src/kernel/executor.ts";
import { probeCapabilities } from "../src/kernel/probe.ts";
import { createBoxNamespace, deleteBoxNamespace } from "./support/box-namespace.ts";

const NS = `sltest-probe-${process.pid}`;
const root = process.getuid?.() === 0;
const ns = new NetnsExecutor(NS);
const opts = { skip: root ? false : "needs root (network namespaces)" };

/** Counts the commands run; optionally refuses the tools' batch mode (as an old tool would). */
class CountingExecutor implements Executor {
  count = 0;
  private readonly noBatch: boolean;
  constructor(noBatch = false) {
    this.noBatch = noBatch;
  }
  run(argv: string[], o?: RunOptions): Promise<CommandResult> {
    this.count++;
    if (this.noBatch && argv.includes("-batch"))
      return Promise.resolve({ argv, code: 255, stdout: "", stderr: 'Option "-batch" is unknown' });
    return ns.run(argv, o);
  }
}

/** Everything the probe might leave: links, qdiscs, chains, tables. */
async function leftovers(): Promise<string> {
  const out: string[] = [];
  for (const argv of [
    ["ip", "-br", "link"],
    ["iptables", "-w", "-t", "mangle", "-S"],
    ["ip6tables", "-w", "-t", "mangle", "-S"],
    ["nft", "list", "tables"],
  ])
    out.push((await ns.run(argv)).stdout);
  return out.join("\n");
}

let baseline = "";
before(async () => {
  if (!root) return;
  await createBoxNamespace(NS);
  // iptables-nft creates the (empty) mangle tables on first use: they stay, as they would
  await probeCapabilities(ns, { oneByOne: true });
  baseline = await leftovers();
});
after(async () => {
  if (root) await deleteBoxNamespace(NS);
});

const strip = <T extends { probedAt: string }>(c: T) => ({ ...c, probedAt: "" });

test("the batched probe finds what the one-by-one probe finds, with far fewer commands", opts, async () => {
  const slow = new CountingExecutor();
  const fast = new CountingExecutor();
  const expected = strip(await probeCapabilities(slow, { oneByOne: true }));
  assert.equal(await leftovers(), baseline);
  const got = strip(await probeCapabilities(fast));
  assert.deepEqual(got, expected);
  assert.equal(await leftovers(), baseline);
  assert.equal(expected.qdiscs.htb, true);
  assert.equal(expected.iptables.NFQUEUE, true);
  assert.ok(fast.count * 3 < slow.count, `${fast.count} commands against ${slow.count}`);
  console.log(`probe: ${fast.count} commands batched, ${slow.count} one by one`);
});

test("without the tools' batch mode the probe runs the commands one by one, same result", opts, async () => {
  const expected = strip(await probeCapabilities(ns, { oneByOne: true }));
  assert.deepEqual(strip(await probeCapabilities(new CountingExecutor(true))), expected);
  assert.equal(await leftovers(), baseline);
});

test("leftovers of a crashed probe are replaced and removed", opts, async () => {
  const expected = strip(await probeCapabilities(ns, { oneByOne: true }));
  for (const argv of [
    ["ip", "link", "add", "slprobe0", "type", "veth", "peer", "name", "slprobe1"],
    ["ip", "link", "add", "slprobeifb", "type", "ifb"],
    ["iptables", "-w", "-t", "mangle", "-N", "SLUICE_PROBE"],
    ["iptables", "-w", "-t", "mangle", "-A", "SLUICE_PROBE", "-j", "ACCEPT"],
    ["nft", "add", "table", "inet", "sluice_probe"],
  ])
    assert.equal((await ns.run(argv)).code, 0, argv.join(" "));
  assert.deepEqual(strip(await probeCapabilities(ns)), expected);
  assert.equal(await leftovers(), baseline);
});

/** A kernel without one iptables extension and one conntrack helper: their commands fail. */
class MissingExecutor implements Executor {
  run(argv: string[], o?: RunOptions): Promise<CommandResult> {
    const text = `${argv.join(" ")}\n${o?.input ?? ""}`;
    if (/CLASSIFY|type "sip"|inet_service/.test(text))
      return Promise.resolve({ argv, code: 1, stdout: "", stderr: "Error: not supported" });
    return ns.run(argv, o);
  }
}

test("a missing extension or helper is found one by one after the transaction fails", opts, async () => {
  const caps = await probeCapabilities(new MissingExecutor());
  const expected = strip(await probeCapabilities(ns, { oneByOne: true }));
  assert.equal(expected.iptables.CLASSIFY, true);
  assert.equal(expected.ctHelpers.sip, true);
  assert.equal(expected.rtspMaps, true);
  assert.deepEqual(strip(caps), {
    ...expected,
    iptables: { ...expected.iptables, CLASSIFY: false },
    ip6tables: { ...expected.ip6tables, CLASSIFY: false },
    ctHelpers: { ...expected.ctHelpers, sip: false },
    rtspMaps: false,
  });
  assert.equal(await leftovers(), baseline);
});
