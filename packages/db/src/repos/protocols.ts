// The agent's protocol catalogue (GET /v1/protocols), cached so the dashboard can list and
// search protocols and check rules without asking the agent each time.

import { z } from "zod";
import type { PrismaClient } from "../generated/sqlite/client.ts";

/** One entry of the agent's /v1/protocols answer. */
export const AgentProtocolSchema = z.object({
  name: z.string().min(1).max(100),
  mark: z.number().int(),
  priority: z.number().int().default(0),
  title: z.string().nullable().optional(),
  quality: z.string().nullable().optional(),
  speed: z.string().nullable().optional(),
  groups: z.array(z.string()).default([]),
  aliases: z.array(z.string()).default([]),
  transports: z.array(z.string()).default(["tcp", "udp"]),
  overmatch: z.boolean().default(false),
  undermatch: z.boolean().default(false),
  wiki: z.string().nullable().optional(),
  notes: z.array(z.string()).default([]),
  pattern: z.string().default(""),
});
export type AgentProtocol = z.input<typeof AgentProtocolSchema>;
export const AgentCatalogueSchema = z.array(AgentProtocolSchema);

export interface ProtocolInfo {
  name: string;
  mark: number;
  priority: number;
  title: string | null;
  quality: string | null;
  speed: string | null;
  groups: string[];
  aliases: string[];
  transports: string[];
  overmatch: boolean;
  undermatch: boolean;
  wiki: string | null;
  notes: string[];
  pattern: string;
  updatedAt: Date;
}

type Row = Omit<ProtocolInfo, "groups" | "aliases" | "transports" | "notes"> & {
  id: number;
  search: string;
  groups: unknown;
  aliases: unknown;
  transports: unknown;
  notes: unknown;
};

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

const toInfo = ({ id: _id, search: _s, ...r }: Row): ProtocolInfo => ({
  ...r,
  groups: strings(r.groups),
  aliases: strings(r.aliases),
  transports: strings(r.transports),
  notes: strings(r.notes),
});

/** The stored columns of a catalogue entry (all but the name, the id and the time). */
function columnsOf(p: z.output<typeof AgentProtocolSchema>) {
  return {
    mark: p.mark,
    priority: p.priority,
    title: p.title ?? null,
    quality: p.quality ?? null,
    speed: p.speed ?? null,
    groups: p.groups,
    aliases: p.aliases,
    transports: p.transports,
    overmatch: p.overmatch,
    undermatch: p.undermatch,
    wiki: p.wiki ?? null,
    notes: p.notes,
    pattern: p.pattern,
    search: [p.name, ...p.aliases, p.title ?? "", ...p.groups].join(" ").toLowerCase(),
  };
}

/** The columns columnsOf writes, for reading them back. */
const COLUMNS = {
  mark: true,
  priority: true,
  title: true,
  quality: true,
  speed: true,
  groups: true,
  aliases: true,
  transports: true,
  overmatch: true,
  undermatch: true,
  wiki: true,
  notes: true,
  pattern: true,
  search: true,
} as const satisfies Record<keyof ReturnType<typeof columnsOf>, true>;

/** The columns as one string, in columnsOf's order: equal strings, nothing to write. */
function fingerprint(r: Record<keyof typeof COLUMNS, unknown>): string {
  return JSON.stringify(Object.keys(COLUMNS).map((k) => r[k as keyof typeof COLUMNS]));
}

export function protocolsRepo(prisma: PrismaClient) {
  return {
    /**
     * Replaces the cached catalogue with the agent's (validated): adds the new entries,
     * rewrites only the ones that changed and removes the ones the agent no longer has. The
     * dashboard syncs at every start, usually with nothing changed: one read then, not one
     * upsert per protocol (75 queries through Prisma's query compiler cost the emulated boot
     * about as much CPU as the dashboard's first page).
     */
    async sync(catalogue: unknown): Promise<{ added: number; updated: number; removed: number }> {
      const list = AgentCatalogueSchema.parse(catalogue);
      const names = new Set(list.map((p) => p.name));
      if (names.size !== list.length) throw new Error("the catalogue names a protocol twice");
      return prisma.$transaction(
        async (tx) => {
          const existing = new Map(
            (await tx.protocol.findMany({ select: { name: true, ...COLUMNS } })).map((r) => [
              r.name,
              fingerprint(r),
            ]),
          );
          const gone = [...existing.keys()].filter((n) => !names.has(n));
          const removed = gone.length
            ? (await tx.protocol.deleteMany({ where: { name: { in: gone } } })).count
            : 0;
          const added: (ReturnType<typeof columnsOf> & { name: string })[] = [];
          let updated = 0;
          for (const p of list) {
            const data = columnsOf(p);
            const before = existing.get(p.name);
            if (before === undefined) added.push({ name: p.name, ...data });
            else if (before !== fingerprint(data)) {
              await tx.protocol.update({ where: { name: p.name }, data });
              updated++;
            }
          }
          // one create each: createMany of the whole list costs more CPU in a new process
          // (its query is compiled with every row), bench/protocol-sync-bench.ts
          for (const data of added) await tx.protocol.create({ data });
          return { added: added.length, updated, removed };
        },
        { timeout: 60_000 },
      );
    },

    async list(): Promise<ProtocolInfo[]> {
      return (await prisma.protocol.findMany({ orderBy: { name: "asc" } })).map(toInfo);
    },

    /** Case-insensitive search in names, aliases, titles and groups; optionally one group. */
    async search(q: string, opts: { group?: string; limit?: number } = {}): Promise<ProtocolInfo[]> {
      const words = q.toLowerCase().split(/\s+/).filter(Boolean);
      const rows = await prisma.protocol.findMany({
        where: { AND: words.map((w) => ({ search: { contains: w } })) },
        orderBy: { name: "asc" },
      });
      const out = rows.map(toInfo).filter((p) => !opts.group || p.groups.includes(opts.group));
      const exact = (p: ProtocolInfo) =>
        words.length === 1 && (p.name === words[0] || p.aliases.includes(words[0]!)) ? 0 : 1;
      out.sort((a, b) => exact(a) - exact(b));
      return out.slice(0, opts.limit ?? 200);
    },

    /** A protocol by name or alias. */
    async get(nameOrAlias: string): Promise<ProtocolInfo | null> {
      const r = await prisma.protocol.findUnique({ where: { name: nameOrAlias } });
      if (r) return toInfo(r);
      const all = await repoList(prisma);
      return all.find((p) => p.aliases.includes(nameOrAlias)) ?? null;
    },

    /** Every name and alias: the `protocols` context for validatePolicy. */
    async names(): Promise<Set<string>> {
      const rows = await prisma.protocol.findMany({ select: { name: true, aliases: true } });
      const out = new Set<string>();
      for (const r of rows) {
        out.add(r.name);
        for (const a of strings(r.aliases)) out.add(a);
      }
      return out;
    },

    count: (): Promise<number> => prisma.protocol.count(),
  };
}

async function repoList(prisma: PrismaClient): Promise<ProtocolInfo[]> {
  return (await prisma.protocol.findMany({ orderBy: { name: "asc" } })).map(toInfo);
}

export type ProtocolsRepo = ReturnType<typeof protocolsRepo>;
