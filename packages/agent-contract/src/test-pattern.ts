// POST /v1/test-pattern: run a payload through the agent's pattern set.

import { z } from "zod";

export const TestPatternRequest = z.object({
  l4: z.enum(["tcp", "udp"]).default("tcp"),
  /** The payload as text (latin1) or as hex; hex wins when both are given. */
  text: z.string().max(65536).optional(),
  hex: z.string().max(131072).optional(),
  dir: z.enum(["c2s", "s2c"]).default("c2s"),
});
/** What the caller sends (l4 and dir may be left out). */
export type TestPatternInput = z.input<typeof TestPatternRequest>;
/** What the agent works with (defaults filled in). */
export type TestPatternRequest = z.output<typeof TestPatternRequest>;

export const TestPatternResponse = z.object({
  /** The protocol the flow would be classified as (or "unknown"/"unset"). */
  verdict: z.string(),
  matches: z.array(z.object({ name: z.string(), priority: z.number(), quality: z.string().nullish() })),
  bytes: z.number(),
});
export type TestPatternResponse = z.infer<typeof TestPatternResponse>;
