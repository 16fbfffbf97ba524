// The dashboard against the real agent in the lab (root, Debian's chromium): sign up, lower
// the download "web" class to 4 Mbit/s in the Classes page, Apply, and watch the class's
// live rate — the numbers the Overview graph plots — follow the new limit under a
// saturating download; then send an application (YouTube, recognised by its TLS SNI) to
// another class in the Rules page, Apply, and watch its live connection move there.
// Screenshots go to artifacts/screenshots/lab-*.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ensureBuild } from "../scripts/ensure-build.ts";
import { LAB, LabAgent, killInNs, labUp, labDown, execInNs } from "@sluice/lab";
import { CHROMIUM, ROOT, SHOTS, hydratingGoto, launchBrowser, waitHydrated } from "./helpers/browser.ts";
import { spawnServer, type SpawnedServer } from "./helpers/server.ts";

const skip =
  process.getuid?.() !== 0
    ? "needs root (the lab's network namespaces)"
    : !CHROMIUM
      ? "Debian's chromium is not installed: lab e2e skipped"
      : false;

let dir = "";
const agent = new LabAgent(undefined, ["--initial-policy", join(ROOT, "deploy/lab-policy.json")]);
let web: SpawnedServer | null = null;
let browser: Browser | null = null;
let page: Page;
let base = "";

interface Live {
  samples: { t: number; classes: { direction: string; name: string; rateBps: number }[] }[];
}

/** The download "web" class's rate over the last `n` live samples, as the Overview gets it. */
async function webRate(n: number): Promise<number[]> {
  return classRate("web", n);
}

/** A download class's rate over the last `n` live samples. */
async function classRate(name: string, n: number): Promise<number[]> {
  const r = await page.request.get(
    `${base}/api/trpc/stats.getLive?input=${encodeURIComponent(JSON.stringify({ since: 0 }))}`,
  );
  assert.equal(r.status(), 200);
  const live = ((await r.json()) as { result: { data: Live } }).result.data;
  return live.samples
    .slice(-n)
    .map((s) => s.classes.find((c) => c.direction === "download" && c.name === name)?.rateBps ?? 0);
}

const mbit = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length / 1e6;

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  ensureBuild({ skipTypecheck: true, log: (s) => console.log(`# ${s}`) });
  dir = mkdtempSync(join(tmpdir(), "sluice-lab-e2e-"));
  await labUp({ traffic: false, greedy: true });
  await agent.start();
  web = await spawnServer({ socket: agent.socket, dataDir: join(dir, "web") });
  base = web.base;
  browser = await launchBrowser();
  page = hydratingGoto(await browser.newPage({ viewport: { width: 1360, height: 900 } }));
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  web?.kill();
  await agent.kill("SIGTERM");
  if (!skip) await labDown();
});

test(
  "in the lab: change a class limit in the dashboard, Apply, and the class's live rate follows it",
  { skip },
  async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/setup$/);
    await waitHydrated(page);
    await page.locator('input[name="username"]').fill("admin");
    await page.locator('input[name="password"]').fill("lab password");
    await page.locator('input[name="password2"]').fill("lab password");
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await page.waitForURL(`${base}/`);
    // The agent's real capabilities on this kernel, fallbacks named.
    await page.getByTestId("capabilities").waitFor();

    // A saturating HTTP download (http → the "web" class) from a LAN client, long enough for
    // the page steps on a loaded machine; ended below once measured.
    const download = execInNs(
      LAB.ns.lan,
      ["curl", "-s", "-o", "/dev/null", "--max-time", "300", `http://${LAB.v4.server}/bulk?mb=1000`],
      { allowFail: true, timeoutMs: 310_000 },
    );
    await page.waitForTimeout(6000);
    const before = mbit(await webRate(3));
    console.log(`web class before: ${before.toFixed(2)} Mbit/s (ceil 20)`);
    assert.ok(
      before > 8,
      `the download should borrow well above 4 Mbit/s before the change, got ${before.toFixed(2)}`,
    );

    await page.goto(`${base}/classes`);
    await page
      .getByTestId("direction")
      .getByText(/^Download/)
      .click();
    await page.getByTestId("class-download-web-rate").fill("3mbit");
    await page.getByTestId("class-download-web-ceil").fill("4mbit");
    await page.getByTestId("save").click();
    await page.getByTestId("save-status").getByText(/Saved/).waitFor();
    await page.screenshot({ path: join(SHOTS, "lab-classes.png"), fullPage: true });

    await page.goto(`${base}/apply`);
    await page
      .getByTestId("policy-changes")
      .getByText(/download class "web": rate 7Mbit → 3Mbit, ceil 20Mbit → 4Mbit/)
      .waitFor();
    await page.getByTestId("apply-button").click();
    await page
      .getByTestId("action-ok")
      .getByText(/Applied as entry/)
      .waitFor();

    await page.goto(`${base}/`);
    await page.waitForTimeout(8000);
    const afterRates = await webRate(4);
    const after = mbit(afterRates);
    console.log(
      `web class after: ${after.toFixed(2)} Mbit/s (ceil 4); samples ${afterRates.map((r) => (r / 1e6).toFixed(2)).join(", ")}`,
    );
    await page.screenshot({ path: join(SHOTS, "lab-overview.png"), fullPage: true });
    assert.ok(
      after >= 3.6 && after <= 4.4,
      `the web class should carry 4 ± 10% Mbit/s after the apply, got ${after.toFixed(2)}`,
    );
    killInNs(LAB.ns.lan, "curl");
    await download;
  },
);

