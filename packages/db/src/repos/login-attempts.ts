// Login attempts, for rate limiting: the dashboard records each attempt and refuses to check
// a password while there were too many recent failures from the IP or for the username.

import type { PrismaClient } from "../generated/sqlite/client.ts";

export const DEFAULT_FAILURE_WINDOW_MS = 15 * 60_000;

export function loginAttemptsRepo(prisma: PrismaClient) {
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

    /** Failed attempts in the window, from the IP and for the username (each counted alone). */
    async recentFailures(q: {
      ip?: string;
      username?: string;
      windowMs?: number;
      now?: Date;
    }): Promise<{ ip: number; username: number }> {
      const since = new Date((q.now ?? new Date()).getTime() - (q.windowMs ?? DEFAULT_FAILURE_WINDOW_MS));
      const [ip, username] = await Promise.all([
        q.ip === undefined
          ? 0
          : prisma.loginAttempt.count({ where: { ip: q.ip, ok: false, at: { gte: since } } }),
        q.username === undefined
          ? 0
          : prisma.loginAttempt.count({
              where: { username: q.username.trim().toLowerCase(), ok: false, at: { gte: since } },
            }),
      ]);
      return { ip, username };
    },

    /** The latest attempts (for an admin page). */
    latest: (limit = 50) =>
      prisma.loginAttempt.findMany({ orderBy: { at: "desc" }, take: Math.min(Math.max(limit, 1), 500) }),

    async prune(olderThan: Date): Promise<number> {
      return (await prisma.loginAttempt.deleteMany({ where: { at: { lt: olderThan } } })).count;
    },
  };
}

export type LoginAttemptsRepo = ReturnType<typeof loginAttemptsRepo>;
