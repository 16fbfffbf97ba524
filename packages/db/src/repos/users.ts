// Dashboard users: argon2id password hashes (@node-rs/argon2, OWASP parameters), usernames
// stored trimmed and lowercased (so "Admin" and "admin" are one user on both providers).

import { hash, parseOptions, verify } from "@node-rs/argon2";
import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { Role } from "../generated/sqlite/enums.ts";
import { isNotFound, isUniqueViolation } from "./util.ts";

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;
export const ROLES: readonly Role[] = ["admin", "viewer"];

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface PublicUser {
  id: number;
  username: string;
  role: Role;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export class UserInputError extends Error {
  readonly field: "username" | "password" | "role";
  constructor(field: "username" | "password" | "role", message: string) {
    super(message);
    this.name = "UserInputError";
    this.field = field;
  }
}

export class UserExistsError extends Error {
  constructor(username: string) {
    super(`user "${username}" already exists`);
    this.name = "UserExistsError";
  }
}

export function normalizeUsername(username: string): string {
  const u = username.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9_.@-]{0,63}$/.test(u))
    throw new UserInputError(
      "username",
      "a username is 1-64 letters, digits, _ . @ or -, starting with a letter or digit",
    );
  return u;
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH)
    throw new UserInputError("password", `a password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH)
    throw new UserInputError("password", `a password has at most ${PASSWORD_MAX_LENGTH} characters`);
}

function checkRole(role: string): asserts role is Role {
  if (!(ROLES as readonly string[]).includes(role))
    throw new UserInputError("role", `role must be one of ${ROLES.join(", ")}`);
}

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2);

const select = { id: true, username: true, role: true, createdAt: true, lastLoginAt: true } as const;

let dummyHash: Promise<string> | null = null;

export function usersRepo(prisma: PrismaClient) {
  return {
    async create(input: { username: string; password: string; role?: Role }): Promise<PublicUser> {
      const username = normalizeUsername(input.username);
      checkPassword(input.password);
      const role = input.role ?? "viewer";
      checkRole(role);
      const passwordHash = await hashPassword(input.password);
      try {
        return await prisma.user.create({ data: { username, passwordHash, role }, select });
      } catch (e) {
        if (isUniqueViolation(e)) throw new UserExistsError(username);
        throw e;
      }
    },

    /**
     * Checks a login. Returns the user (and records the login time) or null. Takes about as
     * long for an unknown username as for a wrong password. Rehashes weaker old hashes.
     */
    async verify(username: string, password: string): Promise<PublicUser | null> {
      let name: string;
      try {
        name = normalizeUsername(username);
      } catch {
        name = "";
      }
      const user = name ? await prisma.user.findUnique({ where: { username: name } }) : null;
      if (!user || password.length > PASSWORD_MAX_LENGTH) {
        dummyHash ??= hashPassword("not a real password, only for timing");
        await verify(await dummyHash, password.slice(0, PASSWORD_MAX_LENGTH)).catch(() => false);
        return null;
      }
      const ok = await verify(user.passwordHash, password).catch(() => false);
      if (!ok) return null;
      const data: { lastLoginAt: Date; passwordHash?: string } = { lastLoginAt: new Date() };
      try {
        const o = parseOptions(user.passwordHash);
        if (o.memoryCost < ARGON2.memoryCost || o.timeCost < ARGON2.timeCost)
          data.passwordHash = await hashPassword(password);
      } catch {
        data.passwordHash = await hashPassword(password);
      }
      return prisma.user.update({ where: { id: user.id }, data, select });
    },

    get: (id: number): Promise<PublicUser | null> => prisma.user.findUnique({ where: { id }, select }),

    async findByUsername(username: string): Promise<PublicUser | null> {
      try {
        return await prisma.user.findUnique({ where: { username: normalizeUsername(username) }, select });
      } catch (e) {
        if (e instanceof UserInputError) return null;
        throw e;
      }
    },

    count: (where: { role?: Role } = {}): Promise<number> => prisma.user.count({ where }),

    list: (): Promise<PublicUser[]> => prisma.user.findMany({ select, orderBy: { username: "asc" } }),

    /** Sets a new password; by default also signs the user out everywhere. */
    async setPassword(id: number, password: string, opts: { revokeSessions?: boolean } = {}): Promise<void> {
      checkPassword(password);
      const passwordHash = await hashPassword(password);
      await prisma.$transaction([
        prisma.user.update({ where: { id }, data: { passwordHash } }),
        ...(opts.revokeSessions === false ? [] : [prisma.session.deleteMany({ where: { userId: id } })]),
      ]);
    },

    async setRole(id: number, role: Role): Promise<PublicUser> {
      checkRole(role);
      return prisma.user.update({ where: { id }, data: { role }, select });
    },

    /** Deletes a user (their sessions go too; versions and audit rows keep the name). */
    async remove(id: number): Promise<boolean> {
      try {
        await prisma.user.delete({ where: { id } });
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
  };
}

export type UsersRepo = ReturnType<typeof usersRepo>;
