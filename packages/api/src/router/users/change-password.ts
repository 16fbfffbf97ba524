// Changes your own password (the current one is asked again, and guesses of it are limited
// like sign-ins); other sessions are signed out.

import { z } from "zod";
import { PASSWORD_MIN_LENGTH } from "@sluice/db";
import { badRequest, protectedProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";
import { userError } from "./shared.ts";
import { beginPasswordAttempt } from "../../auth/password-guard.ts";

export const changePasswordInput = z.object({
  current: z.string().min(1, "enter your current password").max(1024),
  next: z.string().min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`).max(1024),
});

export const changePassword = protectedProcedure
  .input(changePasswordInput)
  .mutation(async ({ ctx, input }) => {
    const { users, sessions } = ctx.deps.db;
    // Guesses of the current password count like failed sign-ins (a stolen session must not
    // become a way to find the password).
    const attempt = await beginPasswordAttempt(ctx, ctx.auth.user.username);
    const ok = await users.verify(ctx.auth.user.username, input.current);
    if (!ok) {
      await attempt.failed("user.password.failed");
      throw badRequest("the current password is wrong", [
        { path: "current", message: "the current password is wrong" },
      ]);
    }
    await attempt.succeeded();
    await users.setPassword(ctx.auth.user.id, input.next, { revokeSessions: false }).catch(userError);
    await sessions.revokeAllForUser(ctx.auth.user.id, { exceptToken: ctx.auth.token });
    await audit(ctx, "user.password", ctx.auth.user.username);
    return { ok: true };
  });
