// A dashboard in headless Chromium for a test file: the real server with the test agent
// (helpers/server.ts), Debian's chromium driven by playwright-core; screenshots go to
// artifacts/screenshots/.

import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createDb } from "@sluice/db";
import type { TestAgent } from "@sluice/agent/testing";
import { WEB_DIR } from "../../scripts/ensure-build.ts";
import { startServer, type ServerOptions } from "./server.ts";

export const CHROMIUM = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"].find((p) => existsSync(p));
export const ROOT = resolve(WEB_DIR, "../..");
export const SHOTS = join(ROOT, "artifacts/screenshots");
export const skipWithoutChromium = CHROMIUM
  ? false
  : "Debian's chromium is not installed (apt-get install -y chromium): e2e skipped";

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

/**
 * Waits until React has hydrated the page (the Providers set html[data-hydrated]): a click,
 * a typed value or a picked file before that goes to server-rendered HTML with no handlers
 * and is lost (CI once failed so on a loaded machine).
 */
export async function waitHydrated(page: Page): Promise<void> {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

/** The page, its goto also waiting for hydration. */
export function hydratingGoto(page: Page): Page {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    const res = await goto(url, options);
    await waitHydrated(page);
    return res;
  };
  return page;
}

/** Debian's chromium, headless, through playwright-core. */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM!,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface DashboardOptions {
  /** Fills the dashboard's database first (default: an hour of roll-ups). */
  seed?: (dataDir: string) => Promise<void>;
  /** More environment for the server. */
  env?: Record<string, string>;
  /** More test-agent options (see startServer). */
  agent?: ServerOptions["agent"];
}

export async function startDashboard(opts: DashboardOptions = {}): Promise<Dashboard> {
  mkdirSync(SHOTS, { recursive: true });
  const srv = await startServer({
    name: "web",
    sampleMs: 1000,
    seed: opts.seed ?? seedHistory,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.agent ? { agent: opts.agent } : {}),
  });
  const { base, dir, agent } = srv;
  let browser: Browser | null = null;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    await srv.stop();
  };
  try {
    browser = await launchBrowser();
  } catch (e) {
    await stop();
    throw e;
  }
  const page = hydratingGoto(await browser.newPage({ viewport: { width: 1360, height: 900 } }));
  // generous: a loaded machine renders the heavier pages (Rules: the catalogue) slowly
  page.setDefaultTimeout(60_000);
  const shot = async (name: string, p: Page = page) => {
    await p.waitForTimeout(300);
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  return { base, dir, agent, browser, page, log: srv.log, shot, stop };
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
  await waitHydrated(page);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('input[name="password2"]').fill(password);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await page.waitForURL(`${base}/`);
}
