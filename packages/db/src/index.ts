// @sluice/db: the dashboard's database, and the only package that imports Prisma.
//
//   const db = await createDb();            // SQLite under $SLUICE_DATA, or $DATABASE_URL
//   await seed(db);                         // default policy and settings on first run
//   const user = await db.users.verify(name, password);
//   const policy = await db.policy.read();  // a @sluice/policy PolicyInput for the agent

import { openDatabase, type CreateDbOptions, type DbHandle } from "./db.ts";
import { repositories, type Repositories } from "./repositories.ts";
import { applyRetention, type RetentionResult } from "./retention.ts";
import type { RetentionSetting } from "./repos/settings.ts";

export type Db = DbHandle &
  Repositories & {
    /** Prunes old rows (see applyRetention). */
    retention(opts?: Partial<RetentionSetting> & { now?: Date }): Promise<RetentionResult>;
    /**
     * Takes the write lock for a moment and changes nothing: throws (isBusyError) when
     * another process holds the database locked, before a caller starts work it must record.
     */
    writable(): Promise<void>;
  };

/** Opens the database (applying pending migrations) with every repository on it. */
export async function createDb(opts: CreateDbOptions = {}): Promise<Db> {
  const handle = await openDatabase(opts);
  const repos = repositories(handle.prisma);
  return {
    ...handle,
    ...repos,
    retention: (o) => applyRetention(repos, o),
    // an UPDATE that matches no row still needs the write lock
    writable: async () =>
      void (await handle.prisma.setting.updateMany({ where: { key: "" }, data: { key: "" } })),
  };
}

export { isBusyError } from "./busy.ts";
export { openDatabase, resolveTarget, DEFAULT_DATA_DIR, SQLITE_FILE } from "./db.ts";
export type { CreateDbOptions, DbHandle, DbProvider, DbTarget, PrismaClient } from "./db.ts";
export { migrateSqlite, migratePostgres, readMigrations, migrationsDir, MigrationError } from "./migrate.ts";
export type { Migration } from "./migrate.ts";
export { repositories } from "./repositories.ts";
export type { Repositories } from "./repositories.ts";
export { seed, defaultSettings, DEFAULT_AGENT_SOCKET } from "./seed.ts";
export type { SeedResult } from "./seed.ts";
export { applyRetention, DEFAULT_RETENTION } from "./retention.ts";
export type { RetentionResult } from "./retention.ts";

export {
  usersRepo,
  hashPassword,
  normalizeUsername,
  UserExistsError,
  UserInputError,
  PASSWORD_MIN_LENGTH,
  PASSWORD_MAX_LENGTH,
  ROLES,
} from "./repos/users.ts";
export type { PublicUser, UsersRepo } from "./repos/users.ts";
export { sessionsRepo, sessionIdOf, DEFAULT_SESSION_TTL_MS, TOUCH_INTERVAL_MS } from "./repos/sessions.ts";
export type { SessionInfo, NewSession, SessionsRepo } from "./repos/sessions.ts";
export { loginAttemptsRepo, DEFAULT_FAILURE_WINDOW_MS } from "./repos/login-attempts.ts";
export type { LoginAttemptsRepo } from "./repos/login-attempts.ts";
export { settingsRepo } from "./repos/settings.ts";
export type {
  SettingsRepo,
  KnownSettings,
  SettingKey,
  SettingValue,
  InterfaceSetting,
  RetentionSetting,
} from "./repos/settings.ts";
export { policyRepo, toAgentPolicy, PolicyValidationError, POLICY_SETTING_KEYS } from "./repos/policy.ts";
export type {
  PolicyRepo,
  EditablePolicy,
  EditablePolicyInput,
  EditableRule,
  EditableRuleInput,
  SavePolicyOptions,
} from "./repos/policy.ts";
export { versionsRepo, APPLY_RESULTS } from "./repos/versions.ts";
export type {
  VersionsRepo,
  PolicyVersionRecord,
  RecordVersionInput,
  RenderedScripts,
} from "./repos/versions.ts";
export { auditRepo } from "./repos/audit.ts";
export type { AuditRepo, AuditEntry, AuditInput, AuditQuery } from "./repos/audit.ts";
export { protocolsRepo, AgentProtocolSchema, AgentCatalogueSchema } from "./repos/protocols.ts";
export type { ProtocolsRepo, ProtocolInfo, AgentProtocol } from "./repos/protocols.ts";
export { accountingRepo, rollUp, floorMinute, MINUTE_MS } from "./repos/accounting.ts";
export type {
  AccountingRepo,
  ClassMinuteRow,
  ProtocolMinuteRow,
  AppMinuteRow,
  SampleLike,
  RangeQuery,
  ClassPoint,
  ProtocolPoint,
  ClassTotal,
  ProtocolTotal,
  AppPoint,
  AppTotal,
  CategoryTotal,
} from "./repos/accounting.ts";
export type { Page, PageOptions, Actor } from "./repos/util.ts";

// The Prisma model types and enums (the same for both providers).
export type {
  User,
  Session,
  LoginAttempt,
  Setting,
  PolicyClass as PolicyClassRow,
  PolicyRule as PolicyRuleRow,
  Protocol,
  PolicyVersion,
  AuditLog,
  ClassMinute,
  ProtocolMinute,
  AppMinute,
} from "./generated/sqlite/client.ts";
export { Role, Direction, LeafKind, ApplyResult } from "./generated/sqlite/enums.ts";
