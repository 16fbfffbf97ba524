// Saves the edited policy (not applied: see apply.*). Validated as a whole, with the
// protocol and application catalogues; a bad policy comes back as BAD_REQUEST with field issues such as
// { path: "classes.upload[2].ceil", message: "…" }. Leaves (and download on an IFB) the
// probed kernel lacks are refused: the agent would silently use something else.

import { z } from "zod";
import { plainText } from "@sluice/policy";
import { adminProcedure } from "../../trpc.ts";
import { audit, checkKernelFit, policyError, ruleNames } from "../../helpers.ts";

export const savePolicyInput = z.object({
  /** An EditablePolicyInput (checked by @sluice/policy's schema and validatePolicy). */
  policy: z.record(z.string(), z.unknown()),
  /** What changed, for the audit log ("classes", "rules", "interfaces"). */
  what: plainText(40).optional(),
});

export const savePolicy = adminProcedure.input(savePolicyInput).mutation(async ({ ctx, input }) => {
  checkKernelFit(ctx.deps, input.policy);
  const saved = await ctx.deps.db.policy
    .save(input.policy as never, await ruleNames(ctx.deps))
    .catch(policyError);
  await audit(ctx, "policy.save", input.what ?? "policy", {
    classes: { upload: saved.classes.upload.length, download: saved.classes.download.length },
    rules: saved.rules.length,
  });
  return { policy: await ctx.deps.db.policy.readEditable() };
});
