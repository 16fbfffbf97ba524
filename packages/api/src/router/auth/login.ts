// Sign in. The attempt is counted before the password is checked, and refused unchecked
// while the client's address has failed too often (auth/password-guard.ts); the account
// itself is never locked.

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { publicProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";
import { startSession } from "./session-cookies.ts";
import { beginPasswordAttempt } from "../../auth/password-guard.ts";
import { plainText } from "@sluice/policy";

export const loginInput = z.object({
  username: plainText(64).trim().min(1, "enter your username"),
  password: z.string().min(1, "enter your password").max(1024),
});

export const login = publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
  const attempt = await beginPasswordAttempt(ctx, input.username);
  const user = await ctx.deps.db.users.verify(input.username, input.password);
  if (!user) {
    await attempt.failed("login.failed");
    throw new TRPCError({ code: "UNAUTHORIZED", message: "wrong username or password" });
  }
  await attempt.succeeded();
  await startSession(ctx, user);
  await audit(ctx, "login", user.username, undefined, { id: user.id, username: user.username });
  return { id: user.id, username: user.username, role: user.role };
});
