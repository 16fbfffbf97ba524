// Every procedure of the router, called without a session, is refused with UNAUTHORIZED
// (except the few public ones, listed in PUBLIC_PROCEDURES). The list comes from the router
// itself, so a procedure added later is covered without touching this test.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { appRouter, PUBLIC_PROCEDURES } from "../src/index.ts";
import { harness, adminBrowser, trpcError, type Harness } from "./harness.ts";

let h: Harness;
before(async () => {
  h = await harness();
});
after(() => h.close());

const procedures = Object.keys(appRouter._def.procedures).sort();

function callByPath(caller: unknown, path: string): Promise<unknown> {
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller);
  return (fn as (i: unknown) => Promise<unknown>)({});
}

test("the router has the procedures the dashboard uses", () => {
  assert.ok(procedures.length >= 25, `only ${procedures.length} procedures`);
  for (const p of PUBLIC_PROCEDURES) assert.ok(procedures.includes(p), `${p} is not a procedure`);
});

test("every non-public procedure refuses a caller without a session (UNAUTHORIZED)", async () => {
  await adminBrowser(h); // a user exists: setup is closed, so nothing is open by accident
  const anon = h.browser();
  await (await anon.api()).auth.getSession(); // has a CSRF cookie, so CSRF is not the reason
  const refused: string[] = [];
  for (const path of procedures) {
    if ((PUBLIC_PROCEDURES as readonly string[]).includes(path)) continue;
    const e = await trpcError(async () => callByPath(await anon.api(), path));
    assert.equal(e.code, "UNAUTHORIZED", `${path} answered ${e.code}: ${e.message}`);
    refused.push(path);
  }
  assert.equal(refused.length, procedures.length - PUBLIC_PROCEDURES.length);
});

test("a forged or expired session cookie is no session", async () => {
  const b = h.browser();
  await (await b.api()).auth.getSession();
  b.jar.set("sluice_session", "forged-token");
  for (const path of ["policy.getPolicy", "deploy.applyPolicy", "users.listUsers"]) {
    const e = await trpcError(async () => callByPath(await b.api(), path));
    assert.equal(e.code, "UNAUTHORIZED", path);
  }
});

test("the public procedures are only these: session probe, sign-in, first-run setup", async () => {
  const anon = h.browser();
  const s = await (await anon.api()).auth.getSession();
  assert.equal(s.user, null);
  assert.equal(s.needsSetup, false);
  const e = await trpcError(async () =>
    (await anon.api()).auth.setupAdmin({ username: "intruder", password: "12345678" }),
  );
  assert.equal(e.code, "FORBIDDEN", "setup is closed once a user exists");
});

test("viewers cannot change anything (FORBIDDEN on admin procedures)", async () => {
  const admin = h.browser();
  await admin.signIn("admin", "correct horse");
  await (await admin.api()).users.createUser({ username: "viewer", password: "viewer-pass", role: "viewer" });
  const v = h.browser({ ip: "192.0.2.50" });
  await v.signIn("viewer", "viewer-pass");
  assert.ok((await (await v.api()).policy.getPolicy()).policy.classes.upload.length > 0, "viewers can read");
  for (const path of [
    "deploy.applyPolicy",
    "deploy.tryPolicy",
    "deploy.confirmTry",
    "deploy.rollbackPolicy",
    "policy.savePolicy",
    "users.createUser",
    "users.listUsers",
    "settings.saveInterfaces",
    "devices.saveDevices",
    "protocols.refreshProtocols",
  ]) {
    const e = await trpcError(async () => callByPath(await v.api(), path));
    assert.equal(e.code, "FORBIDDEN", `${path}: ${e.code}`);
  }
});
