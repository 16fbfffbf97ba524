// What apply, try, confirm and rollback share: the policy to send, the dry run that catches
// an invalid policy before the box is touched, and keeping the database's versions in step
// with what the agent says became of them (a try that reverted by itself, a superseded one).

import { toAgentPolicy, type Db } from "@sluice/db";
import type { Policy } from "@sluice/policy";
import type { ApiDeps } from "../../deps.ts";
import { editablePolicy } from "../../helpers.ts";
import { agentError } from "../../agent/service.ts";
import type { EntryStatus, HistorySummary, RenderResponse } from "@sluice/agent-contract";
import { badRequest } from "../../trpc.ts";

export async function policyToSend(deps: ApiDeps): Promise<Policy> {
  return toAgentPolicy(await editablePolicy(deps));
}

/** The agent's dry run of the policy; an invalid policy becomes BAD_REQUEST with issues. */
export async function dryRun(deps: ApiDeps, policy: Policy): Promise<Extract<RenderResponse, { ok: true }>> {
  let r: RenderResponse;
  try {
    r = await deps.agent.render(policy);
  } catch (e) {
    throw agentError(e);
  }
  if (!r.ok) throw badRequest(r.error, r.issues);
  return r;
}

/**
 * Brings the versions table in line with the agent's history: result per entry and the
 * last good one. A try that reverted by itself is written to the audit log (as "agent").
 * Runs when the history is read and in the background (see fetch.ts).
 */
export async function syncVersions(db: Db, history: HistorySummary[]): Promise<HistorySummary[]> {
  const reverted: HistorySummary[] = [];
  for (const e of history) {
    const v = await db.versions.findByAgentEntry(e.id);
    // an apply in flight: its outcome is recorded when it is known
    if (!v || e.status === "applying") continue;
    if (v.result !== e.status) {
      if (v.result === "trying" && e.status === "reverted") reverted.push(e);
      await db.versions.update(v.id, { result: e.status });
    }
    if (e.lastGood && !v.isLastGood) await db.versions.markLastGood(v.id);
  }
  for (const e of reverted)
    await db.audit.write({
      user: "agent",
      action: "policy.revert",
      target: `agent entry #${e.id}`,
      details: { reason: "try not confirmed in time" },
    });
  return reverted;
}

/** The dry run says the box already runs this policy: nothing in words, no tc or iptables line. */
export function nothingToApply(r: Extract<RenderResponse, { ok: true }>): boolean {
  const changed = (lines: string[]) => lines.some((l) => /^[+-]/.test(l));
  return (
    r.diff.policy.changes.length === 1 &&
    r.diff.policy.changes[0] === "no change" &&
    !changed(r.diff.tc) &&
    !changed(r.diff.iptables)
  );
}

/** A finished entry's status as a version's result (an apply's answer is never `applying`). */
export function versionResult(s: EntryStatus): Exclude<EntryStatus, "applying"> {
  if (s === "applying") throw new Error("the agent answered with an apply still in flight");
  return s;
}
