// Apply (for good) or Try (with automatic revert after `seconds` unless confirmed) the
// edited policy. Each attempt, failed ones too, becomes a policy version with the user, and
// an audit row. Nothing to apply (the box runs this policy) is refused without a history entry.

import type { PolicyInput } from "@sluice/policy";
import { adminProcedure } from "../../trpc.ts";
import { AgentApiError } from "@sluice/agent-contract";
import { agentError } from "../../agent/service.ts";
import type { ApplyResponse } from "@sluice/agent-contract";
import { actorOf, audit, type AuthedContext } from "../../helpers.ts";
import { dryRun, nothingToApply, policyToSend, versionResult } from "./shared.ts";
import { TRPCError } from "@trpc/server";

export async function applyEdited(ctx: AuthedContext, trySeconds?: number) {
  const policy = await policyToSend(ctx.deps);
  const rendered = await dryRun(ctx.deps, policy);
  if (nothingToApply(rendered))
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: "nothing to apply: the box already runs the edited policy",
    });
  const user = ctx.auth.user.username;
  const action = trySeconds ? "policy.try" : "policy.apply";
  // The version must be recorded after the agent applies: a database locked by another
  // process refuses the apply here, with the box untouched.
  await ctx.deps.db.writable();
  let res: ApplyResponse;
  try {
    res = await ctx.deps.agent.apply(policy, { user, ...(trySeconds ? { trySeconds } : {}) });
  } catch (e) {
    if (e instanceof AgentApiError) {
      const entry = typeof e.body.entry === "number" ? e.body.entry : null;
      const v = await ctx.deps.db.versions.record({
        policy: policy as PolicyInput,
        scripts: rendered.scripts,
        user: actorOf(ctx),
        result: "failed",
        error: e.body,
        agentEntryId: entry,
      });
      await audit(ctx, `${action}.failed`, entry ? `agent entry #${entry}` : null, {
        versionId: v.id,
        changes: rendered.diff.policy.changes,
        error: e.message,
        step: e.body.step,
      });
    }
    throw agentError(e);
  }
  const v = await ctx.deps.db.versions.record({
    policy: policy as PolicyInput,
    scripts: rendered.scripts,
    user: actorOf(ctx),
    result: versionResult(res.entry.status),
    agentEntryId: res.entry.id,
    tryUntil: res.entry.tryUntil ? new Date(res.entry.tryUntil) : null,
    lastGood: res.entry.lastGood,
  });
  await audit(ctx, action, `agent entry #${res.entry.id}`, {
    versionId: v.id,
    changes: res.diff.policy.changes,
    ...(trySeconds ? { trySeconds } : {}),
  });
  return { entry: res.entry, versionId: v.id, changes: res.diff.policy.changes };
}

export const applyPolicy = adminProcedure.mutation(({ ctx }) => applyEdited(ctx));
