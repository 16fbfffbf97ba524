// Turns the agent's Prometheus/OpenMetrics endpoint on or off, and sets where it listens
// (loopback or one of the LAN interface's addresses, as the agent reports them) and its
// bearer token. Saved into the edited policy like the interfaces; it takes effect on Apply.
// The token is never stored: only its SHA-256 goes into the policy, and a generated token is
// shown once, in this answer.

import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { metricsListenIssues } from "@sluice/policy";
import { adminProcedure, badRequest } from "../../trpc.ts";
import { audit, editablePolicy, policyError, ruleNames } from "../../helpers.ts";

export const saveMetricsInput = z.object({
  enabled: z.boolean(),
  address: z.string().max(64),
  port: z.number().int(),
  /** keep the token, remove it (no auth), generate a new one, or set one (16+ characters). */
  token: z
    .union([
      z.enum(["keep", "remove", "generate"]),
      z.object({ set: z.string().min(16, "at least 16 characters").max(200).regex(/^\S+$/, "no spaces") }),
    ])
    .default("keep"),
});

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export const saveMetrics = adminProcedure.input(saveMetricsInput).mutation(async ({ ctx, input }) => {
  const p = await editablePolicy(ctx.deps);
  let token: string | null = null;
  let digest = p.metrics.bearerTokenSha256;
  if (input.token === "remove") digest = undefined;
  else if (input.token === "generate") {
    token = randomBytes(24).toString("base64url");
    digest = sha256(token);
  } else if (typeof input.token === "object") digest = sha256(input.token.set);
  const metrics = {
    enabled: input.enabled,
    address: input.address,
    port: input.port,
    ...(digest ? { bearerTokenSha256: digest } : {}),
  };
  // the box's LAN addresses, as the agent last reported them (unknown: the agent checks on apply)
  const ifaces = (await ctx.deps.agent.checkHealth()).status?.interfaces;
  const lan = ifaces ? (ifaces.find((i) => i.name === p.interfaces.lan.device)?.addresses ?? []) : null;
  const issues = metricsListenIssues({ ...p, metrics }, lan);
  if (issues.length) throw badRequest(issues.map((i) => i.message).join("; "), issues);
  await ctx.deps.db.policy.save({ ...p, metrics }, await ruleNames(ctx.deps)).catch(policyError);
  await audit(ctx, "settings.metrics", null, {
    enabled: input.enabled,
    address: input.address,
    port: input.port,
    token: typeof input.token === "object" ? "set" : input.token,
  });
  const saved = (await editablePolicy(ctx.deps)).metrics;
  return {
    metrics: {
      enabled: saved.enabled,
      address: saved.address,
      port: saved.port,
      auth: saved.bearerTokenSha256 ? ("bearer" as const) : ("none" as const),
    },
    /** A generated token, shown once (only its digest is kept). */
    token,
  };
});
