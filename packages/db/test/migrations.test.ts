// The checked-in migrations produce exactly the schema, for both providers, and the checks
// fail when a model changes without a migration. The runtime migrator writes the same
// history as Prisma's engine, so either can take over from the other.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { resolveTarget } from "../src/db.ts";
import { MigrationError, migratePostgres, migrateSqlite, readMigrations } from "../src/migrate.ts";
import { FILES, postgresSchemaFrom, schemaText } from "../tools/schemas.ts";
import { openEngine, pgFactory, sqliteFactory } from "../tools/engine.ts";
import { checkDerivedSchema, checkPostgres, checkSqlite, dumpAfter, fullSchemaSql } from "../tools/check.ts";
import { pgUnavailableReason, startPgCluster, type PgCluster } from "../tools/pg-cluster.ts";

/** The schema with one more column on a model, and no migration for it. */
const withNewField = (schema: string) => schema.replace(/(model User \{\n)/, "$1  nickname     String?\n");

const tmp = mkdtempSync(join(tmpdir(), "sluice-migrations-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("schema files", () => {
  it("schema.postgres.prisma is derived from schema.prisma", () => {
    assert.deepEqual(checkDerivedSchema(), { ok: true, detail: "" });
    const pg = schemaText("postgres");
    assert.match(pg, /provider = "postgresql"/);
    assert.match(pg, /output\s+= "\.\.\/src\/generated\/postgres"/);
    assert.equal(
      pg.replace(/^\/\/ GENERATED[^\n]*\n[^\n]*\n\n/, ""),
      schemaText("sqlite")
        .replace('provider = "sqlite"', 'provider = "postgresql"')
        .replace("generated/sqlite", "generated/postgres"),
    );
    assert.throws(() => postgresSchemaFrom("model X { id Int @id }"), /cannot find/);
  });

  it("each provider has its own migrations and lock file", () => {
    for (const [p, provider] of [
      ["sqlite", "sqlite"],
      ["postgres", "postgresql"],
    ] as const) {
      const dir = FILES[p].migrationsDir;
      assert.match(
        readFileSync(join(dir, "migration_lock.toml"), "utf8"),
        new RegExp(`provider = "${provider}"`),
      );
      assert.ok(readMigrations(dir).length >= 1);
    }
    assert.deepEqual(
      readMigrations(FILES.sqlite.migrationsDir).map((m) => m.name),
      readMigrations(FILES.postgres.migrationsDir).map((m) => m.name),
      "the same migration names for both providers",
    );
  });
});

describe("sqlite migrations", () => {
  it("the migrations folder produces exactly the schema (engine diff exit code 0)", async () => {
    const r = await checkSqlite();
    assert.equal(r.ok, true, r.detail);
  });

  it("a model change without a migration fails the check", async () => {
    const r = await checkSqlite(withNewField(schemaText("sqlite")));
    assert.equal(r.ok, false);
    assert.match(r.detail, /nickname/);
  });

  it("the runtime migrator builds the schema and a history the engine accepts", async () => {
    const file = join(tmp, "runtime.db");
    const first = migrateSqlite(file);
    assert.deepEqual(
      first.applied,
      readMigrations(FILES.sqlite.migrationsDir).map((m) => m.name),
    );
    assert.deepEqual(migrateSqlite(file).applied, [], "idempotent");
    const engine = await openEngine(sqliteFactory(`file:${file}`), {
      path: FILES.sqlite.schemaPath,
      content: schemaText("sqlite"),
    });
    try {
      const live = await engine.diff(engine.datasourceTarget(), engine.schemaTarget());
      assert.equal(live.exitCode, 0, live.sql);
      assert.deepEqual(
        await engine.applyMigrations(FILES.sqlite.migrationsDir),
        [],
        "nothing left for Prisma",
      );
    } finally {
      await engine.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      const rows = db.prepare(`SELECT * FROM "_prisma_migrations"`).all() as Record<string, unknown>[];
      assert.equal(rows[0]?.applied_steps_count, 1);
      assert.match(String(rows[0]?.finished_at), /^\d{4}-\d\d-\d\dT/);
    } finally {
      db.close();
    }
  });

  it("the runtime migrator continues a database Prisma's engine migrated", async () => {
    const file = join(tmp, "engine.db");
    const engine = await openEngine(sqliteFactory(`file:${file}`), {
      path: FILES.sqlite.schemaPath,
      content: schemaText("sqlite"),
    });
    try {
      assert.ok((await engine.applyMigrations(FILES.sqlite.migrationsDir)).length >= 1);
    } finally {
      await engine.close();
    }
    assert.deepEqual(migrateSqlite(file).applied, []);
  });

  it("refuses a migration edited after it was applied, and rolls back a failing one", () => {
    const dir = join(tmp, "migrations-copy");
    cpSync(FILES.sqlite.migrationsDir, dir, { recursive: true });
    const file = join(tmp, "edited.db");
    migrateSqlite(file, dir);
    const [m] = readMigrations(dir);
    appendFileSync(join(dir, m!.name, "migration.sql"), "\n-- edited\n");
    assert.throws(() => migrateSqlite(file, dir), MigrationError);
    writeFileSync(join(dir, m!.name, "migration.sql"), m!.sql);

    mkdirSync(join(dir, "99990101000000_broken"));
    writeFileSync(
      join(dir, "99990101000000_broken", "migration.sql"),
      `CREATE TABLE "half" ("id" INTEGER);\nALTER TABLE "nope" ADD COLUMN "x" TEXT;\n`,
    );
    assert.throws(() => migrateSqlite(file, dir), /99990101000000_broken.*no such table: nope/);
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'half'`).get(), undefined);
      const failed = db
        .prepare(`SELECT count(*) AS n FROM "_prisma_migrations" WHERE migration_name LIKE '%broken'`)
        .get() as { n: number };
      assert.equal(failed.n, 0, "no history row for the failed migration");
    } finally {
      db.close();
    }
  });
});

describe("sqlite table redefinitions", () => {
  it("keep the rows of tables that reference the redefined one (foreign keys off while migrating)", async () => {
    // a change SQLite cannot ALTER: Prisma's migration copies "users" into a new table, drops
    // the old one and renames; with foreign keys on, the drop would cascade to the sessions
    const changed = schemaText("sqlite").replace(
      "lastLoginAt  DateTime?",
      "lastLoginAt  DateTime        @default(now())",
    );
    assert.notEqual(changed, schemaText("sqlite"));
    const pending = await checkSqlite(changed);
    assert.equal(pending.ok, false);
    assert.match(pending.detail, /DROP TABLE "users"/);

    const dir = join(tmp, "migrations-redefine");
    cpSync(FILES.sqlite.migrationsDir, dir, { recursive: true });
    const file = join(tmp, "redefine.db");
    migrateSqlite(file, dir);
    const db = new Database(file);
    db.exec(
      `INSERT INTO "users" ("id", "username", "passwordHash", "role", "lastLoginAt") VALUES (1, 'a', 'x', 'admin', '2026-01-01T00:00:00.000+00:00')`,
    );
    db.exec(
      `INSERT INTO "sessions" ("id", "userId", "expiresAt", "csrfToken") VALUES ('s', 1, '2027-01-01T00:00:00.000+00:00', 'c')`,
    );
    db.close();

    mkdirSync(join(dir, "99990101000000_redefine"));
    writeFileSync(join(dir, "99990101000000_redefine", "migration.sql"), pending.detail);
    assert.deepEqual(migrateSqlite(file, dir).applied, ["99990101000000_redefine"]);
    const after = new Database(file, { readonly: true });
    try {
      assert.equal((after.prepare(`SELECT count(*) AS n FROM "sessions"`).get() as { n: number }).n, 1);
      assert.equal((after.prepare(`SELECT count(*) AS n FROM "users"`).get() as { n: number }).n, 1);
      assert.equal((after.pragma("foreign_key_check") as unknown[]).length, 0);
    } finally {
      after.close();
    }
    assert.equal((await checkSqlite(changed, dir)).ok, true);
  });
});

const pgSkip = pgUnavailableReason();
describe("postgres migrations", { skip: pgSkip ? `PostgreSQL not available: ${pgSkip}` : false }, () => {
  let cluster: PgCluster;
  before(() => {
    cluster = startPgCluster();
  });
  after(() => cluster?.stop());

  it("the migrations give the same pg_dump as the schema, and the engine diff is empty", async () => {
    const r = await checkPostgres(cluster);
    assert.equal(r.dumpsEqual, true, r.detail);
    assert.equal(r.engineOk, true, r.detail);
  });

  it("a model change without a migration fails the check", async () => {
    const r = await checkPostgres(cluster, withNewField(schemaText("postgres")));
    assert.equal(r.ok, false);
    assert.equal(r.dumpsEqual, false);
    assert.equal(r.engineOk, false);
    assert.match(r.detail, /nickname/);
  });

  it("the runtime migrator builds the same schema, with a history the engine accepts", async () => {
    const ddl = await fullSchemaSql("postgres", schemaText("postgres"), cluster);
    const expected = await dumpAfter(cluster, (db) => void cluster.psql(db, ddl));
    const db = "runtime_migrated";
    cluster.createDatabase(db);
    const first = await migratePostgres({ connectionString: cluster.url(db) });
    assert.deepEqual(
      first.applied,
      readMigrations(FILES.postgres.migrationsDir).map((m) => m.name),
    );
    assert.deepEqual((await migratePostgres({ connectionString: cluster.url(db) })).applied, []);
    const engine = await openEngine(pgFactory(cluster.connection(db)), {
      path: FILES.postgres.schemaPath,
      content: schemaText("postgres"),
    });
    try {
      assert.deepEqual(
        await engine.applyMigrations(FILES.postgres.migrationsDir),
        [],
        "nothing left for Prisma",
      );
      const live = await engine.diff(engine.datasourceTarget(), engine.schemaTarget());
      assert.equal(live.exitCode, 0, live.sql);
    } finally {
      await engine.close();
    }
    cluster.psql(db, `DROP TABLE "_prisma_migrations"`);
    assert.equal(cluster.dumpSchema(db), expected);
  });

  it("the runtime migrator continues a database Prisma's engine migrated", async () => {
    const db = "engine_migrated";
    cluster.createDatabase(db);
    const engine = await openEngine(pgFactory(cluster.connection(db)), {
      path: FILES.postgres.schemaPath,
      content: schemaText("postgres"),
    });
    try {
      assert.ok((await engine.applyMigrations(FILES.postgres.migrationsDir)).length >= 1);
    } finally {
      await engine.close();
    }
    assert.deepEqual((await migratePostgres({ connectionString: cluster.url(db) })).applied, []);
  });

  it("two processes migrating at once apply each migration once", async () => {
    const db = "concurrent";
    cluster.createDatabase(db);
    const url = cluster.url(db);
    const [a, b] = await Promise.all([
      migratePostgres({ connectionString: url }),
      migratePostgres({ connectionString: url }),
    ]);
    assert.equal(a.applied.length + b.applied.length, readMigrations(FILES.postgres.migrationsDir).length);
  });
});

describe("resolveTarget", () => {
  it("picks the provider and the SQLite file from the options and the environment", () => {
    const env = { DATABASE_URL: process.env.DATABASE_URL, SLUICE_DATA: process.env.SLUICE_DATA };
    try {
      delete process.env.DATABASE_URL;
      delete process.env.SLUICE_DATA;
      assert.deepEqual(resolveTarget(), { provider: "sqlite", file: "/var/lib/sluice/sluice.db" });
      process.env.SLUICE_DATA = "/srv/x";
      assert.deepEqual(resolveTarget(), { provider: "sqlite", file: "/srv/x/sluice.db" });
      assert.deepEqual(resolveTarget({ dataDir: "/d" }), { provider: "sqlite", file: "/d/sluice.db" });
      process.env.DATABASE_URL = "postgresql://u:p@db.example/sluice?schema=app";
      assert.deepEqual(resolveTarget(), {
        provider: "postgres",
        url: "postgresql://u:p@db.example/sluice?schema=app",
        schema: "app",
      });
      assert.deepEqual(resolveTarget({ url: "file:/tmp/a.db" }), { provider: "sqlite", file: "/tmp/a.db" });
      assert.deepEqual(resolveTarget({ url: "postgres://h/db" }), {
        provider: "postgres",
        url: "postgres://h/db",
      });
      assert.throws(() => resolveTarget({ url: "mysql://h/db" }), /unsupported/);
      assert.throws(() => resolveTarget({ url: ":memory:" }), /in-memory/);
    } finally {
      for (const [k, v] of Object.entries(env))
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
    }
  });
});
