// The HTTP side: a fetch-API handler for /api/trpc (the Next route handler calls it), and the
// one server-wide set of deps (database, agent client, stats hub) shared by the route
// handler, server components and instrumentation, whichever module instance loads first.

import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "./root.ts";
import { createContext, requestMetaOf } from "./context.ts";
import { createDepsFromEnv, type ApiDeps } from "./deps.ts";
import { syncVersions } from "./router/apply/shared.ts";
import { refuseCredentialBatch } from "./http/batch-guard.ts";
import { bodyLimitFor, limitRequestBody } from "./body-limit.ts";

const KEY = Symbol.for("sluice.api.deps");
type Holder = { [KEY]?: Promise<ApiDeps> };

/** The process-wide deps, created on first use (opens the database, applies migrations). */
export function serverDeps(): Promise<ApiDeps> {
  const g = globalThis as Holder;
  g[KEY] ??= createDepsFromEnv().catch((e: unknown) => {
    g[KEY] = undefined;
    throw e;
  });
  return g[KEY];
}

const STARTED = Symbol.for("sluice.api.background");
/** When the start-up's catalogue sync and first retention run come (after the first pages). */
const STARTUP_CHORES_DELAY_MS = 60_000;

/**
 * Starts the background work, once per process: the stats subscription and its minute
 * roll-up, the protocol catalogue refresh, following tries that revert by themselves (so
 * the versions and the audit log say so even when nobody has the Apply page open), and
 * the retention clean-up (expired sessions, old login attempts and accounting rows).
 */
export async function startBackground(): Promise<ApiDeps> {
  const deps = await serverDeps();
  const g = globalThis as { [STARTED]?: boolean };
  if (g[STARTED]) return deps;
  g[STARTED] = true;
  const log = (what: string) => (e: unknown) =>
    console.error(`[sluice-web] ${what}: ${(e as Error).message ?? String(e)}`);
  deps.stats.start();
  void deps.agent.checkHealth();
  // The catalogue refresh and the first clean-up wait a minute, off the first pages' path:
  // their first queries (Prisma compiles each query shape once) cost ~0.4 s of CPU natively
  // when the agent is up, a quarter of the dashboard's start, ~25 times that in the emulated
  // boot; nothing needs them sooner (an empty catalogue fills on first use).
  const chores = setTimeout(() => {
    void deps.agent
      .protocols()
      .then((c) => deps.db.protocols.sync(c))
      .catch(() => undefined); // the agent may not be up: the catalogue fills on first use
    void deps.db.retention().catch(log("retention"));
  }, STARTUP_CHORES_DELAY_MS);
  chores.unref?.();
  const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
    const t = setInterval(() => void fn().catch(log(what)), ms);
    t.unref?.();
  };
  every(
    10_000,
    async () => {
      // only while a recorded version is still "trying"
      const pending = await deps.db.versions.list({ result: "trying", limit: 1 });
      if (pending.items.length) await syncVersions(deps.db, await deps.agent.history());
    },
    "history sync",
  );
  every(3600_000, () => deps.db.retention(), "retention");
  return deps;
}

export async function handleTrpc(req: Request, endpoint = "/api/trpc"): Promise<Response> {
  return handleTrpcWith(await serverDeps(), req, endpoint);
}

export function handleTrpcWith(deps: ApiDeps, request: Request, endpoint = "/api/trpc"): Promise<Response> {
  const req = limitRequestBody(request, bodyLimitFor(request.url, endpoint, deps.config.captureMaxBytes));
  return fetchRequestHandler({
    endpoint,
    req,
    router: appRouter,
    createContext: ({ resHeaders, info }) => {
      refuseCredentialBatch(info);
      return createContext(deps, requestMetaOf(req, deps.config.trustedProxies), {
        setCookie: (c) => resHeaders.append("set-cookie", c),
      });
    },
    responseMeta: () => ({ headers: { "cache-control": "no-store" } }),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        console.error(`[sluice-web] ${path ?? "?"}:`, error.cause ?? error);
    },
  });
}
