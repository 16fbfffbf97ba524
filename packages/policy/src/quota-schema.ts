// Quotas: a data allowance per day, week or month for a host (address or prefix) or a class;
// past it, the target's traffic goes to a named demotion class until the period resets.
// Counting and demotion happen in the kernel (an nftables quota object per quota, see the
// agent's render/nft.ts); the used amount is kept in the agent's data directory.
// Cross-field checks: quota-validate.ts.

import { z } from "zod";
import { plainText } from "./text.ts";

export const QUOTA_PERIODS = ["day", "week", "month"] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "1GB", "500 MiB", "1.5gb" or a number of bytes → bytes; null when it is not a size. */
export function parseBytes(v: string | number): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? Math.round(v) : null;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  if (!m) return null;
  const mult = BYTE_UNITS[(m[2] || "b").toLowerCase()];
  if (mult === undefined) return null;
  const n = Math.round(Number(m[1]) * mult);
  return Number.isFinite(n) ? n : null;
}

/** Bytes the way an admin reads them ("1.5 GB", "800 kB"). */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["TB", 1e12],
    ["GB", 1e9],
    ["MB", 1e6],
    ["kB", 1e3],
  ] as const)
    if (Math.abs(n) >= size) return `${+(n / size).toFixed(2)} ${unit}`;
  return `${n} B`;
}

/** More than any link moves in a month: a typo. */
export const MAX_ALLOWANCE = 1e15;

const allowance = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = parseBytes(v);
  if (n === null) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not an amount of data (examples: 500MB, 2GB, 1GiB)` });
    return z.NEVER;
  }
  if (n <= 0) {
    ctx.addIssue({ code: "custom", message: `an allowance must be more than 0 bytes (got ${v})` });
    return z.NEVER;
  }
  if (n > MAX_ALLOWANCE) {
    ctx.addIssue({ code: "custom", message: `"${v}" is more than 1 PB` });
    return z.NEVER;
  }
  return n;
});

/** What a quota counts: exactly one of these keys. */
export const QUOTA_TARGETS = ["address", "class"] as const;
export type QuotaTargetKind = (typeof QUOTA_TARGETS)[number];

export const QuotaSchema = z
  .strictObject({
    // no "-": the name is part of the kernel's quota object name
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/, "lowercase letters, digits and _, starting with a letter (max 32)"),
    /** A LAN host's IPv4/IPv6 address, or a prefix (all its hosts share the allowance). */
    address: plainText(50).min(1).optional(),
    /** A class (upload and download classes of that name share the allowance). */
    class: plainText(100).min(1).optional(),
    allowance,
    period: z.enum(QUOTA_PERIODS),
    /** The class the target's traffic goes to once the allowance is spent. */
    demoteTo: plainText(100).optional(),
    description: plainText(200).optional(),
  })
  .superRefine((q, ctx) => {
    const given = QUOTA_TARGETS.filter((k) => q[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: "custom",
        message:
          given.length === 0
            ? `a quota needs one of ${QUOTA_TARGETS.join(", ")}`
            : `a quota counts exactly one of ${QUOTA_TARGETS.join(", ")} (this one has ${given.join(" and ")})`,
      });
  });

export type Quota = z.output<typeof QuotaSchema>;

/** Which key a quota counts and its value. */
export function quotaTarget(q: Quota): { kind: QuotaTargetKind; value: string } {
  const kind = QUOTA_TARGETS.find((k) => q[k] !== undefined) ?? "class";
  return { kind, value: q[kind] ?? "" };
}
