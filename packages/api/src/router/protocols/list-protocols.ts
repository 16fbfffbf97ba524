// The protocol catalogue (the agent's pattern set, cached in the database). Filled from the
// agent on first use; served from the cache when the agent is down.

import { protectedProcedure } from "../../trpc.ts";

export const listProtocols = protectedProcedure.query(async ({ ctx }) => {
  const { db, agent } = ctx.deps;
  let syncError: string | null = null;
  if ((await db.protocols.count()) === 0) {
    try {
      await db.protocols.sync(await agent.protocols());
    } catch (e) {
      syncError = (e as Error).message;
    }
  }
  const protocols = await db.protocols.list();
  const updatedAt = protocols.reduce<Date | null>((m, p) => (!m || p.updatedAt > m ? p.updatedAt : m), null);
  return {
    protocols: protocols.map((p) => ({ ...p, updatedAt: p.updatedAt.toISOString() })),
    updatedAt: updatedAt?.toISOString() ?? null,
    syncError,
  };
});
