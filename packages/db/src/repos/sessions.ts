// Login sessions. The browser holds a random token; the database holds only its sha256 (as
// the session id), so a copy of the database does not let anyone sign in. Each session also
// has a CSRF token for the dashboard's forms and mutations.

import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { PublicUser } from "./users.ts";
import { randomToken, sha256Hex } from "./util.ts";

export const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;
/** lastSeenAt is written at most this often per session (not on every request). */
export const TOUCH_INTERVAL_MS = 60_000;

export interface SessionInfo {
  /** sha256 of the token; safe to show and log. */
  id: string;
  userId: number;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  ip: string | null;
  userAgent: string | null;
  csrfToken: string;
}

export interface NewSession {
  /** Goes into the cookie; not stored anywhere else. */
  token: string;
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

export const sessionIdOf = (token: string): string => sha256Hex(token);

const userSelect = { id: true, username: true, role: true, createdAt: true, lastLoginAt: true } as const;

export function sessionsRepo(prisma: PrismaClient) {
  return {
    async create(
      userId: number,
      opts: { ttlMs?: number; ip?: string | null; userAgent?: string | null; now?: Date } = {},
    ): Promise<NewSession> {
      const now = opts.now ?? new Date();
      const token = randomToken(32);
      const id = sessionIdOf(token);
      const csrfToken = randomToken(32);
      const expiresAt = new Date(now.getTime() + (opts.ttlMs ?? DEFAULT_SESSION_TTL_MS));
      await prisma.session.create({
        data: {
          id,
          userId,
          createdAt: now,
          lastSeenAt: now,
          expiresAt,
          csrfToken,
          ip: opts.ip ?? null,
          userAgent: opts.userAgent?.slice(0, 500) ?? null,
        },
      });
      return { token, id, csrfToken, expiresAt };
    },

    /**
     * The session and its user for a cookie token, or null (unknown, expired, or idle longer
     * than idleTimeoutMs; expired ones are deleted). Records activity at most once a minute;
     * with slidingTtlMs the expiry moves to now + slidingTtlMs on that write.
     */
    async validate(
      token: string,
      opts: { now?: Date; idleTimeoutMs?: number; slidingTtlMs?: number } = {},
    ): Promise<{ session: SessionInfo; user: PublicUser } | null> {
      if (!token || token.length > 200) return null;
      const now = opts.now ?? new Date();
      const id = sessionIdOf(token);
      const found = await prisma.session.findUnique({
        where: { id },
        include: { user: { select: userSelect } },
      });
      if (!found) return null;
      const idle =
        opts.idleTimeoutMs !== undefined && now.getTime() - found.lastSeenAt.getTime() > opts.idleTimeoutMs;
      if (found.expiresAt.getTime() <= now.getTime() || idle) {
        await prisma.session.deleteMany({ where: { id } });
        return null;
      }
      const { user, ...session } = found;
      if (now.getTime() - found.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS) {
        const data: { lastSeenAt: Date; expiresAt?: Date } = { lastSeenAt: now };
        if (opts.slidingTtlMs !== undefined) data.expiresAt = new Date(now.getTime() + opts.slidingTtlMs);
        await prisma.session.updateMany({ where: { id }, data });
        Object.assign(session, data);
      }
      return { session, user };
    },

    /** Signs one session out (by cookie token). */
    async revoke(token: string): Promise<boolean> {
      const r = await prisma.session.deleteMany({ where: { id: sessionIdOf(token) } });
      return r.count > 0;
    },

    /** Signs one session out by its id (the sha256 shown in a sessions list). */
    async revokeById(id: string): Promise<boolean> {
      return (await prisma.session.deleteMany({ where: { id } })).count > 0;
    },

    /** Signs a user out everywhere, optionally keeping the current session. */
    async revokeAllForUser(userId: number, opts: { exceptToken?: string } = {}): Promise<number> {
      const r = await prisma.session.deleteMany({
        where: { userId, ...(opts.exceptToken ? { id: { not: sessionIdOf(opts.exceptToken) } } : {}) },
      });
      return r.count;
    },

    listForUser: (userId: number): Promise<SessionInfo[]> =>
      prisma.session.findMany({ where: { userId }, orderBy: { lastSeenAt: "desc" } }),

    /** Deletes expired sessions; returns how many. */
    async expire(now = new Date()): Promise<number> {
      return (await prisma.session.deleteMany({ where: { expiresAt: { lte: now } } })).count;
    },
  };
}

export type SessionsRepo = ReturnType<typeof sessionsRepo>;
