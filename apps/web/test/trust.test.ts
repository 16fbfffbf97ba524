// "The dashboard an admin can trust" (issue 18), in headless Chromium against `next start`
// and the test agent: no crash on a bad class name, renames carry their rules, what the
// kernel cannot do is refused, the editor follows the box after a rollback and says so
// after a Try reverted, absurd values and failed applies explained, the Overview's window,
// marks and colours, errors in the page's words, a phone in dark mode, the smaller things.
// Screenshots go to artifacts/screenshots/trust-*.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  createAdmin,
  hydratingGoto,
  skipWithoutChromium as skip,
  startDashboard,
  type Dashboard,
} from "./helpers/browser.ts";

let d: Dashboard;
let page: Page;

before(async () => {
  if (skip) return;
  d = await startDashboard();
  page = d.page;
  await createAdmin(d);
});

after(async () => {
  await d?.stop();
});

/** The page still renders (the app's error boundary replaces it on a crash). */
async function notCrashed(p: Page = page): Promise<void> {
  assert.equal(await p.getByText("This page could not be shown").count(), 0, "the page crashed");
}

async function save(): Promise<void> {
  await page.getByTestId("save").click();
  await page.getByTestId("save-status").getByText(/Saved/).waitFor();
}

async function uploadClassIndex(name: string): Promise<number> {
  await page.getByTestId("class-upload-default-ceil").waitFor();
  const inputs = page.locator('[data-testid^="class-upload-"][data-testid$="-name"]');
  const n = await inputs.count();
  for (let i = 0; i < n; i++) if ((await inputs.nth(i).inputValue()) === name) return i;
  throw new Error(`no upload class ${name}`);
}

test(
  "Classes: an emptied or duplicated name is an inline error, not a crash, and other edits stay",
  { skip },
  async () => {
    await page.goto(`${d.base}/classes`);
    const ceil = page.getByTestId("class-upload-p2p-ceil");
    await ceil.fill("7mbit"); // an unsaved edit that must survive
    const web = page.getByTestId(`class-upload-${await uploadClassIndex("web")}-name`);
    await web.fill("");
    await page.getByText("a class needs a name").waitFor();
    await notCrashed();
    await web.fill("bulk");
    await page
      .getByText(/duplicate class name "bulk"/)
      .first()
      .waitFor();
    await notCrashed();
    assert.equal(
      await page.getByTestId("class-upload-p2p-ceil").inputValue(),
      "7mbit",
      "the other edit is kept",
    );
    assert.equal(await page.getByTestId("save").isDisabled(), true);
    await d.shot("trust-01-classes-duplicate-name");
    await page.getByRole("button", { name: "Discard changes" }).click();
    await page
      .getByTestId("save-status")
      .getByText(/No unsaved changes/)
      .waitFor();
  },
);

test(
  "Classes: what the probed kernel lacks is refused in the editor, and no fair queueing is said plainly",
  { skip },
  async () => {
    await page.goto(`${d.base}/classes`);
    // the test agent's kernel has no sfq, fq_codel or cake
    await page
      .getByTestId("no-fair-queueing")
      .getByText(/none of sfq, fq_codel or cake/)
      .waitFor();
    await page.getByLabel("leaf qdisc of class web").first().click();
    const cake = page.getByRole("option", { name: "cake (not in this kernel)" });
    await cake.waitFor();
    assert.equal(await cake.getAttribute("aria-disabled"), "true");
    await d.shot("trust-02-classes-kernel");
    await page.keyboard.press("Escape");
  },
);

