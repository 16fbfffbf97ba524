// Loads a recorded version into the editor (replacing the edited policy; nothing is applied).

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { adminProcedure } from "../../trpc.ts";
import { audit, policyError } from "../../helpers.ts";

export const loadVersionInput = z.object({ versionId: z.number().int().positive() });

export const loadVersion = adminProcedure.input(loadVersionInput).mutation(async ({ ctx, input }) => {
  const v = await ctx.deps.db.versions.get(input.versionId);
  if (!v) throw new TRPCError({ code: "NOT_FOUND", message: `no version ${input.versionId}` });
  await ctx.deps.db.policy.save(v.policy).catch(policyError);
  await audit(ctx, "policy.load-version", `version ${v.id}`);
  return { policy: await ctx.deps.db.policy.readEditable() };
});
