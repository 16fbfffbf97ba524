// What the browser may import: types only (the router's shape and its inputs/outputs).

import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./root.ts";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type { FieldIssue } from "./trpc.ts";
export type { LiveSample, LiveClass } from "./stats/hub.ts";
export type { CapabilityLine } from "./agent/capabilities-view.ts";
export type { HistoryRow } from "./router/apply/list-history.ts";
