// Removes a user (their sessions end). Not yourself, and never the last admin.

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { adminProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";

export const removeUserInput = z.object({ id: z.number().int().positive() });

export const removeUser = adminProcedure.input(removeUserInput).mutation(async ({ ctx, input }) => {
  const { users } = ctx.deps.db;
  if (input.id === ctx.auth.user.id)
    throw new TRPCError({ code: "BAD_REQUEST", message: "you cannot remove yourself" });
  const u = await users.get(input.id);
  if (!u) throw new TRPCError({ code: "NOT_FOUND", message: `no user ${input.id}` });
  if (u.role === "admin" && (await users.count({ role: "admin" })) <= 1)
    throw new TRPCError({ code: "BAD_REQUEST", message: "the last admin cannot be removed" });
  await users.remove(u.id);
  await audit(ctx, "user.remove", u.username);
  return { ok: true };
});
