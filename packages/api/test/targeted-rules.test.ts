// Rules that target an application, a category or a host name glob: the catalogue from the
// agent (and what the page gets when the agent has none or is down), saving with field
// issues for unknown apps and bad globs, applying through the agent, the class a flow
// gets by precedence, and per-app live stats and minute roll-ups.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { floorMinute } from "@sluice/db";
import { StatsHub, createDeps, configFromEnv } from "../src/index.ts";
import { IssuesError } from "../src/trpc.ts";
import { flowClassifier } from "../src/policy/flow-class.ts";
import { createServer } from "node:http";
import { TestAgent } from "@sluice/agent/testing";
import { harness, adminBrowser, trpcError, Browser, type Harness } from "./harness.ts";
import type { ApiDeps } from "../src/index.ts";

let h: Harness;
let admin: Browser;
before(async () => {
  h = await harness();
  admin = await adminBrowser(h);
});
after(() => h.close());

/** The signed-in admin, calling through other deps (another agent socket). */
function adminCallerOn(deps: ApiDeps) {
  const b = new Browser(deps);
  for (const [k, v] of admin.jar) b.jar.set(k, v);
  return b.api();
}

const issuesOf = (e: Error) => (e.cause instanceof IssuesError ? e.cause.issues : []);

async function withRules(rules: Record<string, unknown>[]) {
  const { policy } = await (await admin.api()).policy.getPolicy();
  return { ...policy, rules: [...rules, ...policy.rules] };
}

test("the app catalogue comes from the agent, grouped by category", async () => {
  const r = await (await admin.api()).protocols.listApps();
  assert.equal(r.live, true);
  assert.equal(r.error, null);
  const yt = r.apps.find((a) => a.name === "youtube");
  assert.deepEqual(yt && { title: yt.title, category: yt.category }, {
    title: "YouTube",
    category: "video-streaming",
  });
  assert.ok(r.categories.some((c) => c.name === "gaming"));
  const games = await (await admin.api()).protocols.listApps({ category: "gaming" });
  assert.ok(games.apps.length > 0 && games.apps.every((a) => a.category === "gaming"));
});

test("an agent without a catalogue: empty lists and the reason; app names go unchecked", async () => {
  const socket = join(h.dir, "old-agent.sock");
  // an agent from before GET /v1/apps: every route but that one, which is 404
  const old = createServer((req, res) => {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
  });
  await new Promise<void>((r) => old.listen(socket, r));
  try {
    const deps = createDeps(h.db, { ...configFromEnv({}), socket });
    const r = await deps.agent.apps();
    assert.deepEqual([r.live, r.catalogue], [false, null]);
    assert.match(r.error ?? "", /no application catalogue/);
  } finally {
    await new Promise((r) => old.close(r));
  }
  // the real agent without a catalogue file answers empty lists rather than 404
  const emptySocket = join(h.dir, "no-catalogue.sock");
  const empty = await TestAgent.start({ socket: emptySocket, appCatalogue: false, sampleMs: 0 });
  try {
    const deps = createDeps(h.db, { ...configFromEnv({}), socket: emptySocket });
    const caller = await adminCallerOn(deps);
    const r = await caller.protocols.listApps();
    assert.deepEqual([r.apps, r.error], [[], "the agent has no application catalogue"]);
  } finally {
    await empty.stop();
  }
  const down = createDeps(h.db, { ...configFromEnv({}), socket: join(h.dir, "nobody.sock") });
  const r = await down.agent.apps();
  assert.equal(r.catalogue, null);
  assert.match(r.error ?? "", /not reachable/);
});

test("a policy with app, category and hostname rules saves; bad names and globs come back with paths", async () => {
  const good = await withRules([
    { app: "youtube", class: "bulk", comment: "videos are bulk here" },
    { category: "gaming", class: "interactive" },
    { hostname: "*.corp.example.com", class: "interactive" },
  ]);
  const saved = await (await admin.api()).policy.savePolicy({ policy: good, what: "rules" });
  assert.deepEqual(saved.policy?.rules.slice(0, 3), [
    { app: "youtube", class: "bulk", comment: "videos are bulk here", enabled: true },
    { category: "gaming", class: "interactive", enabled: true },
    { hostname: "*.corp.example.com", class: "interactive", enabled: true },
  ]);

  const bad = await withRules([
    { app: "not-an-app", class: "web" },
    { category: "snacks", class: "web" },
    { hostname: "bad glob!", class: "web" },
  ]);
  const e = await trpcError(async () => (await admin.api()).policy.savePolicy({ policy: bad }));
  assert.equal(e.code, "BAD_REQUEST");
  const paths = issuesOf(e).map((i) => i.path);
  for (const p of ["rules[0].app", "rules[1].category", "rules[2].hostname"])
    assert.ok(paths.includes(p), `${p} in ${JSON.stringify(issuesOf(e))}`);
  const two = await withRules([{ app: "youtube", protocol: "ssl", class: "web" }]);
  const e2 = await trpcError(async () => (await admin.api()).policy.savePolicy({ policy: two }));
  assert.ok(issuesOf(e2).some((i) => i.path === "rules[0]" && /exactly one/.test(i.message)));
  const stored = await (await admin.api()).policy.getPolicy();
  assert.deepEqual(stored.policy.rules[0], {
    app: "youtube",
    class: "bulk",
    comment: "videos are bulk here",
    enabled: true,
  });
});

