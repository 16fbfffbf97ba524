// A rate as the policy writes it ("20mbit", 512000): parsed to bit/s, bounded.

import { z } from "zod";
import { parseRate } from "./units.ts";

/** No link a Sluice box shapes is faster; above this a rate is a typo (99999gbit). */
export const MAX_RATE_BPS = 100e9;

export const rateSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bps = parseRate(v);
  if (bps === null) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a rate (examples: 20mbit, 512kbit, 1gbit)` });
    return z.NEVER;
  }
  if (bps > MAX_RATE_BPS) {
    ctx.addIssue({ code: "custom", message: `"${v}" is more than 100gbit: no link is that fast` });
    return z.NEVER;
  }
  if (bps < 8000) {
    ctx.addIssue({ code: "custom", message: `${bps} bit/s is below the 8kbit minimum` });
    return z.NEVER;
  }
  return bps;
});
