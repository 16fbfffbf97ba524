// tRPC's building blocks: the context type, the error shape (field issues with paths the
// dashboard puts next to inputs), and the procedures every router builds on. Every
// procedure is public, protected (a signed-in user) or admin; every mutation also passes
// the CSRF check (see auth/csrf.ts). Auth runs before input parsing, so a call without a
// session is UNAUTHORIZED whatever its input.

import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { isBusyError } from "@sluice/db";
import type { Context } from "./context.ts";
import { checkCsrf } from "./auth/csrf.ts";
import { IssuesError } from "./issues.ts";

export { IssuesError, badRequest, type FieldIssue } from "./issues.ts";

function pathOf(p: readonly PropertyKey[]): string {
  let out = "";
  for (const k of p) out += typeof k === "number" ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const c = error.cause;
    const issues =
      c instanceof IssuesError
        ? c.issues
        : c instanceof ZodError
          ? c.issues.map((i) => ({ path: pathOf(i.path), message: i.message }))
          : undefined;
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      // the messages alone: the issues carry the paths, and pages put each next to its field
      message: c instanceof ZodError ? (issues?.map((i) => i.message).join("; ") ?? "") : shape.message,
      data: { ...data, ...(issues ? { issues } : {}) },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** A database locked by another process is a clear, retryable error, not a 500. */
const databaseBusy = t.middleware(async ({ next }) => {
  const r = await next();
  if (!r.ok && r.error.code === "INTERNAL_SERVER_ERROR" && isBusyError(r.error.cause))
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: "the database is busy (another process holds it locked): try again in a moment",
      cause: r.error.cause,
    });
  return r;
});

const csrf = t.middleware(({ ctx, type, next }) => {
  if (type === "mutation") checkCsrf(ctx);
  return next();
});

const signedIn = t.middleware(({ ctx, next }) => {
  if (!ctx.auth) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, auth: ctx.auth } });
});

/** No session needed (sign-in, first-run setup, the session probe). Mutations still need CSRF. */
export const publicProcedure = t.procedure.use(databaseBusy).use(csrf);

/** Any signed-in user (admins and viewers). */
export const protectedProcedure = t.procedure.use(databaseBusy).use(signedIn).use(csrf);

/** Signed-in admins: everything that changes the box, the policy or the users. */
export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.auth.user.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "admins only" });
  return next();
});
