// Sets the WAN/LAN devices, their link rates and where download is shaped. Saved into the
// edited policy (validated as a whole: class rates must still fit the links).

import { z } from "zod";
import { plainText } from "@sluice/policy";
import { adminProcedure } from "../../trpc.ts";
import { audit, checkKernelFit, editablePolicy, policyError, ruleNames } from "../../helpers.ts";

const iface = z.object({ device: plainText(15), rate: z.union([plainText(40), z.number()]) });

export const saveInterfacesInput = z.object({
  wan: iface,
  lan: iface,
  download: z.enum(["lan", "ifb"]).optional(),
});

export const saveInterfaces = adminProcedure.input(saveInterfacesInput).mutation(async ({ ctx, input }) => {
  const p = await editablePolicy(ctx.deps);
  checkKernelFit(ctx.deps, { download: input.download ?? p.download });
  await ctx.deps.db.policy
    .save(
      {
        ...p,
        // the LAN's networks (device rules) are set on the Devices page: kept here
        interfaces: {
          wan: input.wan,
          lan: {
            ...input.lan,
            ...(p.interfaces.lan.networks ? { networks: p.interfaces.lan.networks } : {}),
          },
        },
        download: input.download ?? p.download,
      },
      await ruleNames(ctx.deps),
    )
    .catch(policyError);
  await audit(ctx, "settings.interfaces", null, input);
  const saved = await editablePolicy(ctx.deps);
  return { interfaces: saved.interfaces, download: saved.download };
});
