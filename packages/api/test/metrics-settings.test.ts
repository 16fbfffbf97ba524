// The metrics endpoint set from the Settings page's procedures: saved into the edited policy,
// refused at its field on an address that is not loopback or the LAN's (as the agent reports
// them), the token kept only as its digest (a generated one shown once), and after an apply
// the agent really serves it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { createServer } from "node:net";
import { IssuesError } from "../src/trpc.ts";
import { harness, adminBrowser, trpcError, type Browser, type Harness } from "./harness.ts";

let h: Harness;
let admin: Browser;
before(async () => {
  h = await harness();
  admin = await adminBrowser(h);
});
after(() => h.close());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on("error", reject)
      .end();
  });
}

test("metrics settings: off by default, refused off the LAN, token digest only, served after Apply", async () => {
  const api = await admin.api();
  const s = await api.settings.getSettings();
  assert.deepEqual(s.metrics, { enabled: false, address: "127.0.0.1", port: 9712, auth: "none" });

  // the WAN's address and a wildcard are refused at the field
  for (const address of ["198.51.100.2", "0.0.0.0", "not-an-address"]) {
    const e = await trpcError(async () =>
      (await admin.api()).settings.saveMetrics({ enabled: true, address, port: 9712 }),
    );
    assert.equal(e.code, "BAD_REQUEST", address);
    assert.deepEqual(
      (e.cause instanceof IssuesError ? e.cause.issues : []).map((i) => i.path),
      ["metrics.address"],
      address,
    );
  }
  const short = await trpcError(async () =>
    (await admin.api()).settings.saveMetrics({
      enabled: true,
      address: "192.168.1.1",
      port: 9712,
      token: { set: "short" },
    }),
  );
  assert.equal(short.code, "BAD_REQUEST");

  const port = await freePort();
  const saved = await (
    await admin.api()
  ).settings.saveMetrics({
    enabled: true,
    address: "127.0.0.1",
    port,
    token: "generate",
  });
  assert.equal(saved.metrics.auth, "bearer");
  assert.ok(saved.token && saved.token.length >= 24, "a generated token is shown once");
  const policy = (await (await admin.api()).policy.getPolicy()).policy;
  assert.equal(policy.metrics.bearerTokenSha256, createHash("sha256").update(saved.token).digest("hex"));
  assert.doesNotMatch(JSON.stringify(policy), new RegExp(saved.token), "the policy holds the digest only");
  const audit = await h.db.audit.list({ limit: 5 });
  assert.ok(audit.items.some((r) => r.action === "settings.metrics"));
  assert.doesNotMatch(JSON.stringify(audit), new RegExp(saved.token), "nor does the audit log");

  // keeping the token while moving to the LAN address
  const moved = await (
    await admin.api()
  ).settings.saveMetrics({ enabled: true, address: "192.168.1.1", port });
  assert.equal(moved.token, null);
  assert.equal(moved.metrics.auth, "bearer");
  const back = await (await admin.api()).settings.saveMetrics({ enabled: true, address: "127.0.0.1", port });
  assert.equal(back.metrics.address, "127.0.0.1");

  // Apply: the agent serves it, with the token
  const applied = await (await admin.api()).deploy.applyPolicy();
  assert.match(JSON.stringify(applied), /metrics endpoint: off → on at 127\.0\.0\.1:\d+ with bearer token/);
  await h.agent.sample();
  const url = `http://127.0.0.1:${port}/metrics`;
  assert.equal((await get(url)).status, 401);
  const ok = await get(url, { authorization: `Bearer ${saved.token}` });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /^sluice_class_bytes_total\{direction="upload",interface="wan0",class="web"/m);
  const after = await (await admin.api()).settings.getSettings();
  assert.equal(after.metricsEndpoint?.listening, true);
  assert.equal(after.metricsEndpoint?.listen, `127.0.0.1:${port}`);

  const off = await (
    await admin.api()
  ).settings.saveMetrics({ enabled: false, address: "127.0.0.1", port, token: "remove" });
  assert.deepEqual(off.metrics, { enabled: false, address: "127.0.0.1", port, auth: "none" });
});
