// The gate in front of every password check (sign-in, changing your own password). The
// attempt is recorded before the password is checked (see loginAttempts.begin: concurrent
// or batched attempts cannot slip past the count). What is limited is the guessing client,
// never the account: too many failures from one address for one user name, or for any user
// names, and that address is refused; the right password from anywhere else still works.
// Failures per user name across all addresses are counted for the audit log's alert.

import { isIP } from "node:net";
import { TRPCError } from "@trpc/server";
import type { Context } from "../context.ts";
import { audit } from "../helpers.ts";

/**
 * The address a client is counted under: an IPv4 address, or the /64 of an IPv6 one (a
 * single host usually has a whole /64 to pick addresses from).
 */
export function limitKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

export interface PasswordAttempt {
  /** The password was right: the attempt no longer counts as a failure. */
  succeeded(): Promise<void>;
  /** The password was wrong: audit it (and alert when a user name draws many failures). */
  failed(action: string): Promise<void>;
}

/**
 * Records an attempt to check `username`'s password from this request's client, or throws
 * TOO_MANY_REQUESTS (recording nothing) when that client has failed too often.
 */
export async function beginPasswordAttempt(ctx: Context, username: string): Promise<PasswordAttempt> {
  const { db, config } = ctx.deps;
  const limits = config.login;
  const name = username.trim().toLowerCase();
  const { id, failures } = await db.loginAttempts.begin({
    ip: limitKey(ctx.req.ip),
    username: name,
    windowMs: limits.windowMs,
  });
  // The counts include this attempt: the (max+1)-th is refused.
  if (failures.pair > limits.maxFailuresPerUser || failures.ip > limits.maxFailuresPerIp) {
    await db.loginAttempts.forget(id);
    await audit(
      ctx,
      "login.blocked",
      name,
      { ...failures, ip: failures.ip - 1, pair: failures.pair - 1 },
      name,
    );
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message: `too many failed attempts from your address; try again in ${Math.round(limits.windowMs / 60_000)} minutes`,
    });
  }
  return {
    succeeded: () => db.loginAttempts.succeeded(id),
    async failed(action) {
      await audit(ctx, action, name, undefined, name);
      const n = (await db.loginAttempts.recentFailures({ username: name, windowMs: limits.windowMs }))
        .username;
      // Once per multiple of the per-user limit: someone is guessing this user's password.
      if (n > 0 && n % limits.maxFailuresPerUser === 0)
        await audit(ctx, "login.alert", name, { failures: n, windowMinutes: limits.windowMs / 60_000 }, name);
    },
  };
}
