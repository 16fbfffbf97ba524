// The live ring for the Overview (polled about once a second with the newest `t` the page
// has): per-class, per-protocol and per-app rates, upload, download and drops, plus the
// newest top talkers, top apps (with their category and title) and categories. From the server's one subscription to the agent's stream; when that is not
// running (tests, a one-off server), from the agent's own ring.

import { z } from "zod";
import { protectedProcedure } from "../../trpc.ts";
import { agentError } from "../../agent/service.ts";
import { StatsHub, type LiveSample } from "../../stats/hub.ts";
import type { StatsSample } from "@sluice/agent-contract";

export const getLiveInput = z.object({ since: z.number().min(0).default(0) });

export const getLive = protectedProcedure.input(getLiveInput).query(async ({ ctx, input }) => {
  const hub = ctx.deps.stats;
  let samples: LiveSample[];
  let latest: StatsSample | null;
  if (hub.running) {
    samples = hub.live(input.since);
    latest = hub.latest();
  } else {
    let r: { latest: StatsSample | null; history: StatsSample[] };
    try {
      r = await ctx.deps.agent.stats();
    } catch (e) {
      throw agentError(e);
    }
    const temp = new StatsHub(ctx.deps.agent, ctx.deps.db);
    for (const s of r.history) temp.ingest(s);
    samples = temp.live(input.since);
    latest = r.latest;
  }
  const health = ctx.deps.agent.lastHealth();
  return {
    samples,
    hosts: latest?.hosts.slice(0, 10) ?? [],
    protocols: latest?.protocols.slice(0, 15) ?? [],
    apps: latest?.apps?.slice(0, 15) ?? [],
    categories: latest?.categories ?? [],
    /** false: the agent sends no per-app stats (no catalogue), not "no app traffic". */
    hasApps: latest ? latest.apps !== undefined : null,
    totals: latest?.totals ?? null,
    latestAt: latest?.t ?? null,
    live: hub.running ? hub.connected : health.reachable,
  };
});