test("targeted rules apply through the agent: the diff names them, the agent's history has them", async () => {
  const p = await (await admin.api()).deploy.previewApply();
  assert.equal(p.result.ok, true);
  if (!p.result.ok) return;
  const changes = p.result.diff.policy.changes;
  assert.ok(changes.includes("rule: app youtube → bulk (new)"), JSON.stringify(changes));
  assert.ok(changes.includes("rule: hostname *.corp.example.com → interactive (new)"));
  // the agent's own renderer (this kernel's variant, nftables maps): youtube's app id in the
  // app field → the bulk class (1:12) on the WAN device
  assert.match(
    p.result.scripts.nft ?? "",
    /map dev0_app \{\n\s+type mark : classid\n\s+elements = \{[^}]*0x00010000 : 1:12/,
  );
  const r = await (await admin.api()).deploy.applyPolicy();
  assert.equal(r.entry.status, "applied");
  const sent = h.agent.entries.at(-1)!.policy.rules!;
  assert.deepEqual(sent[0], { app: "youtube", class: "bulk", comment: "videos are bulk here" });
  const v = await h.db.versions.get(r.versionId);
  assert.ok(
    (v?.policy as { rules: unknown[] }).rules.some((x) => JSON.stringify(x).includes('"category":"gaming"')),
  );
});

test("flows get their class by precedence: hostname > app > category > protocol", async () => {
  const classOf = flowClassifier(
    [
      { protocol: "ssl", class: "web" },
      { category: "video-streaming", class: "video" },
      { app: "youtube", class: "bulk" },
      { hostname: "*.googlevideo.com", class: "cdn" },
      { hostname: "*.com", class: "never" },
    ],
    "default",
  );
  const yt = { protocol: "ssl", app: "youtube", category: "video-streaming" };
  assert.deepEqual(classOf({ ...yt, hostname: "rr1.googlevideo.com" }), {
    className: "cdn",
    rule: "hostname *.googlevideo.com",
  });
  assert.deepEqual(classOf(yt), { className: "bulk", rule: "app youtube" });
  assert.deepEqual(classOf({ ...yt, app: "netflix" }), {
    className: "video",
    rule: "category video-streaming",
  });
  assert.deepEqual(classOf({ protocol: "ssl" }), { className: "web", rule: "ssl" });
  assert.deepEqual(classOf({ protocol: "ssh", hostname: "x.org" }), { className: "default", rule: null });
  const byAlias = flowClassifier([{ protocol: "tls", class: "web" }], "default", new Map([["tls", "ssl"]]));
  assert.equal(byAlias({ protocol: "ssl" }).className, "web", "a rule on an alias takes the pattern's flows");

  await h.agent.sample();
  const f = await (await admin.api()).flows.listFlows();
  const ssl = f.connections.find((c) => c.protocol === "ssl");
  assert.deepEqual(
    ssl && [ssl.app, ssl.category, ssl.className, ssl.rule],
    ["youtube", "video-streaming", "bulk", "app youtube"],
    "the applied app rule beats the ssl → web protocol rule",
  );
  const ssh = f.connections.find((c) => c.protocol === "ssh");
  assert.deepEqual(ssh && [ssh.app, ssh.className], [null, "interactive"]);
});

test("per-app live stats, and per-app minutes rolled up into the history", async () => {
  for (let i = 0; i < 2; i++) await h.agent.sample();
  const live = await (await admin.api()).stats.getLive({ since: 0 });
  assert.equal(live.hasApps, true);
  const yt = live.apps.find((a) => a.app === "youtube");
  assert.deepEqual(yt && [yt.title, yt.category], ["YouTube", "video-streaming"]);
  assert.ok(live.categories.some((c) => c.category === "video-streaming" && c.rateBps > 0));
  assert.ok(live.samples.at(-1)!.apps.some((a) => a.app === "steam"));

  const hub = new StatsHub(h.deps.agent, h.db);
  const now = Date.now();
  const start = floorMinute(now - 3 * 60_000).getTime();
  const base = await h.agent.sample();
  for (let i = 0; i < 120; i++) {
    const s = structuredClone(base);
    s.t = start + i * 1000;
    for (const a of s.apps!) a.bytes += i * 2000;
    hub.ingest(s);
  }
  const r = await hub.rollUpNow(now);
  assert.ok(r.apps >= 6, JSON.stringify(r));
  const hist = await (await admin.api()).stats.getHistory({ hours: 1 });
  assert.ok(hist.apps.some((a) => a.app === "youtube" && a.category === "video-streaming" && a.rateBps > 0));
  assert.ok(hist.categories.some((c) => c.category === "gaming" && c.bytes > 0));
});
