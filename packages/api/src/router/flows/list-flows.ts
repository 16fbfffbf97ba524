// Live connections (protocol, app, category, host name, class, rate) and the latest
// classification decisions; the last ones seen, marked stale, when the agent is down. The
// class comes from the policy on the box (or, before the agent told us, the edited one), by
// the agent's precedence: hostname > app > category > protocol rules.

import { protectedProcedure } from "../../trpc.ts";
import { toAgentPolicy } from "@sluice/db";
import type { PolicyInput } from "@sluice/policy";
import { editablePolicy, installedPolicy } from "../../helpers.ts";
import { flowClassifier } from "../../policy/flow-class.ts";

export const listFlows = protectedProcedure.query(async ({ ctx }) => {
  const r = await ctx.deps.agent.flows();
  const policy: PolicyInput =
    (await installedPolicy(ctx.deps)) ?? toAgentPolicy(await editablePolicy(ctx.deps));
  const fallback = policy.classes.upload.find((c) => c.default)?.name ?? "default";
  const aliases = new Map(
    (await ctx.deps.db.protocols.list()).flatMap((p) => p.aliases.map((a) => [a, p.name] as const)),
  );
  const classOf = flowClassifier(policy.rules ?? [], fallback, aliases);
  return {
    live: r.live,
    at: r.at,
    error: r.error,
    connections: (r.flows?.connections ?? []).map((c) => {
      const cls = c.protocol === "untouched" ? null : classOf(c);
      return {
        ...c,
        app: c.app ?? null,
        category: c.category ?? null,
        hostname: c.hostname ?? null,
        className: cls?.className ?? null,
        /** The rule that put the flow in its class ("app youtube"); null for the default class. */
        rule: cls?.rule ?? null,
      };
    }),
    decided: (r.flows?.decided ?? []).slice(0, 100),
  };
});
