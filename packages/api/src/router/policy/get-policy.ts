// The policy being edited (classes, rules with their enabled flag, interfaces), and the
// protocol names the rules are checked against (for validate-as-you-type in the browser).

import { protectedProcedure } from "../../trpc.ts";
import { editablePolicy, protocolNames } from "../../helpers.ts";

export const getPolicy = protectedProcedure.query(async ({ ctx }) => {
  const [policy, names] = await Promise.all([editablePolicy(ctx.deps), protocolNames(ctx.deps)]);
  return { policy, protocolNames: names ? [...names].sort() : null };
});
