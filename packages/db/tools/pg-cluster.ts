// A throwaway PostgreSQL cluster for tests and for the migration tools: initdb into a temp
// dir, listening only on a unix socket in that dir (no TCP port to collide with), fsync off.
// Uses the server binaries of Debian's postgresql package (/usr/lib/postgresql/<v>/bin) or
// $SLUICE_PG_BIN. As root the server runs as the `postgres` user (initdb refuses root).

import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface PgConnection {
  host: string;
  port: number;
  user: string;
  database: string;
}

export interface PgCluster {
  dir: string;
  bin: string;
  socketDir: string;
  port: number;
  user: string;
  /** Discrete connection fields (use these, not a URL, with PrismaPg in the schema engine). */
  connection(database: string): PgConnection;
  /** A postgresql:// URL over the unix socket. */
  url(database: string): string;
  createDatabase(name: string): void;
  dropDatabase(name: string): void;
  /** Runs SQL through psql with ON_ERROR_STOP; throws with psql's output on failure. */
  psql(database: string, sql: string): string;
  /** The schema of a database as pg_dump prints it, without comments and volatile lines. */
  dumpSchema(database: string): string;
  stop(): void;
}

/** The directory of the PostgreSQL server binaries, or null when none is installed. */
export function findPgBin(): string | null {
  const env = process.env.SLUICE_PG_BIN;
  if (env) return existsSync(join(env, "initdb")) ? env : null;
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")) && existsSync(join(base, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : null;
}

/** Why the cluster cannot be started here, or null when it can. */
export function pgUnavailableReason(): string | null {
  const bin = findPgBin();
  if (!bin) return "PostgreSQL server binaries not found (apt-get install postgresql, or set SLUICE_PG_BIN)";
  if (process.getuid?.() === 0) {
    const r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    if (r.status !== 0) return "running as root but there is no `postgres` user to run the server as";
    if (!existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser")) return "runuser not found";
  }
  return null;
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { asServerUser?: boolean } = {}): string {
  const asRoot = process.getuid?.() === 0;
  const [c, a] =
    opts.asServerUser && asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited with ${r.status}:\n${String(r.stderr || r.stdout).trim()}`,
    );
  }
  return String(r.stdout);
}

const live = new Set<PgCluster>();
let exitHook = false;

/** Starts a cluster; throws when PostgreSQL is not available (check pgUnavailableReason() first). */
export function startPgCluster(): PgCluster {
  const why = pgUnavailableReason();
  if (why) throw new Error(why);
  const bin = findPgBin()!;
  const dir = mkdtempSync(join(tmpdir(), "sluice-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(run("id", ["-u", "postgres"]).trim());
    const gid = Number(run("id", ["-g", "postgres"]).trim());
    chownSync(dir, uid, gid);
  }
  const user = asRoot ? "postgres" : userInfo().username;
  const data = join(dir, "data");
  const port = 20000 + Math.floor(Math.random() * 40000);
  run(
    join(bin, "initdb"),
    ["-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
    { asServerUser: true, cwd: dir },
  );
  const serverOpts = `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off`;
  run(join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "log"), "-o", serverOpts, "-w", "-s", "start"], {
    asServerUser: true,
    cwd: dir,
  });

  const client = (name: string) => (existsSync(join(bin, name)) ? join(bin, name) : name);
  const connArgs = (db: string) => ["-h", dir, "-p", String(port), "-U", user, "-d", db];
  let stopped = false;
  const cluster: PgCluster = {
    dir,
    bin,
    socketDir: dir,
    port,
    user,
    connection: (database) => ({ host: dir, port, user, database }),
    url: (database) =>
      `postgresql://${encodeURIComponent(user)}@localhost/${encodeURIComponent(database)}?host=${encodeURIComponent(dir)}&port=${port}`,
    createDatabase(name) {
      cluster.psql("postgres", `CREATE DATABASE "${name}"`);
    },
    dropDatabase(name) {
      cluster.psql("postgres", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    psql(database, sql) {
      return run(client("psql"), [...connArgs(database), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], {
        input: sql,
      });
    },
    dumpSchema(database) {
      const out = run(client("pg_dump"), [
        ...connArgs(database),
        "--schema-only",
        "--no-owner",
        "--no-privileges",
      ]);
      return normalizeDump(out);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      live.delete(cluster);
      try {
        run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-s", "stop"], {
          asServerUser: true,
          cwd: dir,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  live.add(cluster);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const c of [...live]) {
        try {
          c.stop();
        } catch {
          /* best effort on exit */
        }
      }
    });
  }
  return cluster;
}

/** pg_dump output without comments, blank lines, SET lines and the random \restrict keys. */
export function normalizeDump(dump: string): string {
  return dump
    .split("\n")
    .filter(
      (l) =>
        l.trim() !== "" &&
        !l.startsWith("--") &&
        !l.startsWith("\\restrict") &&
        !l.startsWith("\\unrestrict") &&
        !l.startsWith("SET ") &&
        !l.startsWith("SELECT pg_catalog.set_config"),
    )
    .join("\n");
}
