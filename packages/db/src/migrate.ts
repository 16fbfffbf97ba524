// The runtime migrator: applies the checked-in Prisma-format migrations
// (prisma/migrations*/<name>/migration.sql) and records them in `_prisma_migrations` exactly
// as Prisma's `migrate deploy` does (same table, checksum = sha256 of migration.sql), so the
// Prisma schema engine sees the same history. It needs no Prisma engine at all, which matters
// offline: Prisma 7's CLI cannot run migrations without downloading its native engine.
//
// Unlike Prisma it runs each migration in a transaction with its history row, so a failed
// migration leaves the database as it was (and no "failed migration" row to resolve).

import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import type pg from "pg";

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export type Provider = "sqlite" | "postgres";

const PRISMA_DIR = fileURLToPath(new URL("../prisma/", import.meta.url));

/** Where a provider's migrations are ($SLUICE_DB_PRISMA_DIR replaces the prisma/ folder, e.g. in a bundle). */
export function migrationsDir(provider: Provider): string {
  const base = process.env.SLUICE_DB_PRISMA_DIR ?? PRISMA_DIR;
  return join(base, provider === "sqlite" ? "migrations" : "migrations-postgres");
}

export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new Error(`no migrations folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export class MigrationError extends Error {
  readonly migration: string;
  constructor(migration: string, message: string) {
    super(`migration ${migration}: ${message}`);
    this.name = "MigrationError";
    this.migration = migration;
  }
}

/** Whether the migration is already applied; throws when it was edited after being applied. */
function isApplied(m: Migration, rows: HistoryRow[]): boolean {
  const done = rows.find(
    (r) => r.migration_name === m.name && r.finished_at != null && r.rolled_back_at == null,
  );
  if (done && done.checksum !== m.checksum)
    throw new MigrationError(
      m.name,
      "was edited after it was applied (checksum differs); restore it and add a new migration instead",
    );
  if (
    !done &&
    rows.some((r) => r.migration_name === m.name && r.finished_at == null && r.rolled_back_at == null)
  )
    throw new MigrationError(m.name, "is recorded as failed in _prisma_migrations; resolve it by hand first");
  return !!done;
}

const prismaTime = (d = new Date()) => d.toISOString().replace("Z", "+00:00");

const SQLITE_HISTORY = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

/**
 * Applies pending migrations to a SQLite file (created if missing). Sets WAL mode. Each
 * migration runs with foreign keys off (Prisma's table redefinitions drop and recreate
 * tables, which with foreign keys on would cascade) inside one IMMEDIATE transaction, then
 * `foreign_key_check` must come back empty before it commits.
 */
export function migrateSqlite(file: string, dir = migrationsDir("sqlite")): { applied: string[] } {
  const migrations = readMigrations(dir);
  const db = new Database(file, { timeout: 15_000 });
  const applied: string[] = [];
  try {
    db.pragma("journal_mode = WAL");
    db.exec(SQLITE_HISTORY);
    for (const m of migrations) {
      const rows = () => db.prepare(`SELECT * FROM "_prisma_migrations"`).all() as HistoryRow[];
      if (isApplied(m, rows())) continue;
      db.pragma("foreign_keys = OFF");
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          // another process may have applied it while we waited for the lock
          if (isApplied(m, rows())) {
            db.exec("COMMIT");
            continue;
          }
          const started = prismaTime();
          try {
            db.exec(m.sql);
          } catch (e) {
            throw new MigrationError(m.name, (e as Error).message);
          }
          const broken = db.pragma("foreign_key_check") as unknown[];
          if (broken.length)
            throw new MigrationError(m.name, `leaves ${broken.length} foreign key violation(s)`);
          db.prepare(
            `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
          ).run(randomUUID(), m.checksum, prismaTime(), m.name, started);
          db.exec("COMMIT");
          applied.push(m.name);
        } catch (e) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw e;
        }
      } finally {
        db.pragma("foreign_keys = ON");
      }
    }
  } finally {
    db.close();
  }
  return { applied };
}

const PG_HISTORY = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Prisma's advisory lock key for migrations, so this and Prisma never migrate at once. */
const PG_LOCK = 72707369;

const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;

/**
 * Applies pending migrations to a PostgreSQL database, under Prisma's advisory lock. With
 * `schema` (a URL's ?schema=), the tables and the history go into that schema (created if
 * missing), as Prisma does.
 */
export async function migratePostgres(
  config: pg.ClientConfig,
  dir = migrationsDir("postgres"),
  opts: { schema?: string } = {},
): Promise<{ applied: string[] }> {
  const migrations = readMigrations(dir);
  // loaded here, not at start: the appliance (SQLite) never needs it
  const { default: pgModule } = await import("pg");
  const client = new pgModule.Client(config);
  await client.connect();
  const applied: string[] = [];
  try {
    if (opts.schema) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(opts.schema)}`);
    }
    await client.query("SELECT pg_advisory_lock($1)", [PG_LOCK]);
    try {
      await client.query(PG_HISTORY);
      const rows = (await client.query<HistoryRow>(`SELECT * FROM "_prisma_migrations"`)).rows;
      for (const m of migrations) {
        if (isApplied(m, rows)) continue;
        await client.query("BEGIN");
        try {
          const started = new Date();
          try {
            await client.query(m.sql);
          } catch (e) {
            throw new MigrationError(m.name, (e as Error).message);
          }
          await client.query(
            `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "started_at", "applied_steps_count") VALUES ($1, $2, now(), $3, $4, 1)`,
            [randomUUID(), m.checksum, m.name, started],
          );
          await client.query("COMMIT");
          applied.push(m.name);
        } catch (e) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw e;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PG_LOCK]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
  return { applied };
}
