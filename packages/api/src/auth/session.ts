// For server components: who is signed in, from the request's cookies (the same check the
// tRPC context does), and whether the first admin still has to be created.

import type { PublicUser } from "@sluice/db";
import type { ApiDeps } from "../deps.ts";

export async function sessionFromCookies(
  deps: ApiDeps,
  token: string | undefined,
): Promise<{ needsSetup: boolean; user: PublicUser | null }> {
  const needsSetup = (await deps.db.users.count()) === 0;
  if (needsSetup || !token) return { needsSetup, user: null };
  const found = await deps.db.sessions.validate(token, {
    idleTimeoutMs: deps.config.idleTimeoutMs,
    slidingTtlMs: deps.config.sessionTtlMs,
  });
  return { needsSetup, user: found?.user ?? null };
}
