// Reloads the catalogue from the agent (after its pattern set changed).

import { adminProcedure } from "../../trpc.ts";
import { agentError } from "../../agent/service.ts";
import { audit } from "../../helpers.ts";

export const refreshProtocols = adminProcedure.mutation(async ({ ctx }) => {
  let catalogue: unknown;
  try {
    catalogue = await ctx.deps.agent.protocols();
  } catch (e) {
    throw agentError(e);
  }
  const r = await ctx.deps.db.protocols.sync(catalogue);
  await audit(ctx, "protocols.refresh", null, r);
  return r;
});
