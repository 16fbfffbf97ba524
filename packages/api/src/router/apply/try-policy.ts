// Try the edited policy: applied now, reverted by the agent after `seconds` unless confirmed
// (apply.confirmTry). Recorded like an apply.

import { z } from "zod";
import { adminProcedure } from "../../trpc.ts";
import { applyEdited } from "./apply-policy.ts";

export const tryPolicyInput = z.object({ seconds: z.number().int().min(5).max(3600) });

export const tryPolicy = adminProcedure
  .input(tryPolicyInput)
  .mutation(({ ctx, input }) => applyEdited(ctx, input.seconds));
