// Every repository over one Prisma client: what the dashboard uses instead of Prisma.

import type { PrismaClient } from "./generated/sqlite/client.ts";
import { accountingRepo } from "./repos/accounting.ts";
import { auditRepo } from "./repos/audit.ts";
import { loginAttemptsRepo } from "./repos/login-attempts.ts";
import { policyRepo } from "./repos/policy.ts";
import { protocolsRepo } from "./repos/protocols.ts";
import { sessionsRepo } from "./repos/sessions.ts";
import { settingsRepo } from "./repos/settings.ts";
import { usersRepo } from "./repos/users.ts";
import { versionsRepo } from "./repos/versions.ts";

export function repositories(prisma: PrismaClient) {
  return {
    users: usersRepo(prisma),
    sessions: sessionsRepo(prisma),
    loginAttempts: loginAttemptsRepo(prisma),
    settings: settingsRepo(prisma),
    policy: policyRepo(prisma),
    versions: versionsRepo(prisma),
    audit: auditRepo(prisma),
    protocols: protocolsRepo(prisma),
    accounting: accountingRepo(prisma),
  };
}

export type Repositories = ReturnType<typeof repositories>;
