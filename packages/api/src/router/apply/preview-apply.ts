// What Apply would do: the agent renders the edited policy without touching the box and
// diffs it against what is installed (policy changes in words, tc and iptables lines).

import { protectedProcedure } from "../../trpc.ts";
import { agentError } from "../../agent/service.ts";
import type { RenderResponse } from "@sluice/agent-contract";
import { nothingToApply, policyToSend } from "./shared.ts";

export const previewApply = protectedProcedure.query(async ({ ctx }) => {
  const policy = await policyToSend(ctx.deps);
  let r: RenderResponse;
  try {
    r = await ctx.deps.agent.render(policy);
  } catch (e) {
    throw agentError(e);
  }
  // a fresh status: right after a rollback the cached one names the entry before it
  const status = (await ctx.deps.agent.checkHealth()).status;
  return {
    result: r,
    installed: status?.policy ?? null,
    policy,
    nothingToApply: r.ok && nothingToApply(r),
  };
});
