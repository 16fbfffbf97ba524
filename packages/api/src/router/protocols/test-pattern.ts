// The pattern tester: a payload (text, or hex) through the agent's pattern set, as the
// first data of a connection. Answers the verdict and every pattern that matches. Payloads
// are capped well above the 2 KiB the classifier reads (the page caps them too).

import { z } from "zod";
import { protectedProcedure } from "../../trpc.ts";
import { agentError } from "../../agent/service.ts";

/** The tester's cap on text (hex: four characters a byte at most, with separators). */
export const TESTER_MAX_TEXT = 8192;
const TESTER_TOO_BIG = "at most 8 KiB: the classifier only reads the first 2 KiB of a connection";

export const testPatternInput = z
  .object({
    l4: z.enum(["tcp", "udp"]).default("tcp"),
    dir: z.enum(["c2s", "s2c"]).default("c2s"),
    text: z.string().max(TESTER_MAX_TEXT, TESTER_TOO_BIG).optional(),
    hex: z
      .string()
      .max(TESTER_MAX_TEXT * 4, TESTER_TOO_BIG)
      .regex(/^[0-9a-fA-F\s:,x\\]*$/, "hex digits only (spaces, colons and \\x allowed)")
      .optional(),
  })
  .refine((v) => v.text !== undefined || v.hex !== undefined, {
    message: "give text or hex",
    path: ["text"],
  });

export const testPattern = protectedProcedure.input(testPatternInput).mutation(async ({ ctx, input }) => {
  const hex = input.hex?.replace(/\\x|0x/gi, "").replace(/[^0-9a-f]/gi, "");
  if (hex !== undefined && hex.length % 2)
    return { ok: false as const, error: "an odd number of hex digits" };
  try {
    const r = await ctx.deps.agent.testPattern({
      l4: input.l4,
      dir: input.dir,
      ...(hex !== undefined ? { hex } : { text: input.text ?? "" }),
    });
    return { ok: true as const, ...r };
  } catch (e) {
    throw agentError(e);
  }
});
