// The audit log: who did what, to what, from where. Rows keep the username, so they outlive
// the user.

import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { InputJsonValue } from "../generated/sqlite/internal/prismaNamespace.ts";
import { actorFields, pageArgs, type Actor, type Page, type PageOptions } from "./util.ts";

export interface AuditEntry {
  id: number;
  userId: number | null;
  username: string | null;
  action: string;
  target: string | null;
  details: unknown;
  at: Date;
  ip: string | null;
}

export interface AuditInput {
  user?: Actor;
  /** e.g. "login", "policy.save", "policy.apply", "user.create". */
  action: string;
  target?: string | null;
  details?: unknown;
  ip?: string | null;
  at?: Date;
}

export interface AuditQuery extends PageOptions {
  userId?: number;
  username?: string;
  /** Exact action, or a prefix ending in "." ("policy." matches "policy.save"). */
  action?: string;
  from?: Date;
  to?: Date;
}

export function auditRepo(prisma: PrismaClient) {
  return {
    async write(e: AuditInput): Promise<AuditEntry> {
      const who = actorFields(e.user);
      const row = await prisma.auditLog.create({
        data: {
          userId: who.userId,
          username: who.username,
          action: e.action,
          target: e.target ?? null,
          ...(e.details !== undefined && e.details !== null ? { details: e.details as InputJsonValue } : {}),
          ip: e.ip ?? null,
          ...(e.at ? { at: e.at } : {}),
        },
      });
      return { ...row, details: row.details ?? null };
    },

    /** Newest first. */
    async list(q: AuditQuery = {}): Promise<Page<AuditEntry>> {
      const { take, skip } = pageArgs(q);
      const where = {
        ...(q.userId !== undefined ? { userId: q.userId } : {}),
        ...(q.username !== undefined ? { username: q.username } : {}),
        ...(q.action !== undefined
          ? q.action.endsWith(".")
            ? { action: { startsWith: q.action } }
            : { action: q.action }
          : {}),
        ...(q.from || q.to
          ? { at: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lt: q.to } : {}) } }
          : {}),
      };
      const [rows, total] = await Promise.all([
        prisma.auditLog.findMany({ where, orderBy: [{ at: "desc" }, { id: "desc" }], take, skip }),
        prisma.auditLog.count({ where }),
      ]);
      return {
        items: rows.map((r) => ({ ...r, details: r.details ?? null })),
        total,
        limit: take,
        offset: skip,
      };
    },

    async prune(olderThan: Date): Promise<number> {
      return (await prisma.auditLog.deleteMany({ where: { at: { lt: olderThan } } })).count;
    },
  };
}

export type AuditRepo = ReturnType<typeof auditRepo>;
