// Policy versions: every policy the dashboard sent to the agent, with the rendered scripts,
// who sent it, and what became of it (the agent's history entry status). One of them may be
// marked as the last good one.

import type { PolicyInput } from "@sluice/policy";
import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { ApplyResult } from "../generated/sqlite/enums.ts";
import type { InputJsonValue } from "../generated/sqlite/internal/prismaNamespace.ts";
import { actorFields, pageArgs, type Actor, type Page, type PageOptions } from "./util.ts";

export const APPLY_RESULTS: readonly ApplyResult[] = [
  "applied",
  "trying",
  "confirmed",
  "reverted",
  "failed",
  "superseded",
];

export interface RenderedScripts {
  tc: string;
  iptables: string;
  ip6tables: string;
}

export interface PolicyVersionRecord {
  id: number;
  policy: PolicyInput;
  scripts: RenderedScripts | null;
  appliedById: number | null;
  appliedBy: string;
  appliedAt: Date;
  result: ApplyResult;
  error: unknown;
  agentEntryId: number | null;
  isLastGood: boolean;
  tryUntil: Date | null;
}

export interface RecordVersionInput {
  policy: PolicyInput;
  scripts?: RenderedScripts | null;
  /** The user who applied it, or a name ("first boot", "agent"). */
  user: Actor;
  result: ApplyResult;
  /** The agent's error body ({ step, message, command, stderr, ... }) on failure. */
  error?: unknown;
  agentEntryId?: number | null;
  tryUntil?: Date | null;
  appliedAt?: Date;
  /** Also make it the last good version. */
  lastGood?: boolean;
}

type Row = {
  id: number;
  policy: unknown;
  scripts: unknown;
  appliedById: number | null;
  appliedByName: string;
  appliedAt: Date;
  result: ApplyResult;
  error: unknown;
  agentEntryId: number | null;
  isLastGood: boolean;
  tryUntil: Date | null;
};

const toRecord = (r: Row): PolicyVersionRecord => ({
  id: r.id,
  policy: r.policy as PolicyInput,
  scripts: (r.scripts ?? null) as RenderedScripts | null,
  appliedById: r.appliedById,
  appliedBy: r.appliedByName,
  appliedAt: r.appliedAt,
  result: r.result,
  error: r.error ?? null,
  agentEntryId: r.agentEntryId,
  isLastGood: r.isLastGood,
  tryUntil: r.tryUntil,
});

const json = (v: unknown) => v as InputJsonValue;

export function versionsRepo(prisma: PrismaClient) {
  const repo = {
    async record(v: RecordVersionInput): Promise<PolicyVersionRecord> {
      const who = actorFields(v.user);
      const row = await prisma.policyVersion.create({
        data: {
          policy: json(v.policy),
          ...(v.scripts ? { scripts: json(v.scripts) } : {}),
          appliedById: who.userId,
          appliedByName: who.username ?? "unknown",
          ...(v.appliedAt ? { appliedAt: v.appliedAt } : {}),
          result: v.result,
          ...(v.error !== undefined && v.error !== null ? { error: json(v.error) } : {}),
          agentEntryId: v.agentEntryId ?? null,
          tryUntil: v.tryUntil ?? null,
        },
      });
      if (v.lastGood) return repo.markLastGood(row.id);
      return toRecord(row);
    },

    /** Updates what became of a version (trying → confirmed or reverted, ...). */
    async update(
      id: number,
      patch: {
        result?: ApplyResult;
        error?: unknown;
        agentEntryId?: number | null;
        tryUntil?: Date | null;
        scripts?: RenderedScripts;
      },
    ): Promise<PolicyVersionRecord> {
      const row = await prisma.policyVersion.update({
        where: { id },
        data: {
          ...(patch.result ? { result: patch.result } : {}),
          ...(patch.error !== undefined && patch.error !== null ? { error: json(patch.error) } : {}),
          ...(patch.agentEntryId !== undefined ? { agentEntryId: patch.agentEntryId } : {}),
          ...(patch.tryUntil !== undefined ? { tryUntil: patch.tryUntil } : {}),
          ...(patch.scripts ? { scripts: json(patch.scripts) } : {}),
        },
      });
      return toRecord(row);
    },

    async get(id: number): Promise<PolicyVersionRecord | null> {
      const r = await prisma.policyVersion.findUnique({ where: { id } });
      return r ? toRecord(r) : null;
    },

    async findByAgentEntry(agentEntryId: number): Promise<PolicyVersionRecord | null> {
      const r = await prisma.policyVersion.findFirst({ where: { agentEntryId }, orderBy: { id: "desc" } });
      return r ? toRecord(r) : null;
    },

    /** Newest first. */
    async list(o: PageOptions & { result?: ApplyResult } = {}): Promise<Page<PolicyVersionRecord>> {
      const { take, skip } = pageArgs(o, 200);
      const where = o.result ? { result: o.result } : {};
      const [rows, total] = await Promise.all([
        prisma.policyVersion.findMany({ where, orderBy: { id: "desc" }, take, skip }),
        prisma.policyVersion.count({ where }),
      ]);
      return { items: rows.map(toRecord), total, limit: take, offset: skip };
    },

    /** Makes this version the only last good one. */
    async markLastGood(id: number): Promise<PolicyVersionRecord> {
      const [, row] = await prisma.$transaction([
        prisma.policyVersion.updateMany({
          where: { isLastGood: true, id: { not: id } },
          data: { isLastGood: false },
        }),
        prisma.policyVersion.update({ where: { id }, data: { isLastGood: true } }),
      ]);
      return toRecord(row);
    },

    async lastGood(): Promise<PolicyVersionRecord | null> {
      const r = await prisma.policyVersion.findFirst({
        where: { isLastGood: true },
        orderBy: { id: "desc" },
      });
      return r ? toRecord(r) : null;
    },

    /** Keeps the newest `keep` versions and the last good one; returns how many went. */
    async prune(keep: number): Promise<number> {
      const cutoff = await prisma.policyVersion.findMany({
        orderBy: { id: "desc" },
        skip: Math.max(keep, 0),
        take: 1,
        select: { id: true },
      });
      if (!cutoff[0]) return 0;
      const r = await prisma.policyVersion.deleteMany({
        where: { id: { lte: cutoff[0].id }, isLastGood: false },
      });
      return r.count;
    },
  };
  return repo;
}

export type VersionsRepo = ReturnType<typeof versionsRepo>;