test(
  "in the lab: send an application to a class in the Rules page, Apply, and its live connection moves",
  { skip },
  async () => {
    // A saturating TLS download that says "www.youtube.com" in its SNI (the lab server
    // answers for any name): the app youtube, category video-streaming → "bulk" in the
    // lab policy (ceil 20 Mbit/s).
    const download = execInNs(
      LAB.ns.lan,
      [
        "curl",
        "-sk",
        "-o",
        "/dev/null",
        // long enough for the page steps on a loaded machine; ended below once measured
        "--max-time",
        "300",
        "--interface",
        LAB.v4.clients[1],
        "--resolve",
        `www.youtube.com:443:${LAB.v4.server}`,
        "https://www.youtube.com/bulk?mb=1000",
      ],
      { allowFail: true, timeoutMs: 310_000 },
    );
    await page.goto(`${base}/`);
    await page.getByTestId("top-app-youtube").waitFor({ timeout: 20_000 });
    await page.waitForTimeout(4000);
    const bulkBefore = mbit(await classRate("bulk", 3));
    console.log(`youtube in "bulk" before: ${bulkBefore.toFixed(2)} Mbit/s (ceil 20)`);
    assert.ok(bulkBefore > 12, `the download should fill "bulk" first, got ${bulkBefore.toFixed(2)}`);
    await page.screenshot({ path: join(SHOTS, "lab-overview-app.png"), fullPage: true });

    // Rules: Application → YouTube → p2p (ceil 10 Mbit/s), beating the category rule.
    await page.goto(`${base}/rules`);
    await page.getByTestId("rules-table").waitFor();
    await page.getByRole("button", { name: "Add rule" }).click();
    const n = await page.locator('[data-testid^="rule-row-"]').count();
    const pick = async (label: string, option: string | RegExp, type?: string) => {
      const input = page.getByLabel(label, { exact: true }).first();
      await input.click();
      if (type) await input.fill(type);
      await page
        .getByRole("option", { name: option, exact: typeof option === "string" })
        .first()
        .click();
    };
    await pick(`target of rule ${n}`, "Application");
    await pick(`application of rule ${n}`, /YouTube/, "youtube");
    await pick(`class of rule ${n}`, "p2p");
    await page.getByTestId("save").click();
    await page.getByTestId("save-status").getByText(/Saved/).waitFor();
    await page.screenshot({ path: join(SHOTS, "lab-rules-app.png"), fullPage: true });

    await page.goto(`${base}/apply`);
    await page
      .getByTestId("policy-changes")
      .getByText(/app youtube → p2p/)
      .waitFor();
    await page.getByTestId("apply-button").click();
    await page
      .getByTestId("action-ok")
      .getByText(/Applied as entry/)
      .waitFor();

    await page.goto(`${base}/`);
    await page.waitForTimeout(8000);
    const p2p = mbit(await classRate("p2p", 4));
    const bulkAfter = mbit(await classRate("bulk", 4));
    console.log(
      `after the apply: youtube in "p2p" ${p2p.toFixed(2)} Mbit/s (ceil 10), "bulk" ${bulkAfter.toFixed(2)} Mbit/s`,
    );
    assert.ok(
      p2p >= 9 && p2p <= 11,
      `the live YouTube connection should fill "p2p" (10 ± 10%), got ${p2p.toFixed(2)}`,
    );
    assert.ok(bulkAfter < 1, `and leave "bulk", which still carries ${bulkAfter.toFixed(2)} Mbit/s`);
    await page.getByTestId("top-app-youtube").waitFor();
    await page.screenshot({ path: join(SHOTS, "lab-overview-app-after.png"), fullPage: true });
    killInNs(LAB.ns.lan, "curl");
    await download;
  },
);
