// Opening the database: SQLite by default (a file under the data directory, through
// better-sqlite3), PostgreSQL when DATABASE_URL (or opts.url) starts with "postgres". Each
// provider has its own generated Prisma client (same models, from one schema) and its own
// migrations, applied on open. The rest of the package sees one PrismaClient type.

import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { PrismaClient } from "./generated/sqlite/client.ts";
import { migratePostgres, migrateSqlite, migrationsDir, type Provider } from "./migrate.ts";

export type { PrismaClient };
export type DbProvider = Provider;

export interface CreateDbOptions {
  /** A postgres:// or postgresql:// URL, or a SQLite `file:` URL or path. Default: $DATABASE_URL. */
  url?: string;
  /** Where the SQLite file (sluice.db) goes. Default: $SLUICE_DATA, else /var/lib/sluice. */
  dataDir?: string;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** SQLite: how long a write waits for another process's lock before failing (default 15 s). */
  busyTimeoutMs?: number;
}

export interface DbHandle {
  prisma: PrismaClient;
  provider: DbProvider;
  /** The SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  /** Migrations applied by this open. */
  migrationsApplied: string[];
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = "/var/lib/sluice";
export const SQLITE_FILE = "sluice.db";

export type DbTarget =
  { provider: "sqlite"; file: string } | { provider: "postgres"; url: string; schema?: string };

/** Which database the options (and the environment) point at. */
export function resolveTarget(opts: CreateDbOptions = {}): DbTarget {
  const url = opts.url ?? (process.env.DATABASE_URL || undefined);
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const schema = new URL(url).searchParams.get("schema") ?? undefined;
    return { provider: "postgres", url, ...(schema ? { schema } : {}) };
  }
  if (url) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
    if (scheme && scheme.toLowerCase() !== "file")
      throw new Error(`unsupported database URL scheme "${scheme}:" (use postgres:// or a SQLite file)`);
    const path = url.replace(/^file:(\/\/)?/, "");
    if (!path || path === ":memory:")
      throw new Error("an in-memory SQLite database is not supported: give a file");
    return { provider: "sqlite", file: isAbsolute(path) ? path : resolve(path) };
  }
  const dir = opts.dataDir ?? (process.env.SLUICE_DATA || DEFAULT_DATA_DIR);
  return { provider: "sqlite", file: join(resolve(dir), SQLITE_FILE) };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/** Opens the database, applying pending migrations first. */
export async function openDatabase(opts: CreateDbOptions = {}): Promise<DbHandle> {
  const target = resolveTarget(opts);
  const migrate = opts.migrate ?? true;
  if (target.provider === "sqlite") {
    const dir = resolve(target.file, "..");
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    // the file holds password and session hashes: readable by its owner only
    if (!existsSync(target.file)) closeSync(openSync(target.file, "a", 0o600));
    const applied = migrate ? migrateSqlite(target.file, migrationsDir("sqlite")).applied : [];
    const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
      import("./generated/sqlite/client.ts"),
      import("@prisma/adapter-better-sqlite3"),
    ]);
    const prisma = new PrismaClient({
      adapter: new PrismaBetterSqlite3({ url: `file:${target.file}`, timeout: opts.busyTimeoutMs ?? 15_000 }),
    });
    return {
      prisma,
      provider: "sqlite",
      location: target.file,
      migrationsApplied: applied,
      close: () => prisma.$disconnect(),
    };
  }
  const applied = migrate
    ? (
        await migratePostgres(
          { connectionString: target.url },
          migrationsDir("postgres"),
          target.schema ? { schema: target.schema } : {},
        )
      ).applied
    : [];
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
    import("./generated/postgres/client.ts"),
    import("@prisma/adapter-pg"),
  ]);
  const client = new PrismaClient({
    adapter: new PrismaPg(
      { connectionString: target.url },
      target.schema ? { schema: target.schema } : undefined,
    ),
  });
  // Same models from the same schema, so the same API: the package types it as the SQLite client.
  const prisma = client as unknown as PrismaClient;
  return {
    prisma,
    provider: "postgres",
    location: redactUrl(target.url),
    migrationsApplied: applied,
    close: () => client.$disconnect(),
  };
}
