// The box's settings: shaped interfaces and link rates (part of the policy), where download
// is shaped, and where the dashboard keeps its data and finds the agent.

import { protectedProcedure } from "../../trpc.ts";
import { editablePolicy } from "../../helpers.ts";

export const getSettings = protectedProcedure.query(async ({ ctx }) => {
  const p = await editablePolicy(ctx.deps);
  return {
    interfaces: p.interfaces,
    download: p.download,
    agentSocket: ctx.deps.config.socket,
    database: { provider: ctx.deps.db.provider, location: ctx.deps.db.location },
    protocolDirs: ctx.deps.config.protocolDirs,
  };
});
