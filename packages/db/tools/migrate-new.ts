// db:migrate:new <name>: writes the migration that takes each provider's migrations folder to
// the current schema, as Prisma's `migrate dev --create-only` would (same folder layout,
// migration_lock.toml), using the WASM schema engine: SQLite replays the migrations in an
// in-memory shadow DB, PostgreSQL in a throwaway cluster (Debian's postgresql package).

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FILES, PROVIDERS, schemaText, type Provider } from "./schemas.ts";
import { lockfileText, openEngine, pgFactory, sqliteFactory } from "./engine.ts";
import { pgUnavailableReason, startPgCluster, type PgCluster } from "./pg-cluster.ts";
import { generate, writePostgresSchema } from "./generate.ts";

/** The SQL still missing from a provider's migrations folder ("" when in sync). */
export async function pendingMigrationSql(provider: Provider, cluster?: PgCluster): Promise<string> {
  const files = FILES[provider];
  const factory =
    provider === "sqlite"
      ? sqliteFactory(":memory:")
      : (() => {
          if (!cluster) throw new Error("a PostgreSQL cluster is needed for the postgres migrations");
          const db = `scratch_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
          cluster.createDatabase(db);
          return pgFactory(cluster.connection(db));
        })();
  const engine = await openEngine(factory, { path: files.schemaPath, content: schemaText(provider) });
  try {
    const r = await engine.diff(engine.migrationsTarget(files.migrationsDir), engine.schemaTarget());
    return r.exitCode === 0 ? "" : r.sql;
  } finally {
    await engine.close();
  }
}

export function migrationDirName(name: string, at = new Date()): string {
  const ts = at.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${ts}_${name}`;
}

async function main(): Promise<number> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error("usage: npm run db:migrate:new -w @sluice/db -- <name>   (lowercase, digits, _)");
    return 2;
  }
  writePostgresSchema();
  const why = pgUnavailableReason();
  if (why) {
    console.error(`db:migrate:new needs PostgreSQL to write the postgres migration: ${why}`);
    return 1;
  }
  const cluster = startPgCluster();
  try {
    const dir = migrationDirName(name);
    let wrote = 0;
    for (const provider of PROVIDERS) {
      const sql = await pendingMigrationSql(provider, cluster);
      if (!sql.trim()) {
        console.log(`${provider}: already in sync with the schema`);
        continue;
      }
      const base = FILES[provider].migrationsDir;
      mkdirSync(join(base, dir), { recursive: true });
      writeFileSync(join(base, dir, "migration.sql"), sql);
      writeFileSync(join(base, "migration_lock.toml"), lockfileText(provider));
      console.log(`${provider}: wrote ${join(base, dir, "migration.sql")}`);
      wrote++;
    }
    if (wrote) await generate();
    return 0;
  } finally {
    cluster.stop();
  }
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
