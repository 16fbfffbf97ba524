// GET /v1/protocols (the pattern set) and GET /v1/apps (the application catalogue).

import { z } from "zod";

/** One pattern of the agent's set, with its l7-filter header metadata (null: not in the file). */
export const CatalogueEntry = z.object({
  name: z.string(),
  mark: z.number(),
  priority: z.number(),
  title: z.string().nullish(),
  quality: z.string().nullish(),
  speed: z.string().nullish(),
  groups: z.array(z.string()),
  aliases: z.array(z.string()),
  transports: z.array(z.enum(["tcp", "udp"])),
  overmatch: z.boolean(),
  undermatch: z.boolean(),
  wiki: z.string().nullish(),
  notes: z.array(z.string()),
  pattern: z.string(),
});
export type CatalogueEntry = z.infer<typeof CatalogueEntry>;

export const ProtocolsResponse = z.array(CatalogueEntry);
export type ProtocolsResponse = z.infer<typeof ProtocolsResponse>;

/** The application catalogue (protocols/apps/catalogue.json): empty when the agent has none. */
export const AppCatalogue = z.object({
  apps: z.array(z.object({ id: z.number(), name: z.string(), title: z.string(), category: z.string() })),
  categories: z.array(z.object({ id: z.number(), name: z.string(), title: z.string() })),
});
export type AppCatalogue = z.infer<typeof AppCatalogue>;
