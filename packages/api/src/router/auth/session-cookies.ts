// Starts a session for a user and puts its cookies on the response.

import type { PublicUser } from "@sluice/db";
import type { Context } from "../../context.ts";
import { csrfCookie, sessionCookie } from "../../context.ts";

export async function startSession(ctx: Context, user: PublicUser): Promise<void> {
  const s = await ctx.deps.db.sessions.create(user.id, {
    ttlMs: ctx.deps.config.sessionTtlMs,
    ip: ctx.req.ip,
    userAgent: ctx.req.userAgent,
  });
  const maxAge = Math.floor(ctx.deps.config.sessionTtlMs / 1000);
  ctx.res.setCookie(sessionCookie(ctx.req, s.token, maxAge));
  ctx.res.setCookie(csrfCookie(ctx.req, s.csrfToken));
}
