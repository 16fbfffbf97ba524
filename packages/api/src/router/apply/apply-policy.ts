// Apply (for good) or Try (with automatic revert after `seconds` unless confirmed) the
// edited policy. Each attempt, failed ones too, becomes a policy version with the user, and
// an audit row.

import type { PolicyInput } from "@sluice/policy";
import { adminProcedure } from "../../trpc.ts";
import { AgentApiError } from "@sluice/agent-contract";
import { agentError } from "../../agent/service.ts";
import type { ApplyResponse } from "@sluice/agent-contract";
import { actorOf, audit, type AuthedContext } from "../../helpers.ts";
import { dryRun, policyToSend } from "./shared.ts";

export async function applyEdited(ctx: AuthedContext, trySeconds?: number) {
  const policy = await policyToSend(ctx.deps);
  const rendered = await dryRun(ctx.deps, policy);
  const user = ctx.auth.user.username;
  const action = trySeconds ? "policy.try" : "policy.apply";
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
    result: res.entry.status,
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
