// The dashboard's real server for a test file: `next build` (when stale), then `server.ts`
// (`next start` plus the socket address it stamps on each request, as on the appliance) on
// a free localhost port, talking to the test agent (the real agent on an in-memory kernel)
// over a unix socket in a temporary directory. One place for the spawn, its environment,
// its log and its teardown.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy } from "@sluice/policy";
import { TestAgent, type TestAgentOptions } from "@sluice/agent/testing";
import { ensureBuild, WEB_DIR } from "../../scripts/ensure-build.ts";

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface SpawnedServer {
  base: string;
  port: number;
  /** The server process (its RSS, for the memory tests). */
  pid: number;
  /** What the server printed so far. */
  log: () => string;
  /** SIGTERM to the server. */
  kill: () => void;
}

/**
 * Spawns server.ts on a free port for the agent on `socket`, its database under `dataDir`,
 * and waits until it answers (`timeoutMs`, default four minutes).
 */
export async function spawnServer(o: {
  socket: string;
  dataDir: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<SpawnedServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = "";
  const server: ChildProcess = spawn(
    process.execPath,
    [join(WEB_DIR, "server.ts"), "--port", String(port), "--host", "127.0.0.1"],
    {
      cwd: WEB_DIR,
      env: {
        ...process.env,
        SLUICE_SOCKET: o.socket,
        SLUICE_DATA: o.dataDir,
        DATABASE_URL: "",
        NEXT_TELEMETRY_DISABLED: "1",
        ...o.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  server.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const kill = () => void server.kill("SIGTERM");
  // generous: on a loaded machine `next start` can take minutes to answer its first request
  const end = Date.now() + (o.timeoutMs ?? 240_000);
  for (;;) {
    const up = await fetch(`${base}/login`, { redirect: "manual" }).then(
      (r) => r.status < 500,
      () => false,
    );
    if (up) break;
    if (server.exitCode !== null || Date.now() > end) {
      kill();
      throw new Error(`the dashboard server did not answer\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, port, pid: server.pid!, log: () => log, kill };
}

export interface ServerOptions {
  /** Names the temporary directory (sluice-NAME-…). */
  name: string;
  /** The test agent's sample interval (ms); 0: only when a test asks. */
  sampleMs?: number;
  /** Fills the data directory (its SQLite database) before the server starts. */
  seed?: (dataDir: string) => Promise<void>;
  /** More environment for the server (e.g. SLUICE_LOGIN_MAX_PER_IP). */
  env?: Record<string, string>;
  /** More test-agent options, given the temporary directory (e.g. a leases file written there). */
  agent?: (dir: string) => Omit<Partial<TestAgentOptions>, "socket">;
}

export interface DashboardServer {
  base: string;
  port: number;
  /** The temporary directory: agent.sock, data/ (the dashboard's database). */
  dir: string;
  agent: TestAgent;
  /** The server process (its RSS, for the memory tests). */
  pid: number;
  /** What the server printed so far. */
  log: () => string;
  stop: () => Promise<void>;
}

/** The test agent, then the server for it (spawnServer). */
export async function startServer(opts: ServerOptions): Promise<DashboardServer> {
  ensureBuild({ skipTypecheck: true, log: (s) => console.log(`# ${s}`) });
  const dir = mkdtempSync(join(tmpdir(), `sluice-${opts.name}-`));
  const socket = join(dir, "agent.sock");
  const agent = await TestAgent.start({
    socket,
    initialPolicy: defaultPolicy(),
    sampleMs: opts.sampleMs ?? 0,
    ...opts.agent?.(dir),
  });
  let server: SpawnedServer | null = null;
  const stop = async () => {
    server?.kill();
    server = null;
    await agent.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await opts.seed?.(join(dir, "data"));
    server = await spawnServer({
      socket,
      dataDir: join(dir, "data"),
      ...(opts.env ? { env: opts.env } : {}),
    });
    const { base, port, pid, log } = server;
    return { base, port, dir, agent, pid, log, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
