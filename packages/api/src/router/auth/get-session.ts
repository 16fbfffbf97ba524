// Who is signed in (or whether the box still needs its first admin). Also hands out the
// CSRF cookie: a fresh random one before sign-in, the session's own after.

import { randomBytes } from "node:crypto";
import { publicProcedure } from "../../trpc.ts";
import { csrfCookie } from "../../context.ts";

export const getSession = publicProcedure.query(async ({ ctx }) => {
  const needsSetup = (await ctx.deps.db.users.count()) === 0;
  const want = ctx.auth?.session.csrfToken ?? ctx.req.cookies.csrf ?? randomBytes(32).toString("base64url");
  if (ctx.req.cookies.csrf !== want) ctx.res.setCookie(csrfCookie(ctx.req, want));
  return {
    needsSetup,
    user: ctx.auth
      ? { id: ctx.auth.user.id, username: ctx.auth.user.username, role: ctx.auth.user.role }
      : null,
    expiresAt: ctx.auth?.session.expiresAt.toISOString() ?? null,
  };
});
