import { createHash, randomBytes } from "node:crypto";

export const sha256Hex = (s: string): string => createHash("sha256").update(s).digest("hex");

/** A URL-safe random token of `bytes` random bytes. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");

/** bigint (Prisma BigInt columns) → number; exact below 2^53. */
export const num = (v: bigint | number): number => (typeof v === "bigint" ? Number(v) : v);

/** A Prisma "unique constraint failed" error. */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";
}

/** A Prisma "record to update/delete not found" error. */
export function isNotFound(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2025";
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface PageOptions {
  limit?: number;
  offset?: number;
}

export function pageArgs(o: PageOptions = {}, max = 500): { take: number; skip: number } {
  const take = Math.min(Math.max(Math.trunc(o.limit ?? 50), 1), max);
  const skip = Math.max(Math.trunc(o.offset ?? 0), 0);
  return { take, skip };
}

/** Who did something: a user, or a name for system actors ("agent", "first boot"). */
export type Actor = { id: number; username: string } | string | null | undefined;

export function actorFields(a: Actor): { userId: number | null; username: string | null } {
  if (!a) return { userId: null, username: null };
  if (typeof a === "string") return { userId: null, username: a };
  return { userId: a.id, username: a.username };
}
