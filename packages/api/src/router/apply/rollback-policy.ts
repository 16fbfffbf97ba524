// Re-applies a recorded policy (by the agent's history entry; default: the good one before
// the current). Recorded as a new version and in the audit log. The edited policy then
// follows the box (it becomes the rolled-back policy), so the editors and Apply do not keep
// offering the change that was just rolled back.

import { z } from "zod";
import type { PolicyInput } from "@sluice/policy";
import { adminProcedure } from "../../trpc.ts";
import { agentError } from "../../agent/service.ts";
import type { HistorySummary } from "@sluice/agent-contract";
import { actorOf, audit } from "../../helpers.ts";
import { versionResult } from "./shared.ts";

export const rollbackPolicyInput = z.object({ agentEntryId: z.number().int().positive().optional() });

export const rollbackPolicy = adminProcedure.input(rollbackPolicyInput).mutation(async ({ ctx, input }) => {
  let e: HistorySummary;
  await ctx.deps.db.writable(); // refused here, box untouched, if the database is locked
  try {
    e = await ctx.deps.agent.rollback(input.agentEntryId, ctx.auth.user.username);
  } catch (err) {
    throw agentError(err);
  }
  const full = await ctx.deps.agent.historyEntry(e.id).catch(() => null);
  const source = input.agentEntryId ? await ctx.deps.db.versions.findByAgentEntry(input.agentEntryId) : null;
  const policy = (full?.policy ?? source?.policy) as PolicyInput | undefined;
  const v = policy
    ? await ctx.deps.db.versions.record({
        policy,
        scripts: full?.scripts ?? source?.scripts ?? null,
        user: actorOf(ctx),
        result: versionResult(e.status),
        agentEntryId: e.id,
        lastGood: e.lastGood,
      })
    : null;
  // the editor follows the box; a policy the editor cannot hold (say, a protocol gone since) stays out
  const draftReplaced = policy
    ? await ctx.deps.db.policy.save(policy).then(
        () => true,
        () => false,
      )
    : false;
  await audit(ctx, "policy.rollback", `agent entry #${input.agentEntryId ?? "previous"}`, {
    newEntry: e.id,
    versionId: v?.id ?? null,
    draftReplaced,
  });
  return { entry: e, versionId: v?.id ?? null, draftReplaced };
});
