// @sluice/agent-contract: the agent's control API, one definition for the agent's server,
// the `sluice` CLI and the dashboard (packages/api).

export * from "./socket.ts";
export * from "./status.ts";
export * from "./catalogue.ts";
export * from "./policy-ops.ts";
export * from "./stats.ts";
export * from "./test-pattern.ts";
export * from "./devices.ts";
export * from "./routes.ts";
export * from "./client.ts";
