// readInstalled's per-device read: one `tc -batch` for the qdiscs, classes and filters of a
// device, split back into the three lists; three commands when tc refuses the batch.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { CommandResult, Executor, RunOptions } from "../src/kernel/executor.ts";
import { readInstalled, showAll } from "../src/kernel/installed.ts";

/** Real tc output (iproute2 6.1) of a device with HTB, an SFQ leaf and u32/fw filters. */
const QDISCS =
  "qdisc htb 1: root refcnt 2 r2q 10 default 0x14 direct_packets_stat 0 direct_qlen 1000\nqdisc sfq 10: parent 1:10 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec \n";
const CLASSES =
  "class htb 1:1 root rate 20Mbit ceil 20Mbit burst 1600b cburst 1600b \nclass htb 1:10 parent 1:1 leaf 10: prio 0 rate 4Mbit ceil 20Mbit burst 1600b cburst 1600b \n";
const FILTERS =
  "filter parent 1: protocol ip pref 1 u32 chain 0 \nfilter parent 1: protocol ip pref 1 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 flowid 1:10 not_in_hw \n  match 01020304/ffffffff at 16\nfilter parent 1: protocol all pref 2 fw chain 0 handle 0x100/0xff00 classid 1:10 \n";

class Recorder implements Executor {
  readonly calls: { argv: string[]; input?: string }[] = [];
  private readonly answer: (argv: string[], input?: string) => Partial<CommandResult>;
  constructor(answer: (argv: string[], input?: string) => Partial<CommandResult>) {
    this.answer = answer;
  }
  async run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ argv, ...(opts.input !== undefined ? { input: opts.input } : {}) });
    // no Sluice table in nftables (readInstalled reads it too)
    if (argv[0] === "nft") return { argv, code: 1, stdout: "", stderr: "Error: No such file or directory" };
    return { argv, code: 0, stdout: "", stderr: "", ...this.answer(argv, opts.input) };
  }
}

const separately = (argv: string[]) =>
  argv[2] === "show" ? { stdout: { qdisc: QDISCS, class: CLASSES, filter: FILTERS }[argv[1]!] } : {};

test("one tc process reads a device's three lists, the same lists as three commands", async () => {
  const batch = new Recorder((argv, input) => {
    if (argv[1] !== "-force") return separately(argv);
    assert.equal(input, "qdisc show dev ens4\nclass show dev ens4\nfilter show dev ens4\n");
    return { stdout: QDISCS + CLASSES + FILTERS };
  });
  const one = await showAll(batch, "ens4");
  assert.deepEqual(
    batch.calls.map((c) => c.argv),
    [["tc", "-force", "-batch", "-"]],
  );
  const three = new Recorder((argv) =>
    argv[1] === "-force" ? { code: 1, stderr: "Command failed -:1" } : separately(argv),
  );
  const state = await readInstalled(three, ["ens4"], false);
  assert.deepEqual(one, state.tc.ens4);
  assert.equal(one!.filters.length, 4);
  assert.ok(
    one!.filters.includes("match 01020304/ffffffff at 16"),
    "a filter's indented line stays with the filters",
  );
  assert.equal(one!.qdiscs.length, 2);
  assert.equal(one!.classes.length, 2);
});

test("a refused batch falls back to one command per list, each saying why", async () => {
  const exec = new Recorder((argv) =>
    argv[0] === "tc" ? { code: 1, stderr: 'Cannot find device "gone0"' } : {},
  );
  const state = await readInstalled(exec, ["gone0"], false);
  assert.deepEqual(state.tc.gone0, {
    qdiscs: ['(qdisc unreadable: Cannot find device "gone0")'],
    classes: ['(class unreadable: Cannot find device "gone0")'],
    filters: ['(filter unreadable: Cannot find device "gone0")'],
  });
  const tc = exec.calls.filter((c) => c.argv[0] === "tc").map((c) => c.argv.slice(1, 3).join(" "));
  assert.deepEqual(tc.sort(), ["-force -batch", "class show", "filter show", "qdisc show"]);
});

test("a device name that is not one never goes into a batch line", async () => {
  const exec = new Recorder(separately);
  assert.equal(await showAll(exec, "ens4\nqdisc del dev ens3 root"), null);
  assert.equal(exec.calls.length, 0);
});
