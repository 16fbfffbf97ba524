// The box's settings: shaped interfaces and link rates (part of the policy), where download
// is shaped, the metrics endpoint (part of the policy; its state from the agent), and where
// the dashboard keeps its data and finds the agent.

import { protectedProcedure } from "../../trpc.ts";
import { editablePolicy } from "../../helpers.ts";

export const getSettings = protectedProcedure.query(async ({ ctx }) => {
  const p = await editablePolicy(ctx.deps);
  const status = (await ctx.deps.agent.checkHealth()).status;
  return {
    interfaces: p.interfaces,
    download: p.download,
    metrics: {
      enabled: p.metrics.enabled,
      address: p.metrics.address,
      port: p.metrics.port,
      auth: p.metrics.bearerTokenSha256 ? ("bearer" as const) : ("none" as const),
    },
    /** What the agent serves now (null: not known, an older agent or none answering). */
    metricsEndpoint: status?.metrics ?? null,
    /** Addresses the endpoint may listen on: loopback and the LAN interface's. */
    metricsAddresses: [
      "127.0.0.1",
      "::1",
      ...(status?.interfaces?.find((i) => i.name === p.interfaces.lan.device)?.addresses ?? []).map(
        (a) => a.split("%")[0]!,
      ),
    ],
    agentSocket: ctx.deps.config.socket,
    database: { provider: ctx.deps.db.provider, location: ctx.deps.db.location },
    protocolDirs: ctx.deps.config.protocolDirs,
  };
});
