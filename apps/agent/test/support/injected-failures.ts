// The apply steps the failure tests break, for the fake kernel and the real one alike, and
// what every such failure must end with: the error names the step's stderr, the entry is
// failed, and the last good state is back.

import assert from "node:assert/strict";
import { ApplyError } from "../../src/apply/applier.ts";

type Match = (argv: readonly string[]) => boolean;

/** In the order apply runs them: each later step fails after the earlier ones changed the kernel. */
export const APPLY_STEPS: readonly (readonly [what: string, match: Match])[] = [
  // the install's batch, not the read-back's `tc -force -batch` (readInstalled)
  ["tc batch", (a) => a.includes("-batch") && !a.includes("-force")],
  ["iptables-restore", (a) => a.includes("iptables-restore")],
  ["ip6tables-restore (tc and IPv4 already changed)", (a) => a.includes("ip6tables-restore")],
  ["nft -f (tc, IPv4 and IPv6 already changed)", (a) => a[0] === "nft" && a.includes("-f")],
];

/** For assert.rejects: an apply that failed at an injected step and restored the last good state. */
export function restoredAfterInjectedFailure(e: unknown): true {
  assert.ok(e instanceof ApplyError);
  assert.match(e.stderr ?? "", /injected failure/);
  assert.equal(e.restored, true);
  assert.equal(e.entry!.status, "failed");
  return true;
}
