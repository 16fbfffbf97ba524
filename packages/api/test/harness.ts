// Test harness: a real database (SQLite in a temp dir, through @sluice/db), the real agent on
// an in-memory kernel (@sluice/agent/testing) on a unix socket in the same dir, and "browsers" that keep cookies between calls and send the
// CSRF header the way the dashboard's client does. Each call builds a fresh context, like
// one HTTP request.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type Db } from "@sluice/db";
import { defaultPolicy } from "@sluice/policy";
import { TRPCError } from "@trpc/server";
import { appRouter, createCallerFactory, createContext, createDeps, configFromEnv } from "../src/index.ts";
import type { ApiConfig, ApiDeps, RequestMeta } from "../src/index.ts";
import { CSRF_COOKIE, SESSION_COOKIE } from "../src/auth/cookies.ts";
import { TestAgent, type TestAgentOptions } from "@sluice/agent/testing";

const createCaller = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof createCaller>;

export interface Harness {
  dir: string;
  db: Db;
  deps: ApiDeps;
  agent: TestAgent;
  browser(opts?: { ip?: string }): Browser;
  close(): Promise<void>;
}

export async function harness(
  config: Partial<ApiConfig> = {},
  agentOptions: Partial<Pick<TestAgentOptions, "leasesFile" | "capabilities">> = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-api-test-"));
  const socket = join(dir, "agent.sock");
  const db = await createDb({ url: `file:${join(dir, "sluice.db")}` });
  const agent = await TestAgent.start({
    socket,
    initialPolicy: defaultPolicy(),
    sampleMs: 0,
    ...agentOptions,
  });
  const deps = createDeps(db, { ...configFromEnv({}), socket, ...config });
  return {
    dir,
    db,
    deps,
    agent,
    browser: (o) => new Browser(deps, o?.ip),
    async close() {
      await deps.stats.stop();
      await agent.stop();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export class Browser {
  readonly jar = new Map<string, string>();
  readonly deps: ApiDeps;
  ip: string;
  origin: string | null = "http://sluice.test";
  constructor(deps: ApiDeps, ip = "192.0.2.1") {
    this.deps = deps;
    this.ip = ip;
  }

  private store(header: string): void {
    const [pair, ...attrs] = header.split(";");
    const i = pair!.indexOf("=");
    const name = pair!.slice(0, i);
    const value = decodeURIComponent(pair!.slice(i + 1));
    if (attrs.some((a) => /max-age=0/i.test(a.trim()))) this.jar.delete(name);
    else this.jar.set(name, value);
  }

  /** The Set-Cookie headers of the last call. */
  lastSetCookies: string[] = [];

  /** A caller for one request; `csrf: false` leaves the header out, a string sends that instead. */
  async api(opts: { csrf?: boolean | string; origin?: string | null } = {}): Promise<Caller> {
    const cookieCsrf = this.jar.get(CSRF_COOKIE);
    const header =
      opts.csrf === false ? null : typeof opts.csrf === "string" ? opts.csrf : (cookieCsrf ?? null);
    const req: RequestMeta = {
      ip: this.ip,
      userAgent: "node-test",
      origin: opts.origin === undefined ? this.origin : opts.origin,
      host: "sluice.test",
      secure: false,
      cookies: { session: this.jar.get(SESSION_COOKIE), csrf: cookieCsrf },
      csrfHeader: header,
    };
    this.lastSetCookies = [];
    const ctx = await createContext(this.deps, req, {
      setCookie: (c) => {
        this.lastSetCookies.push(c);
        this.store(c);
      },
    });
    return createCaller(ctx);
  }

  /** Gets the CSRF cookie (as the login page does), then signs in. */
  async signIn(username: string, password: string): Promise<void> {
    await (await this.api()).auth.getSession();
    await (await this.api()).auth.login({ username, password });
  }
}

/** Runs `fn` and returns the TRPCError it throws (fails if it does not throw one). */
export async function trpcError(fn: () => Promise<unknown>): Promise<TRPCError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof TRPCError) return e;
    throw e;
  }
  throw new Error("expected a TRPCError, the call succeeded");
}

/** Sets up the first admin ("admin" / "correct horse") in a fresh browser and returns it. */
export async function adminBrowser(h: Harness): Promise<Browser> {
  const b = h.browser();
  await (await b.api()).auth.getSession();
  await (await b.api()).auth.setupAdmin({ username: "admin", password: "correct horse" });
  return b;
}
