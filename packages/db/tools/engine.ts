// Prisma's schema engine as WebAssembly (@prisma/schema-engine-wasm), driven directly with a
// driver adapter: the Prisma 7 CLI only runs the native engine, which cannot be downloaded
// here. An internal API, so the package version is pinned. Used by the dev tools
// (migrate-new, check) and the tests; the runtime migrator (src/migrate.ts) does not need it.

import { readdirSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import pg from "pg";
import * as se from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { DiffTarget, MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Provider } from "./schemas.ts";
import type { PgConnection } from "./pg-cluster.ts";

// (lib es2024 has no WebAssembly types; this is the part used here)
interface Wasm {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: object } }>;
}
const WASM = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

let loaded: Promise<void> | null = null;

function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const bytes = readFileSync(join(dir, "schema_engine_bg.wasm"));
    const { instance } = await WASM.instantiate(bytes, { "./schema_engine_bg.js": se });
    const exports = instance.exports as { __wbindgen_start?: () => void };
    se.__wbg_set_wasm(exports);
    exports.__wbindgen_start?.();
  })();
  return loaded;
}

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** An adapter factory for a SQLite file (or ":memory:"), with an in-memory shadow DB. */
export function sqliteFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const base = new PrismaBetterSqlite3({ url }, { shadowDatabaseUrl: ":memory:" });
  return {
    provider: base.provider,
    adapterName: base.adapterName,
    connect: () => base.connect(),
    // The engine replays whole migration scripts on the shadow DB with executeRaw (no
    // parameters), which better-sqlite3 refuses ("more than one statement"): send those
    // to executeScript.
    async connectToShadowDb() {
      const adapter = await base.connectToShadowDb();
      const raw = adapter.executeRaw.bind(adapter);
      adapter.executeRaw = async (q) => {
        if (q.args.length === 0) {
          await adapter.executeScript(q.sql);
          return 0;
        }
        return raw(q);
      };
      return adapter;
    },
  };
}

/** Reads pg's `"char"` columns (OID 18, e.g. in pg_catalog) as text: PrismaPg rejects them. */
function patchCharColumns(pool: pg.Pool): pg.Pool {
  const fix = (r: pg.QueryResult | undefined) => {
    for (const f of r?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
    return r;
  };
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      // pg.Pool calls client.query(config, values, callback)
      const cb = args.at(-1);
      if (typeof cb === "function")
        return query(...args.slice(0, -1), (err: unknown, r: pg.QueryResult) => cb(err, fix(r)));
      const out = query(...args);
      return out instanceof Promise ? out.then(fix) : out;
    };
  });
  return pool;
}

/**
 * An adapter factory for PostgreSQL from discrete connection fields (never a URL: with a URL
 * PrismaPg's shadow pool connects to the main database). Its shadow DB is a scratch database
 * on the same server that is dropped (WITH (FORCE)) after its pool is closed; PrismaPg's own
 * drops it while the pool is still open, which fails and leaves it behind.
 */
export function pgFactory(conn: PgConnection & { password?: string }): SqlMigrationAwareDriverAdapterFactory {
  const config = { host: conn.host, port: conn.port, user: conn.user, password: conn.password };
  const adapterFor = async (database: string, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> => {
    const pool = patchCharColumns(new pg.Pool({ ...config, database, max: 4 }));
    const adapter = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await onDispose?.();
    };
    return adapter;
  };
  const admin = async (sql: string) => {
    const c = new pg.Client({ ...config, database: conn.database });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: () => adapterFor(conn.database),
    async connectToShadowDb() {
      const name = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID().replaceAll("-", "")}`;
      await admin(`CREATE DATABASE "${name}"`);
      return adapterFor(name, () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export interface Engine {
  raw: SchemaEngine;
  /** `diff` with --script and --exit-code: exitCode 0 = no difference, 2 = `sql` is due. */
  diff(from: DiffTarget, to: DiffTarget): Promise<{ exitCode: number; sql: string }>;
  /** Applies the folder's pending migrations (Prisma's `migrate deploy`). */
  applyMigrations(migrationsDir: string): Promise<string[]>;
  schemaTarget(): DiffTarget;
  datasourceTarget(): DiffTarget;
  migrationsTarget(migrationsDir: string): DiffTarget;
  close(): Promise<void>;
}

/** Opens the engine on a database (through the adapter factory) with a schema text. */
export async function openEngine(
  factory: SqlMigrationAwareDriverAdapterFactory,
  schema: { path: string; content: string },
): Promise<Engine> {
  await loadWasm();
  const logs: string[] = [];
  // the engine does not dispose the connections it opens: track them and close them in close()
  const open = new Set<SqlDriverAdapter>();
  const track = async (p: Promise<SqlDriverAdapter>) => {
    const a = await p;
    open.add(a);
    const dispose = a.dispose.bind(a);
    a.dispose = async () => {
      if (!open.delete(a)) return;
      await dispose();
    };
    return a;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: () => track(factory.connect()),
    connectToShadowDb: () => track(factory.connectToShadowDb()),
  };
  const raw = await se.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    (line: string) => logs.push(line),
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  const files = [{ path: schema.path, content: schema.content }];
  const wrap = async <T>(what: string, p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      const msg = e instanceof Error ? e.message : JSON.stringify(e);
      throw new Error(
        `schema engine ${what} failed: ${msg}${logs.length ? `\n${logs.slice(-5).join("\n")}` : ""}`,
      );
    }
  };
  return {
    raw,
    schemaTarget: () => ({ tag: "schemaDatamodel", files }),
    datasourceTarget: () => ({ tag: "schemaDatasource", files, configDir: dirname(schema.path) }),
    migrationsTarget: (dir) => {
      const list = migrationList(dir);
      // the engine needs migration_lock.toml to read a folder; an empty folder is "empty"
      return list.migrationDirectories.length ? { tag: "migrations", ...list } : { tag: "empty" };
    },
    async diff(from, to) {
      const r = await wrap("diff", raw.diff({ from, to, script: true, exitCode: true, filters: NO_FILTERS }));
      return { exitCode: r.exitCode, sql: r.stdout ?? "" };
    },
    async applyMigrations(dir) {
      const r = await wrap(
        "applyMigrations",
        raw.applyMigrations({ migrationsList: migrationList(dir), filters: NO_FILTERS }),
      );
      return r.appliedMigrationNames;
    },
    async close() {
      raw.free();
      for (const a of [...open]) await a.dispose();
    },
  };
}

/** The engine's view of a migrations folder (directories sorted by name). */
export function migrationList(baseDir: string): MigrationList {
  const lockPath = join(baseDir, "migration_lock.toml");
  const dirs = existsSync(baseDir)
    ? readdirSync(baseDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(baseDir, d.name, "migration.sql")))
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir,
    lockfile: {
      path: "migration_lock.toml",
      content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null,
    },
    shadowDbInitScript: "",
    migrationDirectories: dirs.map((name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok", value: readFileSync(join(baseDir, name, "migration.sql"), "utf8") },
      },
    })),
  };
}

export function lockfileText(provider: Provider): string {
  return (
    "# Please do not edit this file manually\n" +
    "# It should be added in your version-control system (e.g., Git)\n" +
    `provider = "${provider === "sqlite" ? "sqlite" : "postgresql"}"\n`
  );
}
