// The audit log, newest first (who did what, from where).

import { z } from "zod";
import { plainText } from "@sluice/policy";
import { protectedProcedure } from "../../trpc.ts";

export const listAuditInput = z.object({
  limit: z.number().int().min(1).max(500).default(50),
  offset: z.number().int().min(0).default(0),
  action: plainText(60).optional(),
});

export const listAudit = protectedProcedure.input(listAuditInput).query(async ({ ctx, input }) => {
  const page = await ctx.deps.db.audit.list({
    limit: input.limit,
    offset: input.offset,
    ...(input.action ? { action: input.action } : {}),
  });
  return {
    total: page.total,
    items: page.items.map((e) => ({ ...e, at: e.at.toISOString(), details: e.details as unknown })),
  };
});
