// CSRF protection for every mutation (tRPC queries are GETs and change nothing):
//  1. an Origin header, when the browser sends one, must be the dashboard's own origin;
//  2. the x-csrf-token header must equal the sluice_csrf cookie (double submit: another
//     site can make the browser send the cookie but cannot read it to set the header);
//  3. when signed in, that token must also be the session's own CSRF token (stored with the
//     session), so a token planted in the cookie by someone else does not pass.

import { timingSafeEqual } from "node:crypto";
import { TRPCError } from "@trpc/server";
import type { Context } from "../context.ts";

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function checkCsrf(ctx: Context): void {
  const { req } = ctx;
  if (req.origin && req.host) {
    let originHost: string | null = null;
    try {
      originHost = new URL(req.origin).host;
    } catch {
      originHost = null;
    }
    if (originHost !== req.host && !ctx.deps.config.allowedOrigins.includes(req.origin))
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `cross-site request refused (origin ${req.origin})`,
      });
  }
  const header = req.csrfHeader;
  const cookie = req.cookies.csrf;
  if (!header || !cookie || !same(header, cookie))
    throw new TRPCError({ code: "FORBIDDEN", message: "missing or wrong CSRF token: reload the page" });
  if (ctx.auth && !same(header, ctx.auth.session.csrfToken))
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "the CSRF token is not this session's: reload the page",
    });
}
