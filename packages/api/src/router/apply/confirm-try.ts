// Keeps the policy being tried: it becomes the last good one.

import type { PolicyInput } from "@sluice/policy";
import { adminProcedure } from "../../trpc.ts";
import { agentError } from "../../agent/service.ts";
import type { HistorySummary } from "@sluice/agent-contract";
import { actorOf, audit } from "../../helpers.ts";

export const confirmTry = adminProcedure.mutation(async ({ ctx }) => {
  let e: HistorySummary;
  try {
    e = await ctx.deps.agent.confirm();
  } catch (err) {
    throw agentError(err);
  }
  const db = ctx.deps.db;
  let v = await db.versions.findByAgentEntry(e.id);
  if (v) v = await db.versions.update(v.id, { result: "confirmed" });
  else {
    const full = await ctx.deps.agent.historyEntry(e.id).catch(() => null);
    if (full)
      v = await db.versions.record({
        policy: full.policy as PolicyInput,
        scripts: full.scripts,
        user: actorOf(ctx),
        result: "confirmed",
        agentEntryId: e.id,
      });
  }
  if (v) await db.versions.markLastGood(v.id);
  await audit(ctx, "policy.confirm", `agent entry #${e.id}`, { versionId: v?.id ?? null });
  return { entry: e, versionId: v?.id ?? null };
});
