// Test databases: a SQLite file in a temp dir, or a fresh database in a throwaway PostgreSQL
// cluster (Debian's postgresql package; the tests skip with the reason when it is missing).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type Db } from "../src/index.ts";
import { pgUnavailableReason, startPgCluster, type PgCluster } from "../tools/pg-cluster.ts";

export interface TestBackend {
  provider: "sqlite" | "postgres";
  /** Why this backend's tests are skipped, or false. */
  skip: string | false;
  setup(): Promise<void>;
  /** A new, empty, migrated database. */
  open(opts?: { pgSchema?: string }): Promise<Db>;
  /** Runs SQL on a database of the PostgreSQL cluster (postgres only). */
  psql?(database: string, sql: string): string;
  teardown(): Promise<void>;
}

export function sqliteBackend(): TestBackend {
  const dirs: string[] = [];
  const open: Db[] = [];
  return {
    provider: "sqlite",
    skip: false,
    async setup() {},
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "sluice-db-test-"));
      dirs.push(dir);
      const db = await createDb({ dataDir: dir });
      open.push(db);
      return db;
    },
    async teardown() {
      for (const db of open) await db.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): TestBackend {
  const why = pgUnavailableReason();
  let cluster: PgCluster | null = null;
  const open: Db[] = [];
  let n = 0;
  return {
    provider: "postgres",
    skip: why ? `PostgreSQL not available: ${why}` : false,
    async setup() {
      cluster = startPgCluster();
    },
    psql: (database, sql) => cluster!.psql(database, sql),
    async open(opts = {}) {
      if (!cluster) throw new Error("setup() first");
      const name = `sluice_test_${++n}`;
      cluster.createDatabase(name);
      const url = cluster.url(name) + (opts.pgSchema ? `&schema=${encodeURIComponent(opts.pgSchema)}` : "");
      const db = await createDb({ url });
      open.push(db);
      return db;
    },
    async teardown() {
      for (const db of open) await db.close();
      cluster?.stop();
    },
  };
}

/** Dates relative to a fixed instant, so the tests do not depend on the clock. */
export const T0 = new Date("2026-01-15T12:00:00.000Z");
export const at = (ms: number): Date => new Date(T0.getTime() + ms);
export const MIN = 60_000;
