// The Schedules page and the Overview's schedule/quota card, in headless Chromium against
// `next start` and the test agent: windows and quotas are edited with errors beside their
// fields, saved into the policy; once applied, the Overview says what is in force and how
// much of each allowance is used. Screenshots go to artifacts/screenshots/schedules-*.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import {
  createAdmin,
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

test("Schedules: a window and a quota, errors beside their fields, then saved", { skip }, async () => {
  await page.goto(`${d.base}/schedules`);
  await page.getByTestId("add-window").click();
  await page.getByText("Add a class limit").click();
  await page.getByTestId("window-0-class-0").click();
  await page.getByRole("option", { name: "p2p", exact: true }).click();
  const ceil = page.getByTestId("window-0-ceil-0");
  await ceil.fill("30mbit");
  await page
    .getByText(/is in force: ceil 30Mbit is above the link rate 20Mbit/)
    .first()
    .waitFor();
  assert.equal(await page.getByTestId("save-schedules").isDisabled(), true);
  await ceil.fill("2mbit");
  await page.getByTestId("window-0-end").fill("08:00");
  await page
    .getByText(/the window ends when it starts/)
    .first()
    .waitFor();
  await page.getByTestId("window-0-end").fill("18:00");
  await page.getByTestId("add-quota").click();
  await page.getByTestId("quota-0-address").fill("10.1.0.23");
  await page
    .getByText(/a quota needs demoteTo/)
    .first()
    .waitFor();
  await page.getByTestId("quota-0-allowance").fill("0");
  await page
    .getByText(/an allowance must be more than 0 bytes/)
    .first()
    .waitFor();
  await page.getByTestId("quota-0-allowance").fill("2GB");
  await page.getByTestId("quota-0-demote").click();
  await page.getByRole("option", { name: "bulk", exact: true }).click();
  await d.shot("schedules-01-editor");
  await page.getByTestId("save-schedules").click();
  await page.getByText("Saved; apply it on the Apply page.").waitFor();
  // what the dashboard stored is what the page showed
  await page.reload();
  assert.equal(await page.getByTestId("window-0-ceil-0").inputValue(), "2mbit");
  assert.equal(await page.getByTestId("quota-0-address").inputValue(), "10.1.0.23");
});

test("Overview: the window in force, the next change and a quota's use", { skip }, async () => {
  const policy = {
    ...defaultPolicy(),
    timeZone: "UTC",
    schedules: [
      {
        name: "always",
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        start: "00:00",
        end: "24:00",
        classes: [{ class: "p2p", ceil: "2mbit" }],
      },
      {
        name: "never-yet",
        days: ["mon"],
        start: "03:00",
        end: "04:00",
        classes: [{ class: "bulk", priority: 7 }],
      },
    ],
    quotas: [{ name: "kid", address: "10.1.0.23", allowance: "1GB", period: "day", demoteTo: "bulk" }],
  } as PolicyInput;
  await d.agent.agent.apply(policy, { user: "test" });
  await page.goto(`${d.base}/`);
  const card = page.getByTestId("schedule-quotas");
  await card.waitFor();
  await card.getByText("always").waitFor();
  assert.match(await page.getByTestId("schedule-next").innerText(), /Next: never-yet starts at .*UTC clock/);
  assert.match(await page.getByTestId("quota-kid").innerText(), /of 1 GB used/);
  await d.shot("schedules-02-overview");
});
