// Editing and applying: validation errors come back with field paths; apply, try (with the
// agent's revert), confirm and rollback each become a policy version and an audit row with
// the user; a failed apply is recorded too.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { IssuesError } from "../src/trpc.ts";
import { harness, adminBrowser, trpcError, type Browser, type Harness } from "./harness.ts";

let h: Harness;
let admin: Browser;
before(async () => {
  h = await harness();
  admin = await adminBrowser(h);
});
after(() => h.close());

const issuesOf = (e: Error) => (e.cause instanceof IssuesError ? e.cause.issues : []);

async function editUploadClass(name: string, patch: Record<string, unknown>) {
  const { policy } = await (await admin.api()).policy.getPolicy();
  const next = structuredClone(policy) as typeof policy;
  const i = next.classes.upload.findIndex((c) => c.name === name);
  Object.assign(next.classes.upload[i]!, patch);
  return { next, index: i };
}

test("a bad class limit comes back with the field's path; nothing is saved", async () => {
  const { next, index } = await editUploadClass("p2p", { ceil: "900mbit" });
  const e = await trpcError(async () => (await admin.api()).policy.savePolicy({ policy: next }));
  assert.equal(e.code, "BAD_REQUEST");
  const issues = issuesOf(e);
  assert.ok(
    issues.some((i) => i.path === `classes.upload[${index}].ceil` && /above the link rate/.test(i.message)),
    JSON.stringify(issues),
  );
  const bad = await editUploadClass("web", { rate: "lots" });
  const e2 = await trpcError(async () => (await admin.api()).policy.savePolicy({ policy: bad.next }));
  assert.ok(issuesOf(e2).some((i) => i.path === `classes.upload[${bad.index}].rate`));
  const rule = structuredClone((await (await admin.api()).policy.getPolicy()).policy);
  rule.rules.push({ protocol: "nosuchproto", class: "web", enabled: true });
  const e3 = await trpcError(async () => (await admin.api()).policy.savePolicy({ policy: rule }));
  assert.ok(issuesOf(e3).some((i) => i.path === `rules[${rule.rules.length - 1}].protocol`));
});

test("the error shape over HTTP carries the issues (data.issues)", async () => {
  const { handleTrpcWith } = await import("../src/index.ts");
  const { next } = await editUploadClass("p2p", { ceil: "900mbit" });
  const csrf = admin.jar.get("sluice_csrf")!;
  const res = await handleTrpcWith(
    h.deps,
    new Request("http://sluice.test/api/trpc/policy.savePolicy", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: `sluice_session=${admin.jar.get("sluice_session")}; sluice_csrf=${csrf}`,
        "x-csrf-token": csrf,
        origin: "http://sluice.test",
        host: "sluice.test",
      },
      body: JSON.stringify({ policy: next }),
    }),
  );
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { data: { code: string; issues: { path: string }[] } } };
  assert.equal(body.error.data.code, "BAD_REQUEST");
  assert.ok(body.error.data.issues.some((i) => i.path.endsWith(".ceil")));
});

test("preview shows the diff against what is installed", async () => {
  const { next } = await editUploadClass("p2p", { ceil: "8mbit" });
  await (await admin.api()).policy.savePolicy({ policy: next, what: "classes" });
  const p = await (await admin.api()).deploy.previewApply();
  assert.equal(p.result.ok, true);
  if (!p.result.ok) return;
  assert.ok(
    p.result.diff.policy.changes.some((c) => /upload class "p2p": ceil .* → 8Mbit/.test(c)),
    JSON.stringify(p.result.diff),
  );
  assert.ok(p.result.diff.tc.some((l) => l.startsWith("+ ")));
});

test("apply records a version (last good) and an audit row with the user", async () => {
  const r = await (await admin.api()).deploy.applyPolicy();
  assert.equal(r.entry.status, "applied");
  const v = await h.db.versions.get(r.versionId);
  assert.equal(v?.result, "applied");
  assert.equal(v?.appliedBy, "admin");
  assert.equal(v?.isLastGood, true);
  assert.equal(v?.agentEntryId, r.entry.id);
  assert.ok(v?.scripts?.tc.includes("htb"));
  const a = await h.db.audit.list({ action: "policy.apply" });
  assert.equal(a.items[0]?.username, "admin");
  assert.equal(a.items[0]?.target, `agent entry #${r.entry.id}`);
  assert.equal(h.agent.entries.at(-1)!.user, "admin", "the agent recorded who applied");
  const hist = await (await admin.api()).deploy.listHistory();
  assert.equal(hist.rows[0]?.agentEntryId, r.entry.id);
  assert.equal(hist.rows[0]?.source, "dashboard");
  assert.ok(hist.rows.some((x) => x.user === "first boot" && x.source === "agent"));
});

test("try then confirm: trying → confirmed, last good, audited", async () => {
  const { next } = await editUploadClass("p2p", { ceil: "9mbit" });
  await (await admin.api()).policy.savePolicy({ policy: next });
  const t = await (await admin.api()).deploy.tryPolicy({ seconds: 60 });
  assert.equal(t.entry.status, "trying");
  assert.equal((await h.db.versions.get(t.versionId))?.result, "trying");
  const hist = await (await admin.api()).deploy.listHistory();
  assert.equal(hist.trying?.entryId, t.entry.id);
  const c = await (await admin.api()).deploy.confirmTry();
  assert.equal(c.entry.status, "confirmed");
  const v = await h.db.versions.get(t.versionId);
  assert.equal(v?.result, "confirmed");
  assert.equal(v?.isLastGood, true);
  assert.equal((await h.db.audit.list({ action: "policy.try" })).items[0]?.username, "admin");
  assert.equal((await h.db.audit.list({ action: "policy.confirm" })).items[0]?.username, "admin");
  const none = await trpcError(async () => (await admin.api()).deploy.confirmTry());
  assert.equal(none.code, "BAD_REQUEST", "nothing to confirm");
});

