// A dashboard in headless Chromium for a test file: `next build` (when stale) + `next start`
// on a free localhost port, with the test agent (the real agent on an in-memory kernel) on a unix socket in a temporary directory.
// Debian's chromium driven by playwright-core; screenshots go to artifacts/screenshots/.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createDb } from "@sluice/db";
import { defaultPolicy } from "@sluice/policy";
import { TestAgent } from "@sluice/agent/testing";
import { ensureBuild, WEB_DIR } from "../../scripts/ensure-build.ts";

export const CHROMIUM = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"].find((p) => existsSync(p));
export const ROOT = resolve(WEB_DIR, "../..");
export const SHOTS = join(ROOT, "artifacts/screenshots");
export const skipWithoutChromium = CHROMIUM
  ? false
  : "Debian's chromium is not installed (apt-get install -y chromium): e2e skipped";

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** An hour of per-minute class and protocol roll-ups, so the "last hours" charts draw. */
async function seedHistory(dataDir: string): Promise<void> {
  const db = await createDb({ url: `file:${join(dataDir, "sluice.db")}` });
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const classes = [];
  const protocols = [];
  for (let m = 60; m >= 1; m--) {
    const minute = new Date(now - m * 60_000);
    for (const [i, name] of ["interactive", "web", "bulk", "p2p", "default"].entries())
      for (const direction of ["upload", "download"] as const) {
        const rate = 1e6 * (1 + i) * (1.2 + Math.sin(m / 9 + i));
        classes.push({
          minute,
          direction,
          className: name,
          bytes: (rate * 60) / 8,
          packets: rate / 100,
          drops: 0,
          maxRateBps: rate * 1.2,
          avgRateBps: rate,
        });
      }
    for (const [i, protocol] of ["ssl", "http", "dns"].entries())
      protocols.push({ minute, protocol, bytes: (2e6 * 60) / 8 / (i + 1), connections: 3 });
  }
  await db.accounting.insert({ classes, protocols, apps: [] });
  await db.close();
}

export interface Dashboard {
  base: string;
  dir: string;
  agent: TestAgent;
  browser: Browser;
  page: Page;
  log: () => string;
  shot: (name: string, p?: Page) => Promise<void>;
  stop: () => Promise<void>;
}

export async function startDashboard(): Promise<Dashboard> {
  mkdirSync(SHOTS, { recursive: true });
  ensureBuild({ skipTypecheck: true, log: (s) => console.log(`# ${s}`) });
  const dir = mkdtempSync(join(tmpdir(), "sluice-web-"));
  const socket = join(dir, "agent.sock");
  const agent = await TestAgent.start({ socket, initialPolicy: defaultPolicy(), sampleMs: 1000 });
  await seedHistory(join(dir, "data"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = "";
  let server: ChildProcess | null = spawn(
    join(ROOT, "node_modules/.bin/next"),
    ["start", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: WEB_DIR,
      env: {
        ...process.env,
        SLUICE_SOCKET: socket,
        SLUICE_DATA: join(dir, "data"),
        DATABASE_URL: "",
        NEXT_TELEMETRY_DISABLED: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  server.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  let browser: Browser | null = null;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    server?.kill("SIGTERM");
    server = null;
    await agent.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const end = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`${base}/login`, { redirect: "manual" }).then(
        (r) => r.status < 500,
        () => false,
      );
      if (up) break;
      if (Date.now() > end) throw new Error(`next start did not answer\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"],
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(15_000);
  const shot = async (name: string, p: Page = page) => {
    await p.waitForTimeout(300);
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  return { base, dir, agent, browser, page, log: () => log, shot, stop };
}

/** First-run setup: creates the admin and signs in. */
export async function createAdmin(
  d: Dashboard,
  username = "admin",
  password = "correct horse",
): Promise<void> {
  const { page, base } = d;
  await page.goto(`${base}/`);
  await page.waitForURL(/\/setup$/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('input[name="password2"]').fill(password);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await page.waitForURL(`${base}/`);
}
