// The agent's health: reachable or not (with the last status it gave when it is down), its
// kernel capabilities and the fallbacks in use.

import { protectedProcedure } from "../../trpc.ts";
import { capabilityLines } from "../../agent/capabilities-view.ts";

export const getHealth = protectedProcedure.query(async ({ ctx }) => {
  const h = await ctx.deps.agent.checkHealth();
  return {
    ...h,
    capabilities: h.status ? capabilityLines(h.status) : [],
    stream: { running: ctx.deps.stats.running, connected: ctx.deps.stats.connected },
    rollup: ctx.deps.stats.rollupInfo(),
  };
});
