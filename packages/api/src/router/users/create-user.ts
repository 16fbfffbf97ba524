// Adds a user (admin or viewer).

import { z } from "zod";
import { plainText } from "@sluice/policy";
import { PASSWORD_MIN_LENGTH } from "@sluice/db";
import { adminProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";
import { publicUser, userError } from "./shared.ts";

export const createUserInput = z.object({
  username: plainText(64).trim().min(1, "choose a username"),
  password: z.string().min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`).max(1024),
  role: z.enum(["admin", "viewer"]),
});

export const createUser = adminProcedure.input(createUserInput).mutation(async ({ ctx, input }) => {
  const u = await ctx.deps.db.users.create(input).catch(userError);
  await audit(ctx, "user.create", u.username, { role: u.role });
  return publicUser(u);
});