test("a try that is not confirmed reverts by itself; the history shows it and the audit says so", async () => {
  const { next } = await editUploadClass("p2p", { ceil: "7mbit" });
  await (await admin.api()).policy.savePolicy({ policy: next });
  const t = await (await admin.api()).deploy.tryPolicy({ seconds: 5 });
  await sleep(5300);
  const hist = await (await admin.api()).deploy.listHistory();
  assert.equal(hist.trying, null);
  assert.equal(hist.rows.find((r) => r.agentEntryId === t.entry.id)?.status, "reverted");
  assert.equal((await h.db.versions.get(t.versionId))?.result, "reverted");
  const a = await h.db.audit.list({ action: "policy.revert" });
  assert.equal(a.items[0]?.target, `agent entry #${t.entry.id}`);
  assert.equal(a.items[0]?.username, "agent");
});

test("rollback from history: a new version and an audit row; the editor follows the box", async () => {
  const r = await (await admin.api()).deploy.rollbackPolicy({ agentEntryId: 1 });
  assert.equal(r.entry.status, "applied");
  assert.equal(r.draftReplaced, true);
  // the edited policy is now what the box runs: the reverted try's 7mbit is gone
  const p = await (await admin.api()).deploy.previewApply();
  assert.equal(p.nothingToApply, true, JSON.stringify(p.result));
  assert.equal(p.installed?.id, r.entry.id, "the preview names the entry just installed");
  assert.match(h.agent.entries.at(-1)!.user, /^admin \(rollback to #1\)$/);
  const v = await h.db.versions.get(r.versionId!);
  assert.equal(v?.isLastGood, true);
  assert.deepEqual(v?.policy, h.agent.entries[0]!.policy);
  const a = await h.db.audit.list({ action: "policy.rollback" });
  assert.equal(a.items[0]?.username, "admin");
  const e = await trpcError(async () => (await admin.api()).deploy.rollbackPolicy({ agentEntryId: 999 }));
  assert.equal(e.code, "BAD_REQUEST");
});

test("nothing to apply is refused without a history entry", async () => {
  const before = h.agent.entries.length;
  const e = await trpcError(async () => (await admin.api()).deploy.applyPolicy());
  assert.equal(e.code, "PRECONDITION_FAILED");
  assert.match(e.message, /nothing to apply/);
  const t = await trpcError(async () => (await admin.api()).deploy.tryPolicy({ seconds: 30 }));
  assert.equal(t.code, "PRECONDITION_FAILED");
  assert.equal(h.agent.entries.length, before);
});

test("a failed apply is recorded as a failed version with the agent's error", async () => {
  const { next } = await editUploadClass("p2p", { ceil: "5mbit" });
  await (await admin.api()).policy.savePolicy({ policy: next });
  h.agent.failNextTc("Error: Specified qdisc kind is unknown.");
  const e = await trpcError(async () => (await admin.api()).deploy.applyPolicy());
  assert.equal(e.code, "BAD_GATEWAY");
  assert.match(e.message, /restored/);
  const latest = (await h.db.versions.list({ limit: 1 })).items[0]!;
  assert.equal(latest.result, "failed");
  assert.equal((latest.error as { step: string }).step, "tc");
  assert.equal((await h.db.audit.list({ action: "policy.apply.failed" })).total, 1);
  // the history row says why, in the agent's words, and what the apply would have changed
  const row = (await (await admin.api()).deploy.listHistory()).rows.find((r) => r.versionId === latest.id)!;
  assert.match(row.error ?? "", /\(step tc\): Error: Specified qdisc kind/);
  assert.deepEqual(row.changes, ['upload class "p2p": ceil 10Mbit → 5Mbit']);
});

test("history rows say what each apply changed", async () => {
  const hist = await (await admin.api()).deploy.listHistory();
  const tried = hist.rows.find((r) => r.status === "confirmed")!;
  assert.ok(
    tried.changes.some((c) => /ceil .* → 9Mbit/.test(c)),
    JSON.stringify(tried.changes),
  );
});

test("a leaf the probed kernel lacks is refused when saved", async () => {
  await (await admin.api()).agent.getHealth(); // the server has the agent's capabilities
  const { next, index } = await editUploadClass("web", { leaf: "cake" });
  const e = await trpcError(async () => (await admin.api()).policy.savePolicy({ policy: next }));
  assert.equal(e.code, "BAD_REQUEST");
  assert.ok(
    issuesOf(e).some((i) => i.path === `classes.upload[${index}].leaf` && /no cake/.test(i.message)),
    JSON.stringify(issuesOf(e)),
  );
});

test("load a version into the editor", async () => {
  const first = (await h.db.versions.list({ limit: 200 })).items.at(-1)!;
  const r = await (await admin.api()).policy.loadVersion({ versionId: first.id });
  assert.ok(r.policy);
  assert.equal((await h.db.audit.list({ action: "policy.load-version" })).total, 1);
});
