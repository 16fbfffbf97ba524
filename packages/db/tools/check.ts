// db:check: do the checked-in migrations produce exactly the schema?
//  - schema.postgres.prisma is what tools/generate.ts derives from schema.prisma;
//  - SQLite: the schema engine's diff from the migrations folder (replayed in an in-memory
//    shadow DB) to the schema is empty (exit code 0);
//  - PostgreSQL (throwaway cluster): the migrations applied one by one with psql and the full
//    DDL the engine generates from the schema give the same pg_dump; and the engine's own
//    diff from the migrations folder to the schema is empty.
// Exit code 0 when in sync, 2 when a migration is missing or stale, 1 on errors.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FILES, schemaText, type Provider } from "./schemas.ts";
import { openEngine, pgFactory, sqliteFactory, migrationList } from "./engine.ts";
import { pgUnavailableReason, startPgCluster, type PgCluster } from "./pg-cluster.ts";

export interface CheckResult {
  ok: boolean;
  /** What is missing: the SQL the engine would add, and for PostgreSQL the dump diff. */
  detail: string;
}

/** The derived PostgreSQL schema file matches schema.prisma. */
export function checkDerivedSchema(): CheckResult {
  const want = schemaText("postgres");
  let have = "";
  try {
    have = readFileSync(FILES.postgres.schemaPath, "utf8");
  } catch {
    /* missing */
  }
  return have === want
    ? { ok: true, detail: "" }
    : { ok: false, detail: "schema.postgres.prisma is stale: run `npm run db:generate -w @sluice/db`" };
}

async function engineDiff(provider: Provider, content: string, migrationsDir: string, cluster?: PgCluster) {
  let factory;
  if (provider === "sqlite") factory = sqliteFactory(":memory:");
  else {
    const db = `check_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    cluster!.createDatabase(db);
    factory = pgFactory(cluster!.connection(db));
  }
  const engine = await openEngine(factory, { path: FILES[provider].schemaPath, content });
  try {
    const r = await engine.diff(engine.migrationsTarget(migrationsDir), engine.schemaTarget());
    return { ok: r.exitCode === 0, detail: r.exitCode === 0 ? "" : r.sql };
  } finally {
    await engine.close();
  }
}

/** SQLite: migrations folder → schema is an empty diff. */
export function checkSqlite(
  content = schemaText("sqlite"),
  migrationsDir = FILES.sqlite.migrationsDir,
): Promise<CheckResult> {
  return engineDiff("sqlite", content, migrationsDir);
}

/** The full DDL for a schema (the engine's diff from empty), for a provider. */
export async function fullSchemaSql(
  provider: Provider,
  content: string,
  cluster?: PgCluster,
): Promise<string> {
  let factory;
  if (provider === "sqlite") factory = sqliteFactory(":memory:");
  else factory = pgFactory(cluster!.connection("postgres"));
  const engine = await openEngine(factory, { path: FILES[provider].schemaPath, content });
  try {
    return (await engine.diff({ tag: "empty" }, engine.schemaTarget())).sql;
  } finally {
    await engine.close();
  }
}

/** The pg_dump of a fresh database after `load` ran on it; the database is dropped after. */
export async function dumpAfter(
  cluster: PgCluster,
  load: (db: string) => void | Promise<void>,
): Promise<string> {
  const db = `dump_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  cluster.createDatabase(db);
  try {
    await load(db);
    return cluster.dumpSchema(db);
  } finally {
    cluster.dropDatabase(db);
  }
}

/** Applies each migration.sql in order with psql (ON_ERROR_STOP). */
export function psqlMigrations(
  cluster: PgCluster,
  db: string,
  migrationsDir = FILES.postgres.migrationsDir,
): void {
  for (const m of migrationList(migrationsDir).migrationDirectories) {
    const file = join(migrationsDir, m.path, "migration.sql");
    cluster.psql(db, readFileSync(file, "utf8"));
  }
}

/** A line diff (only the lines that differ), for messages. */
export function lineDiff(a: string, b: string): string {
  const la = a.split("\n");
  const lb = b.split("\n");
  const sa = new Set(la);
  const sb = new Set(lb);
  return [
    ...la.filter((l) => !sb.has(l)).map((l) => `- ${l}`),
    ...lb.filter((l) => !sa.has(l)).map((l) => `+ ${l}`),
  ].join("\n");
}

/** PostgreSQL: pg_dump(migrations via psql) = pg_dump(full DDL from the schema), and the engine diff is empty. */
export async function checkPostgres(
  cluster: PgCluster,
  content = schemaText("postgres"),
  migrationsDir = FILES.postgres.migrationsDir,
): Promise<CheckResult & { dumpsEqual: boolean; engineOk: boolean }> {
  const fromMigrations = await dumpAfter(cluster, (db) => psqlMigrations(cluster, db, migrationsDir));
  const ddl = await fullSchemaSql("postgres", content, cluster);
  const fromSchema = await dumpAfter(cluster, (db) => void cluster.psql(db, ddl));
  const dumpsEqual = fromMigrations === fromSchema;
  const engine = await engineDiff("postgres", content, migrationsDir, cluster);
  const detail = [
    dumpsEqual ? "" : `pg_dump differs (- migrations, + schema):\n${lineDiff(fromMigrations, fromSchema)}`,
    engine.ok ? "" : `schema engine diff from the migrations:\n${engine.detail}`,
  ]
    .filter(Boolean)
    .join("\n");
  return { ok: dumpsEqual && engine.ok, detail, dumpsEqual, engineOk: engine.ok };
}

async function main(): Promise<number> {
  let failed = false;
  const report = (what: string, r: CheckResult) => {
    console.log(`${what}: ${r.ok ? "in sync" : "OUT OF SYNC"}`);
    if (!r.ok) {
      failed = true;
      console.log(r.detail.trim());
    }
  };
  report("schema.postgres.prisma", checkDerivedSchema());
  report("sqlite migrations", await checkSqlite());
  const why = pgUnavailableReason();
  if (why) {
    console.log(`postgres migrations: not checked (${why})`);
    return failed ? 2 : process.env.CI ? 1 : 0;
  }
  const cluster = startPgCluster();
  try {
    report("postgres migrations", await checkPostgres(cluster));
  } finally {
    cluster.stop();
  }
  if (failed) console.log("\nto fix: npm run db:migrate:new -w @sluice/db -- <name>");
  return failed ? 2 : 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
