// The dashboard's API: one router per area, each a table of its procedures. (The apply
// area is mounted as `deploy`: tRPC reserves `apply` as a router key.)

import { router } from "./trpc.ts";
import { agentRouter } from "./router/agent/router.ts";
import { applyRouter } from "./router/apply/router.ts";
import { auditRouter } from "./router/audit/router.ts";
import { authRouter } from "./router/auth/router.ts";
import { flowsRouter } from "./router/flows/router.ts";
import { devicesRouter } from "./router/devices/router.ts";
import { policyRouter } from "./router/policy/router.ts";
import { protocolsRouter } from "./router/protocols/router.ts";
import { settingsRouter } from "./router/settings/router.ts";
import { statsRouter } from "./router/stats/router.ts";
import { usersRouter } from "./router/users/router.ts";

export const appRouter = router({
  auth: authRouter,
  agent: agentRouter,
  stats: statsRouter,
  policy: policyRouter,
  deploy: applyRouter,
  protocols: protocolsRouter,
  flows: flowsRouter,
  devices: devicesRouter,
  settings: settingsRouter,
  users: usersRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;

/** Procedures anyone may call without a session (everything else needs one). */
export const PUBLIC_PROCEDURES = ["auth.getSession", "auth.login", "auth.setupAdmin"] as const;
