// The table of contents of the agent's control API: every /v1 route with its method, path
// and the schemas of what goes in and comes out. The server (apps/agent/src/api/server.ts)
// parses requests with these; the agent's tests check its answers against them.

import type { z } from "zod";
import { AgentStatus } from "./status.ts";
import { AppCatalogue, ProtocolsResponse } from "./catalogue.ts";
import {
  ApplyRequest,
  ApplyResponse,
  HistoryEntry,
  HistoryResponse,
  HistorySummary,
  RenderRequest,
  RenderResponse,
  RollbackRequest,
} from "./policy-ops.ts";
import { FlowsResponse, StatsResponse, StatsSample } from "./stats.ts";
import { TestPatternRequest, TestPatternResponse } from "./test-pattern.ts";
import { DevicesResponse } from "./devices.ts";

interface Route {
  method: "GET" | "POST";
  /** The path; ":id" stands for a positive integer. */
  path: string;
  request?: z.ZodType;
  response: z.ZodType;
}

const route = <R extends Route>(r: R) => r;

export const ROUTES = {
  status: route({ method: "GET", path: "/v1/status", response: AgentStatus }),
  protocols: route({ method: "GET", path: "/v1/protocols", response: ProtocolsResponse }),
  apps: route({ method: "GET", path: "/v1/apps", response: AppCatalogue }),
  render: route({ method: "POST", path: "/v1/render", request: RenderRequest, response: RenderResponse }),
  apply: route({ method: "POST", path: "/v1/apply", request: ApplyRequest, response: ApplyResponse }),
  confirm: route({ method: "POST", path: "/v1/confirm", response: HistorySummary }),
  rollback: route({
    method: "POST",
    path: "/v1/rollback",
    request: RollbackRequest,
    response: HistorySummary,
  }),
  history: route({ method: "GET", path: "/v1/history", response: HistoryResponse }),
  historyEntry: route({ method: "GET", path: "/v1/history/:id", response: HistoryEntry }),
  stats: route({ method: "GET", path: "/v1/stats", response: StatsResponse }),
  /** The latest sample alone (null before the first): one bounded answer, whatever the history holds. */
  statsLatest: route({ method: "GET", path: "/v1/stats/latest", response: StatsSample.nullable() }),
  /** Server-Sent Events: `data: <StatsSample>` frames, the latest one first. */
  statsStream: route({ method: "GET", path: "/v1/stats/stream", response: StatsSample }),
  flows: route({ method: "GET", path: "/v1/flows", response: FlowsResponse }),
  devices: route({ method: "GET", path: "/v1/devices", response: DevicesResponse }),
  testPattern: route({
    method: "POST",
    path: "/v1/test-pattern",
    request: TestPatternRequest,
    response: TestPatternResponse,
  }),
} as const;

export type RouteName = keyof typeof ROUTES;
/** The answer of a route, as the client receives it. */
export type ResponseOf<N extends RouteName> = z.output<(typeof ROUTES)[N]["response"]>;
