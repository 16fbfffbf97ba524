// @sluice/api: the dashboard's tRPC API. apps/web mounts handleTrpc on /api/trpc and imports
// nothing else from the server side except serverDeps/startBackground and the session check.

export { appRouter, PUBLIC_PROCEDURES, type AppRouter } from "./root.ts";
export { createCallerFactory } from "./trpc.ts";
export type { FieldIssue } from "./trpc.ts";
export { createContext, type Context, type RequestMeta, type ResponseMeta } from "./context.ts";
export { createDeps, configFromEnv, defaultProtocolsDir, type ApiDeps, type ApiConfig } from "./deps.ts";
export { handleTrpc, handleTrpcWith, serverDeps, startBackground } from "./fetch.ts";
export { BODY_LIMIT_BYTES, UPLOAD_PROCEDURES } from "./body-limit.ts";
export { sessionFromCookies } from "./auth/session.ts";
export { SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER } from "./auth/cookies.ts";
export { AgentService } from "./agent/service.ts";
export { AgentClient, AgentApiError, AgentUnreachableError } from "@sluice/agent-contract";
export { StatsHub } from "./stats/hub.ts";
/** The agent's answers, as the contract declares them. */
export type {
  AgentStatus,
  AppCatalogue,
  AppSample,
  ApplyErrorBody,
  ApplyResponse,
  Capabilities,
  CatalogueEntry,
  CategorySample,
  ClassSample,
  ConnectionSample,
  EntryStatus,
  FlowDecided,
  FlowsResponse,
  HistorySummary,
  HostSample,
  PolicyDiff,
  ProtocolSample,
  RenderResponse,
  Scripts,
  StatsSample,
  TestPatternResponse,
  Variant,
} from "@sluice/agent-contract";
