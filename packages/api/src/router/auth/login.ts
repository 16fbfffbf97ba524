// Sign in. Refused without checking the password while the IP or the username has too many
// recent failures (from the login-attempts table); every attempt is recorded.

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { publicProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";
import { startSession } from "./session-cookies.ts";

export const loginInput = z.object({
  username: z.string().trim().min(1, "enter your username").max(64),
  password: z.string().min(1, "enter your password").max(1024),
});

export const login = publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
  const { db, config } = ctx.deps;
  const limits = config.login;
  const failures = await db.loginAttempts.recentFailures({
    ip: ctx.req.ip,
    username: input.username,
    windowMs: limits.windowMs,
  });
  if (failures.ip >= limits.maxFailuresPerIp || failures.username >= limits.maxFailuresPerUser) {
    await audit(ctx, "login.blocked", input.username.toLowerCase(), failures, input.username.toLowerCase());
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message: `too many failed sign-ins; try again in ${Math.round(limits.windowMs / 60_000)} minutes`,
    });
  }
  const user = await db.users.verify(input.username, input.password);
  await db.loginAttempts.record({ ip: ctx.req.ip, username: input.username, ok: !!user });
  if (!user) {
    await audit(ctx, "login.failed", input.username.toLowerCase(), undefined, input.username.toLowerCase());
    throw new TRPCError({ code: "UNAUTHORIZED", message: "wrong username or password" });
  }
  await startSession(ctx, user);
  await audit(ctx, "login", user.username, undefined, { id: user.id, username: user.username });
  return { id: user.id, username: user.username, role: user.role };
});
