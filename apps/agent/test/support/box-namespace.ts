// A network namespace standing in for the box in the root-only agent tests: two veth ends
// named wan0 and lan0, up (their peers stay in the namespace, unused).

import assert from "node:assert/strict";
import { SystemExecutor } from "../../src/kernel/executor.ts";

const sys = new SystemExecutor();

/**
 * A test's namespace name: SLUICE_LAB_PREFIX (as the lab's) keeps two checkouts testing at
 * once apart — a fixed name would have one run remove the other's namespace as a leftover.
 */
export function testNamespace(what: string): string {
  const env = process.env.SLUICE_LAB_PREFIX ?? "";
  return `${/^[a-z][a-z0-9]{0,11}$/.test(env) ? env : "sltest"}-${what}`;
}

/** Creates `ns` (removing a leftover of an earlier run first) with wan0 and lan0 up. */
export async function createBoxNamespace(ns: string): Promise<void> {
  await sys.run(["ip", "netns", "del", ns]);
  for (const argv of [
    ["ip", "netns", "add", ns],
    ["ip", "-n", ns, "link", "add", "wan0", "type", "veth", "peer", "name", "wanp"],
    ["ip", "-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lanp"],
    ["ip", "-n", ns, "link", "set", "wan0", "up"],
    ["ip", "-n", ns, "link", "set", "lan0", "up"],
  ]) {
    const r = await sys.run(argv);
    assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
  }
}

export async function deleteBoxNamespace(ns: string): Promise<void> {
  await sys.run(["ip", "netns", "del", ns]);
}
