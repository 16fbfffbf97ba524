// Everything the procedures need, built once per server process: configuration (from the
// environment), the database, the agent client and the stats hub. Tests build their own
// with a temporary database and the test agent (@sluice/agent/testing).

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createDb, type Db } from "@sluice/db";
import type { PatternSet } from "@sluice/classifier";
import { AgentService } from "./agent/service.ts";
import { StatsHub } from "./stats/hub.ts";
import { trustedProxiesFromEnv } from "./http/client-address.ts";
import { dataReady } from "./data-ready.ts";

export interface ApiConfig {
  /** The agent's control socket. */
  socket: string;
  /** Pattern directories for classifying uploaded captures (the agent's pattern set). */
  protocolDirs: string[];
  /** Origins besides the request's own host that may send mutations. */
  allowedOrigins: string[];
  /**
   * Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-For and X-Forwarded-Proto
   * are believed; nobody's by default.
   */
  trustedProxies: string[];
  /** Session lifetime, extended while in use. */
  sessionTtlMs: number;
  /** Sign out after this long without a request. */
  idleTimeoutMs: number;
  login: { maxFailuresPerIp: number; maxFailuresPerUser: number; windowMs: number };
  /** Largest capture accepted by the capture classifier (bytes). */
  captureMaxBytes: number;
}

export interface ApiDeps {
  config: ApiConfig;
  db: Db;
  agent: AgentService;
  stats: StatsHub;
  /** The pattern set of config.protocolDirs, loaded on first use. */
  /**
   * Sluice's pattern set, compiled at the first call. The classifier (and its native re2) is
   * loaded then too, not when the dashboard starts: only the capture classifier uses it.
   */
  patterns(): Promise<PatternSet>;
}

/** Where Sluice's own pattern set is when SLUICE_PROTOCOLS is not set (repo root or apps/web). */
export function defaultProtocolsDir(cwd = process.cwd()): string {
  for (const p of [resolve(cwd, "protocols"), resolve(cwd, "../../protocols")]) if (existsSync(p)) return p;
  return resolve(cwd, "protocols");
}

const int = (v: string | undefined, d: number) => {
  const n = Number(v);
  return v !== undefined && v !== "" && Number.isFinite(n) ? n : d;
};

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    socket: env.SLUICE_SOCKET || "/run/sluice/agent.sock",
    protocolDirs: (env.SLUICE_PROTOCOLS || defaultProtocolsDir()).split(":").filter(Boolean),
    allowedOrigins: (env.SLUICE_ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    trustedProxies: trustedProxiesFromEnv(env),
    sessionTtlMs: int(env.SLUICE_SESSION_HOURS, 12) * 3600_000,
    idleTimeoutMs: int(env.SLUICE_IDLE_MINUTES, 120) * 60_000,
    login: {
      maxFailuresPerIp: int(env.SLUICE_LOGIN_MAX_PER_IP, 20),
      maxFailuresPerUser: int(env.SLUICE_LOGIN_MAX_PER_USER, 5),
      windowMs: int(env.SLUICE_LOGIN_WINDOW_MINUTES, 15) * 60_000,
    },
    captureMaxBytes: int(env.SLUICE_CAPTURE_MAX_MB, 20) * 1024 * 1024,
  };
}

export function createDeps(db: Db, config: ApiConfig): ApiDeps {
  const agent = new AgentService(config.socket);
  const stats = new StatsHub(agent, db, {
    log: (msg, err) => console.error(`[sluice-web] ${msg}:`, (err as Error | undefined)?.message ?? ""),
  });
  let patterns: Promise<PatternSet> | null = null;
  return {
    config,
    db,
    agent,
    stats,
    patterns: () =>
      (patterns ??= import("@sluice/classifier")
        .then(({ loadPatternDirs }) => loadPatternDirs(config.protocolDirs))
        .catch((e: unknown) => {
          patterns = null; // a missing directory is tried again on the next call
          throw e;
        })),
  };
}

/**
 * Opens the database from the environment (SLUICE_DATA / DATABASE_URL; once SLUICE_DATA_READY
 * exists, when set) and builds the deps.
 */
export async function createDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<ApiDeps> {
  await dataReady(env);
  const db = await createDb();
  return createDeps(db, configFromEnv(env));
}
