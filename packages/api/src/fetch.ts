// The HTTP side: a fetch-API handler for /api/trpc (the Next route handler calls it), and the
// one server-wide set of deps (database, agent client, stats hub) shared by the route
// handler, server components and instrumentation, whichever module instance loads first.

import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "./root.ts";
import { createContext, requestMetaOf } from "./context.ts";
import { createDepsFromEnv, type ApiDeps } from "./deps.ts";

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

/** Starts the background work: the stats subscription and the minute roll-up. */
export async function startBackground(): Promise<ApiDeps> {
  const deps = await serverDeps();
  deps.stats.start();
  void deps.agent.checkHealth();
  return deps;
}

export async function handleTrpc(req: Request, endpoint = "/api/trpc"): Promise<Response> {
  return handleTrpcWith(await serverDeps(), req, endpoint);
}

export function handleTrpcWith(deps: ApiDeps, req: Request, endpoint = "/api/trpc"): Promise<Response> {
  return fetchRequestHandler({
    endpoint,
    req,
    router: appRouter,
    createContext: ({ resHeaders }) =>
      createContext(deps, requestMetaOf(req, deps.config.trustProxy), {
        setCookie: (c) => resHeaders.append("set-cookie", c),
      }),
    responseMeta: () => ({ headers: { "cache-control": "no-store" } }),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        console.error(`[sluice-web] ${path ?? "?"}:`, error.cause ?? error);
    },
  });
}