test(
  "Settings: absurd rates refused, a missing device and a rate above the link flagged, a failed apply says why",
  { skip },
  async () => {
    await page.goto(`${d.base}/settings`);
    const rate = page.getByTestId("wan-rate");
    await rate.fill("99999gbit");
    await page.getByText(/"99999gbit" is more than 100gbit/).waitFor();
    await rate.fill(`1${"0".repeat(400)}mbit`);
    await page.getByText(/is not a rate/).waitFor();
    assert.equal(await page.getByText(/Infinity/).count(), 0, "no Infinitybit");
    // a rate the classes do not fit: the problems name classes as the page does
    await rate.fill("1mbit");
    const alert = page.getByText("These link rates do not fit the classes").locator("..").locator("..");
    await alert
      .getByText(/upload class "interactive", ceil/)
      .first()
      .waitFor();
    assert.doesNotMatch(await alert.innerText(), /classes\.upload\[/);
    await d.shot("trust-03-settings-words");
    await rate.fill("200mbit");
    await page
      .getByTestId("wan-rate-warning")
      .getByText(/above wan0's link speed \(100 Mbit\/s\)/)
      .waitFor();
    await rate.fill("20mbit");
    await page.getByTestId("wan-device").fill("wan9");
    await page
      .getByTestId("wan-device-warning")
      .getByText(/the box has no interface "wan9"/)
      .waitFor();
    await d.shot("trust-04-settings-warnings");
    await page.getByTestId("save-interfaces").click();
    await page.getByText(/Saved; apply it/).waitFor();
    await page.goto(`${d.base}/apply`);
    await page
      .getByTestId("policy-changes")
      .getByText(/wan interface: wan0 → wan9/)
      .waitFor();
    await page.getByTestId("apply-button").click();
    await page
      .getByTestId("action-error")
      .getByText(/Cannot find device "wan9"/)
      .waitFor();
    const failed = d.agent.entries.at(-1)!;
    assert.equal(failed.status, "failed");
    const row = page.getByTestId(`history-row-${failed.id}`);
    await row
      .getByTestId("history-error")
      .getByText(/Cannot find device "wan9"/)
      .waitFor();
    await d.shot("trust-05-apply-failed");
    // back to the real device
    await page.goto(`${d.base}/settings`);
    await page.getByTestId("wan-device").fill("wan0");
    await page.getByTestId("save-interfaces").click();
    await page.getByText(/Saved; apply it/).waitFor();
  },
);

test(
  "Apply: nothing to apply is not an entry; history rows say what changed; Load into editor asks first",
  { skip },
  async () => {
    await page.goto(`${d.base}/apply`);
    await page
      .getByTestId("policy-changes")
      .getByText(/nothing to apply/)
      .waitFor();
    assert.equal(await page.getByTestId("apply-button").isDisabled(), true);
    assert.equal(await page.getByTestId("try-button").isDisabled(), true);
    const entries = d.agent.entries.length;
    // and the server refuses it too (a stale page, a script)
    const csrf = (await page.context().cookies()).find((c) => c.name === "sluice_csrf")!.value;
    const res = await page.request.post(`${d.base}/api/trpc/deploy.applyPolicy`, {
      headers: { "x-csrf-token": csrf, "content-type": "application/json" },
      data: {},
    });
    assert.equal(res.status(), 412);
    assert.match(await res.text(), /nothing to apply/);
    assert.equal(d.agent.entries.length, entries, "no history entry");

    await page.goto(`${d.base}/classes`);
    await page.getByTestId("class-upload-p2p-ceil").fill("6mbit");
    await save();
    await page
      .getByTestId("box-state")
      .getByText(/Saved, not applied/)
      .waitFor();
    await page.goto(`${d.base}/apply`);
    await page.getByTestId("apply-button").click();
    await page
      .getByTestId("action-ok")
      .getByText(/Applied as entry/)
      .waitFor();
    const applied = d.agent.lastGood()!.id;
    await page
      .getByTestId(`history-row-${applied}`)
      .getByTestId("history-changes")
      .getByText(/upload class "p2p": ceil 10Mbit → 6Mbit/)
      .waitFor();

    await page.getByTestId(`load-${applied}`).click();
    await page.getByText(/Load entry #\d+ into the editor\?/).waitFor();
    await d.shot("trust-06-load-asks");
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByText(/into the editor\?/).waitFor({ state: "detached" });
  },
);

test(
  "Rollback: the editor follows the box; after a Try reverted the page says the editor differs, with a way back",
  { skip },
  async () => {
    await page.goto(`${d.base}/apply`);
    await page.getByTestId("rollback-1").click();
    await page
      .getByTestId("action-ok")
      .getByText(/The editor now holds its policy/)
      .waitFor();
    const back = d.agent.lastGood()!.id;
    await page.getByText(`installed: #${back} `).waitFor();
    await page
      .getByTestId("policy-changes")
      .getByText(/nothing to apply/)
      .waitFor();
    await page.goto(`${d.base}/classes`);
    assert.equal(
      await page.getByTestId("class-upload-p2p-ceil").inputValue(),
      "10mbit",
      "the editor follows the box",
    );
    await page.getByTestId("box-state").getByText(`The box runs this policy (#${back})`).waitFor();
    await d.shot("trust-07-classes-after-rollback");

    await page.getByTestId("class-upload-p2p-ceil").fill("7mbit");
    await save();
    await page.goto(`${d.base}/apply`);
    await page.getByTestId("try-seconds").fill("5");
    await page.getByTestId("try-button").click();
    await page.getByTestId("try-countdown").waitFor();
    const tried = d.agent.entries.at(-1)!.id;
    await page.getByTestId(`history-row-${tried}`).getByText("reverted").waitFor({ timeout: 20_000 });
    const differs = page.getByTestId("draft-differs");
    await differs.getByText(new RegExp(`Entry #${tried} was reverted`)).waitFor();
    await page.getByTestId("policy-changes").getByText(/7Mbit/).waitFor();
    await d.shot("trust-08-apply-try-reverted");
    await page.getByTestId("load-installed").click();
    await page
      .getByTestId("policy-changes")
      .getByText(/nothing to apply/)
      .waitFor();
    await differs.waitFor({ state: "detached" });
    await page.goto(`${d.base}/classes`);
    assert.equal(await page.getByTestId("class-upload-p2p-ceil").inputValue(), "10mbit");
  },
);

test(
  "Classes: a rename takes its rules along (or says why not); removing a class names its rules",
  { skip },
  async () => {
    await page.goto(`${d.base}/classes`);
    const up = page.getByTestId(`class-upload-${await uploadClassIndex("p2p")}-name`);
    await up.fill("peer");
    // download still has "p2p": the rules cannot follow one direction only
    await page.getByText(/"p2p" is the class of 3 rules; the download class "p2p" keeps its name/).waitFor();
    assert.equal(await page.getByTestId("save").isDisabled(), true);
    await d.shot("trust-09-rename-blocked");
    await page
      .getByTestId("direction")
      .getByText(/Download/)
      .click();
    const downInputs = page.locator('[data-testid^="class-download-"][data-testid$="-name"]');
    let i = 0;
    while ((await downInputs.nth(i).inputValue()) !== "p2p") i++;
    await downInputs.nth(i).fill("peer");
    await page.getByText(/keeps its name/).waitFor({ state: "detached" });
    await save();
    await page.goto(`${d.base}/apply`);
    const changes = page.getByTestId("policy-changes");
    await changes.getByText(/bittorrent → peer \(was p2p\)/).waitFor();
    assert.doesNotMatch(await changes.innerText(), /removed \(goes to the default class\)/);
    await d.shot("trust-10-rename-carried");

    await page.goto(`${d.base}/classes`);
    await page.getByLabel("remove class peer").click();
    const listed = page.getByRole("dialog");
    await listed.getByText(/These 3 rules send traffic to "peer"/).waitFor();
    await listed.getByText(/rule #\d+: protocol bittorrent/).waitFor();
    await d.shot("trust-11-remove-class-rules");
    await listed.getByRole("button", { name: "Cancel" }).click();
    await notCrashed();
  },
);

test(
  "Overview: the 10 min window spans ten minutes, applies are marked, colours agree and differ",
  { skip },
  async () => {
    await page.goto(`${d.base}/`);
    await page.getByTestId("chart-upload").locator("canvas").waitFor();
    await page.getByText("10 min").click();
    await page.waitForFunction(
      () =>
        Number(document.querySelector('[data-testid="chart-upload"]')?.getAttribute("data-x-span")) >= 590,
    );
    // the history is drawn on every chart as a mark per entry
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart-upload"]')?.getAttribute("data-marks")) >= 1,
    );
    const legend = (testId: string) =>
      page.evaluate((id) => {
        const out: Record<string, string> = {};
        for (const s of document.querySelectorAll(`[data-testid="${id}"] .u-legend .u-series`)) {
          const label = s.querySelector(".u-label")?.textContent ?? "";
          const marker = s.querySelector(".u-marker") as HTMLElement | null;
          if (label && marker) out[label] = getComputedStyle(marker).borderColor;
        }
        return out;
      }, testId);
    await page.getByTestId("history-upload").locator("canvas").waitFor();
    const live = await legend("chart-upload");
    const hist = await legend("history-upload");
    for (const name of ["web", "bulk", "p2p"]) {
      assert.ok(live[name], `${name} in the live legend`);
      assert.equal(live[name], hist[name], `${name} has one colour in live and history`);
    }
    const protos = Object.values(await legend("chart-protocols"));
    assert.ok(protos.length >= 3);
    assert.equal(new Set(protos).size, protos.length, "every protocol its own colour");
    await page.waitForTimeout(1500);
    await d.shot("trust-12-overview");
  },
);

test(
  "Pattern tester: 100 KB is cut to the 8 KiB it takes, at once, and says so next to the field",
  { skip },
  async () => {
    await page.goto(`${d.base}/protocols`);
    const box = page.getByTestId("tester-payload");
    // 100 KB of a pasted log (words and lines; one 100 KB word makes Chromium's own layout crawl)
    const big =
      "GET /index.html HTTP/1.1\r\nHost: example.com\r\n" +
      "x-padding: lorem ipsum dolor sit amet\n".repeat(2700);
    await box.fill(big.slice(0, 100_000), { timeout: 120_000 });
    await page.getByText(/the tester takes at most 8 KiB .*: only the first 8 KiB are kept/).waitFor();
    assert.equal((await box.inputValue()).length, 8192, "the text box holds the first 8 KiB");
    await page.getByTestId("tester-run").click();
    await page
      .getByTestId("tester-result")
      .getByText(/Verdict/)
      .waitFor();
    await d.shot("trust-13-tester-cap");
  },
);

test("Phone, dark OS: the drawer closes after a tap, nothing overflows, tables stack", { skip }, async () => {
  const ctx = await d.browser.newContext({
    viewport: { width: 390, height: 844 },
    colorScheme: "dark",
    storageState: await page.context().storageState(),
  });
  const phone = hydratingGoto(await ctx.newPage());
  phone.setDefaultTimeout(30_000); // a fresh context: cold caches
  try {
    await phone.goto(`${d.base}/`);
    await phone.getByTestId("chart-upload").locator("canvas").waitFor();
    assert.equal(await phone.locator("html").getAttribute("data-mantine-color-scheme"), "dark");
    const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok((await overflow()) <= 0, "the header and the page fit the screen");
    await d.shot("trust-14-phone-overview", phone);
    await phone.getByTestId("nav-burger").click();
    await phone.getByRole("link", { name: "Apply" }).click();
    await phone.waitForURL(/\/apply$/);
    await phone.locator('[data-nav-open="false"]').waitFor();
    await phone.getByTestId("history-table").waitFor();
    assert.equal(await phone.locator('[data-testid="history-table"] thead').isVisible(), false);
    await phone.locator('[data-testid="history-table"] td[data-label="status"]').first().waitFor();
    assert.ok((await overflow()) <= 0, "the history fits without sideways scrolling");
    await d.shot("trust-15-phone-apply", phone);
    await phone.goto(`${d.base}/classes`);
    await phone.getByTestId("classes-upload").waitFor();
    assert.ok((await overflow()) <= 0, "the classes fit without sideways scrolling");
    await d.shot("trust-16-phone-classes", phone);
  } finally {
    await ctx.close();
  }
});
