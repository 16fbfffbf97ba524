// The server side of the dashboard (@sluice/api and, through it, @sluice/db, Prisma and the
// classifier's native re2) is loaded by Node at run time instead of being bundled: those
// packages find files next to their own sources (migrations, pattern sets) and load native
// addons, which a bundle would break. Node runs their TypeScript directly (type stripping).
import type * as Api from "@sluice/api";

export type ApiModule = typeof Api;

let mod: Promise<ApiModule> | null = null;

export function api(): Promise<ApiModule> {
  mod ??= import(/* turbopackIgnore: true */ /* webpackIgnore: true */ "@sluice/api") as Promise<ApiModule>;
  return mod;
}

/** The signed-in user for a server component (or whether setup is still due). */
export async function currentSession(sessionToken: string | undefined) {
  const a = await api();
  return a.sessionFromCookies(await a.serverDeps(), sessionToken);
}

export const SESSION_COOKIE = "sluice_session";
