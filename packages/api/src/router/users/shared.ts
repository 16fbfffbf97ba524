import { UserExistsError, UserInputError } from "@sluice/db";
import { TRPCError } from "@trpc/server";
import { badRequest } from "../../trpc.ts";

/** The users repository's errors as field issues (or CONFLICT). */
export function userError(e: unknown): never {
  if (e instanceof UserInputError) throw badRequest(e.message, [{ path: e.field, message: e.message }]);
  if (e instanceof UserExistsError) throw new TRPCError({ code: "CONFLICT", message: e.message });
  throw e;
}

export const publicUser = (u: {
  id: number;
  username: string;
  role: string;
  createdAt: Date;
  lastLoginAt: Date | null;
}) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
});
