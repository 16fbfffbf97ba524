// First run: creates the first admin (only while there is no user at all), seeds the
// default settings and policy, and signs the new admin in.

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { plainText } from "@sluice/policy";
import { PASSWORD_MIN_LENGTH, UserInputError } from "@sluice/db";
import { publicProcedure, badRequest } from "../../trpc.ts";
import { audit, editablePolicy } from "../../helpers.ts";
import { startSession } from "./session-cookies.ts";

export const setupAdminInput = z.object({
  username: plainText(64).trim().min(1, "choose a username"),
  password: z.string().min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`).max(1024),
});

let inProgress: Promise<unknown> = Promise.resolve();

export const setupAdmin = publicProcedure.input(setupAdminInput).mutation(async ({ ctx, input }) => {
  // One setup at a time in this process, so two first visitors cannot both become admin.
  const run = inProgress.then(async () => {
    if ((await ctx.deps.db.users.count()) > 0)
      throw new TRPCError({ code: "FORBIDDEN", message: "the dashboard is already set up: sign in" });
    try {
      return await ctx.deps.db.users.create({ ...input, role: "admin" });
    } catch (e) {
      if (e instanceof UserInputError) throw badRequest(e.message, [{ path: e.field, message: e.message }]);
      throw e;
    }
  });
  inProgress = run.catch(() => undefined);
  const user = await run;
  await editablePolicy(ctx.deps);
  await startSession(ctx, user);
  await audit(ctx, "user.setup", user.username, { role: "admin" }, { id: user.id, username: user.username });
  return { id: user.id, username: user.username, role: user.role };
});
