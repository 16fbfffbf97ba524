import { adminProcedure } from "../../trpc.ts";
import { publicUser } from "./shared.ts";

export const listUsers = adminProcedure.query(async ({ ctx }) => {
  return (await ctx.deps.db.users.list()).map(publicUser);
});
