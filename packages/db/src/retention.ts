// Retention: how long per-minute accounting, login attempts, audit rows, expired sessions and
// old policy versions are kept. Defaults, then the "retention" setting, then the arguments.

import type { Repositories } from "./repositories.ts";
import type { RetentionSetting } from "./repos/settings.ts";

export const DEFAULT_RETENTION: RetentionSetting = {
  accountingDays: 30,
  loginAttemptDays: 30,
  auditDays: 365,
  versionsKeep: 500,
};

export interface RetentionResult {
  accounting: { classes: number; protocols: number; apps: number };
  loginAttempts: number;
  sessions: number;
  audit: number;
  versions: number;
}

const DAY_MS = 86_400_000;

export async function applyRetention(
  repos: Pick<Repositories, "accounting" | "loginAttempts" | "sessions" | "audit" | "versions" | "settings">,
  opts: Partial<RetentionSetting> & { now?: Date } = {},
): Promise<RetentionResult> {
  const { now = new Date(), ...given } = opts;
  const r: RetentionSetting = { ...DEFAULT_RETENTION, ...(await repos.settings.get("retention")), ...given };
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return {
    accounting: await repos.accounting.prune(before(r.accountingDays)),
    loginAttempts: await repos.loginAttempts.prune(before(r.loginAttemptDays)),
    sessions: await repos.sessions.expire(now),
    audit: r.auditDays === null ? 0 : await repos.audit.prune(before(r.auditDays)),
    versions: await repos.versions.prune(r.versionsKeep),
  };
}
