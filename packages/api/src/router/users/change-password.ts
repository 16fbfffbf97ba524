// Changes your own password (the current one is asked again); other sessions are signed out.

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { PASSWORD_MIN_LENGTH } from "@sluice/db";
import { protectedProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";
import { userError } from "./shared.ts";

export const changePasswordInput = z.object({
  current: z.string().min(1, "enter your current password").max(1024),
  next: z.string().min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`).max(1024),
});

export const changePassword = protectedProcedure
  .input(changePasswordInput)
  .mutation(async ({ ctx, input }) => {
    const { users, sessions } = ctx.deps.db;
    const ok = await users.verify(ctx.auth.user.username, input.current);
    if (!ok) throw new TRPCError({ code: "BAD_REQUEST", message: "the current password is wrong" });
    await users.setPassword(ctx.auth.user.id, input.next, { revokeSessions: false }).catch(userError);
    await sessions.revokeAllForUser(ctx.auth.user.id, { exceptToken: ctx.auth.token });
    await audit(ctx, "user.password", ctx.auth.user.username);
    return { ok: true };
  });
