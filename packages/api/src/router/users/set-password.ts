// An admin sets another user's password (that user is signed out everywhere). Not their
// own: that is users.changePassword, which asks for the current one (a stolen session must
// not be enough to take the account).

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { PASSWORD_MIN_LENGTH } from "@sluice/db";
import { adminProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";
import { userError } from "./shared.ts";

export const setPasswordInput = z.object({
  id: z.number().int().positive(),
  password: z.string().min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`).max(1024),
});

export const setPassword = adminProcedure.input(setPasswordInput).mutation(async ({ ctx, input }) => {
  if (input.id === ctx.auth.user.id)
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: "change your own password under Account, with your current password",
    });
  const u = await ctx.deps.db.users.get(input.id);
  if (!u) throw new TRPCError({ code: "NOT_FOUND", message: `no user ${input.id}` });
  await ctx.deps.db.users.setPassword(u.id, input.password).catch(userError);
  await audit(ctx, "user.password.reset", u.username);
  return { ok: true };
});
