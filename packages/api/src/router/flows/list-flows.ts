// Live connections (protocol, class, rate) and the latest classification decisions; the last
// ones seen, marked stale, when the agent is down. The class comes from the policy on the
// box (or, before the agent told us, the edited one).

import { protectedProcedure } from "../../trpc.ts";
import { toAgentPolicy } from "@sluice/db";
import type { PolicyInput } from "@sluice/policy";
import { editablePolicy, installedPolicy } from "../../helpers.ts";

export const listFlows = protectedProcedure.query(async ({ ctx }) => {
  const r = await ctx.deps.agent.flows();
  const policy: PolicyInput =
    (await installedPolicy(ctx.deps)) ?? toAgentPolicy(await editablePolicy(ctx.deps));
  const fallback = policy.classes.upload.find((c) => c.default)?.name ?? "default";
  const classOf = new Map((policy.rules ?? []).map((x) => [x.protocol, x.class]));
  return {
    live: r.live,
    at: r.at,
    error: r.error,
    connections: (r.flows?.connections ?? []).map((c) => ({
      ...c,
      className: c.protocol === "untouched" ? null : (classOf.get(c.protocol) ?? fallback),
    })),
    decided: (r.flows?.decided ?? []).slice(0, 100),
  };
});
