// What apply, try, confirm and rollback share: the policy to send, the dry run that catches
// an invalid policy before the box is touched, and keeping the database's versions in step
// with what the agent says became of them (a try that reverted by itself, a superseded one).

import { toAgentPolicy, type Db } from "@sluice/db";
import type { Policy } from "@sluice/policy";
import type { ApiDeps } from "../../deps.ts";
import { editablePolicy } from "../../helpers.ts";
import { agentError } from "../../agent/service.ts";
import type { HistorySummary, RenderResponse } from "@sluice/agent-contract";
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
    if (!v) continue;
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
