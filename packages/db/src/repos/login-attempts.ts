// Login attempts, for rate limiting: the dashboard records each attempt before it checks the
// password and refuses to check it while there were too many recent failures from the
// client's address (for that username, or for any). The per-username count feeds alerts.

import type { PrismaClient } from "../generated/sqlite/client.ts";

export const DEFAULT_FAILURE_WINDOW_MS = 15 * 60_000;

export function loginAttemptsRepo(prisma: PrismaClient) {
  /**
   * Failed attempts in the window: from the IP, for the username, and for the username
   * from the IP (pair; 0 unless both are given).
   */
  async function recentFailures(q: {
    ip?: string | undefined;
    username?: string | undefined;
    windowMs?: number | undefined;
    now?: Date | undefined;
  }): Promise<{ ip: number; username: number; pair: number }> {
    const since = new Date((q.now ?? new Date()).getTime() - (q.windowMs ?? DEFAULT_FAILURE_WINDOW_MS));
    const username = q.username?.trim().toLowerCase().slice(0, 100);
    const [ip, user, pair] = await Promise.all([
      q.ip === undefined
        ? 0
        : prisma.loginAttempt.count({ where: { ip: q.ip.slice(0, 100), ok: false, at: { gte: since } } }),
      username === undefined
        ? 0
        : prisma.loginAttempt.count({ where: { username, ok: false, at: { gte: since } } }),
      q.ip === undefined || username === undefined
        ? 0
        : prisma.loginAttempt.count({
            where: { ip: q.ip.slice(0, 100), username, ok: false, at: { gte: since } },
          }),
    ]);
    return { ip, username: user, pair };
  }

  return {
    async record(a: { ip: string; username: string; ok: boolean; at?: Date }): Promise<void> {
      await prisma.loginAttempt.create({
        data: {
          ip: a.ip.slice(0, 100),
          username: a.username.trim().toLowerCase().slice(0, 100),
          ok: a.ok,
          at: a.at ?? new Date(),
        },
      });
    },

    /**
     * Starts an attempt: records it as failed FIRST, then counts the recent failures
     * (this one included). Of any number of concurrent attempts the last to be recorded
     * counts them all, so at most `limit` of them ever see a count ≤ `limit`: no batch or
     * burst gets more password checks than the limit. `succeeded` or `forget` settles it.
     */
    async begin(a: {
      ip: string;
      username: string;
      windowMs?: number;
      now?: Date;
    }): Promise<{ id: number; failures: { ip: number; username: number; pair: number } }> {
      const now = a.now ?? new Date();
      const row = await prisma.loginAttempt.create({
        data: {
          ip: a.ip.slice(0, 100),
          username: a.username.trim().toLowerCase().slice(0, 100),
          ok: false,
          at: now,
        },
        select: { id: true },
      });
      const failures = await recentFailures({ ip: a.ip, username: a.username, windowMs: a.windowMs, now });
      return { id: row.id, failures };
    },

    /** The attempt begun as `id` had the right password. */
    async succeeded(id: number): Promise<void> {
      await prisma.loginAttempt.updateMany({ where: { id }, data: { ok: true } });
    },

    /** The attempt begun as `id` was refused before any check: it does not count. */
    async forget(id: number): Promise<void> {
      await prisma.loginAttempt.deleteMany({ where: { id } });
    },

    recentFailures,

    /** The latest attempts (for an admin page). */
    latest: (limit = 50) =>
      prisma.loginAttempt.findMany({ orderBy: { at: "desc" }, take: Math.min(Math.max(limit, 1), 500) }),

    async prune(olderThan: Date): Promise<number> {
      return (await prisma.loginAttempt.deleteMany({ where: { at: { lt: olderThan } } })).count;
    },
  };
}

export type LoginAttemptsRepo = ReturnType<typeof loginAttemptsRepo>;
