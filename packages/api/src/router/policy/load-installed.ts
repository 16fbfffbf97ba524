// Loads what the box runs (the agent's last good entry) into the editor, replacing the
// edited policy: after a Try reverted, the editor can follow the box again in one click.

import { TRPCError } from "@trpc/server";
import { adminProcedure } from "../../trpc.ts";
import { audit, installedPolicy, policyError } from "../../helpers.ts";

export const loadInstalled = adminProcedure.mutation(async ({ ctx }) => {
  await ctx.deps.agent.checkHealth();
  const id = ctx.deps.agent.lastHealth().status?.policy?.id ?? null;
  const policy = await installedPolicy(ctx.deps);
  if (!policy || id === null)
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: "the box runs no policy the dashboard can read",
    });
  await ctx.deps.db.policy.save(policy).catch(policyError);
  await audit(ctx, "policy.load-installed", `agent entry #${id}`);
  return { entryId: id, policy: await ctx.deps.db.policy.readEditable() };
});
