// The application catalogue (apps with their category, and the categories) for the rule
// picker and the per-app views, from the agent (GET /v1/apps). When the agent is down it is
// the last list seen, with `live: false` and the error; before any answer, empty lists and
// the error, so the page can say why there is nothing to pick.

import { z } from "zod";
import { plainText } from "@sluice/policy";
import { protectedProcedure } from "../../trpc.ts";

export const listAppsInput = z
  .object({
    /** Only the apps of this category. */
    category: plainText(64).optional(),
  })
  .default({});

export const listApps = protectedProcedure.input(listAppsInput).query(async ({ ctx, input }) => {
  const r = await ctx.deps.agent.apps();
  const apps = (r.catalogue?.apps ?? [])
    .filter((a) => input.category === undefined || a.category === input.category)
    .toSorted((a, b) => a.category.localeCompare(b.category) || a.title.localeCompare(b.title));
  return {
    apps,
    categories: (r.catalogue?.categories ?? []).toSorted((a, b) => a.title.localeCompare(b.title)),
    live: r.live,
    /** When the list was last fetched from the agent (ISO), null when never. */
    at: r.at,
    error: r.error ?? (r.catalogue?.apps.length ? null : "the agent has no application catalogue"),
  };
});
