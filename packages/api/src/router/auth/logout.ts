// Sign out: the session is deleted server-side and the cookies cleared.

import { randomBytes } from "node:crypto";
import { protectedProcedure } from "../../trpc.ts";
import { clearSessionCookie, csrfCookie } from "../../context.ts";
import { audit } from "../../helpers.ts";

export const logout = protectedProcedure.mutation(async ({ ctx }) => {
  await ctx.deps.db.sessions.revoke(ctx.auth.token);
  ctx.res.setCookie(clearSessionCookie(ctx.req));
  ctx.res.setCookie(csrfCookie(ctx.req, randomBytes(32).toString("base64url")));
  await audit(ctx, "logout", ctx.auth.user.username);
  return { ok: true };
});
