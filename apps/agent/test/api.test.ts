// The agent's control API end to end: a real Agent (without the data plane) in a namespace
// made for the test, reached through the contract's AgentClient over its unix socket. Every
// answer is checked against its schema in @sluice/agent-contract (nothing missing, nothing
// the contract does not declare).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultPolicy } from "@sluice/policy";
import { NetnsExecutor } from "../src/kernel/executor.ts";
import { createBoxNamespace, deleteBoxNamespace, testNamespace } from "./support/box-namespace.ts";
import { Agent } from "../src/daemon/agent.ts";
import {
  AgentClient,
  AgentApiError,
  AgentUnreachableError,
  ApplyErrorBody,
  ErrorBody,
  ROUTES,
  type ResponseOf,
  type RouteName,
} from "@sluice/agent-contract";
import type { z } from "zod";

const NS = testNamespace("api");
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "sluice-api-"));
const socket = join(dir, "agent.sock");
const PATTERNS = fileURLToPath(new URL("./fixtures/patterns", import.meta.url));
let agent: Agent;
const client = new AgentClient(socket);

before(async () => {
  if (!root) return;
  await createBoxNamespace(NS);
  agent = await Agent.start({
    socket,
    dataDir: join(dir, "data"),
    protocolDirs: [PATTERNS],
    noDataPlane: true,
    exec: new NetnsExecutor(NS),
    logLevel: "silent",
  });
});

after(async () => {
  if (!root) return;
  await agent?.stop();
  await deleteBoxNamespace(NS);
});

const opts = { skip: root ? false : "needs root (network namespaces)" };

/** `value` is exactly what `schema` declares: it parses, and parsing drops nothing. */
function conforms(schema: z.ZodType, value: unknown, what: string): void {
  const r = schema.safeParse(value);
  assert.ok(r.success, `${what}: ${r.error?.message}`);
  assert.deepEqual(
    JSON.parse(JSON.stringify(r.data)),
    value,
    `${what}: fields the contract does not declare`,
  );
}

/** The answer of a route through the typed client, checked against the route's schema. */
async function checked<N extends RouteName>(name: N, p: Promise<ResponseOf<N>>): Promise<ResponseOf<N>> {
  const v = await p;
  conforms(ROUTES[name].response, v, name);
  return v;
}

test("the socket is private and status reports capabilities and the pattern set", opts, async () => {
  assert.equal(statSync(socket).mode & 0o777, 0o660);
  const s = await checked("status", client.status());
  assert.ok(s.summary.some((l) => l.startsWith("variant: leaf=")));
  assert.ok(s.patterns.loaded >= 5);
  assert.equal(s.policy, null);
  assert.equal(s.dataPlane.running, false);
});

test("render: an invalid policy comes back with field paths; a valid one with scripts", opts, async () => {
  const bad = defaultPolicy();
  (bad.classes.upload[0] as { ceil: string }).ceil = "99mbit";
  const r = await checked("render", client.render(bad));
  assert.ok(!r.ok);
  assert.ok(r.issues.some((i) => i.path === "classes.upload[0].ceil"));
  const good = await checked("render", client.render(defaultPolicy()));
  assert.ok(good.ok);
  assert.match(good.scripts.tc, /qdisc add dev wan0 root handle 1: htb/);
  assert.match(good.scripts.iptables, /NFQUEUE/);
});

test(
  "render: the report's injection through the policy name is refused, naming the field",
  opts,
  async () => {
    const p = defaultPolicy();
    p.name = "lab\nCOMMIT\n*filter\n-I INPUT 1 -j DROP\nCOMMIT\n*mangle";
    const r = await client.call<{ ok: boolean; issues: { path: string; message: string }[] }>(
      "POST",
      "/v1/render",
      { policy: p },
    );
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.issues.map((i) => i.path),
      ["name"],
    );
    assert.match(r.issues[0]!.message, /control characters .* found U\+000A/);
    const e = await client.call("POST", "/v1/apply", { policy: p }).catch((x: unknown) => x);
    assert.ok(e instanceof AgentApiError, "apply refuses it too");
  },
);

test("apply, stats move, history, rollback; refusals carry step and issues", opts, async () => {
  const a = await checked("apply", client.apply({ policy: defaultPolicy(), user: "test" }));
  assert.equal(a.entry.status, "applied");
  const bad = defaultPolicy();
  bad.rules!.push({ protocol: "nope", class: "web" });
  await assert.rejects(client.apply({ policy: bad }), (e: unknown) => {
    assert.ok(e instanceof AgentApiError && e.status === 422);
    conforms(ApplyErrorBody, e.body, "apply refusal");
    return (e.body.issues as { path: string }[]).some((i) => i.path === "rules[16].protocol");
  });
  await assert.rejects(client.apply({ policy: defaultPolicy(), trySeconds: 1 }), (e: unknown) => {
    assert.ok(e instanceof AgentApiError && e.status === 400);
    conforms(ErrorBody, e.body, "bad request");
    return true;
  });
  const p2 = defaultPolicy();
  (p2.classes.upload[1] as { rate: string }).rate = "6mbit";
  await checked("apply", client.apply({ policy: p2, user: "test" }));
  const sample = await agent.accounting.tick();
  assert.ok(sample.classes.some((c) => c.device === "wan0" && c.name === "web" && c.rate === 6_000_000));
  const h = await checked("history", client.history());
  // A refused policy never touched the box, so it is not in the history.
  assert.deepEqual(
    h.map((e) => e.status),
    ["applied", "applied"],
  );
  const rb = await checked("rollback", client.rollback({}));
  assert.equal(rb.id, 3);
  const full = await checked("historyEntry", client.historyEntry(rb.id));
  assert.match(full.scripts.tc, /htb/);
  const stats = await checked("stats", client.stats());
  assert.deepEqual(await checked("statsLatest", client.statsLatest()), stats.latest);
  await checked("flows", client.flows());
  await checked("devices", client.devices());
  const s2 = await agent.accounting.tick();
  assert.ok(s2.classes.some((c) => c.device === "wan0" && c.name === "web" && c.rate === 7_000_000));
});

test("the pattern tester shows the verdict and every matching pattern", opts, async () => {
  const r = await checked("testPattern", client.testPattern({ l4: "tcp", text: "SSH-2.0-OpenSSH_9.2\r\n" }));
  assert.equal(r.verdict, "ssh");
  assert.deepEqual(
    r.matches.map((m) => m.name),
    ["ssh"],
  );
});

test("the catalogues and the stats stream answer as the contract says", opts, async () => {
  const protocols = await checked("protocols", client.protocols());
  assert.ok(protocols.some((p) => p.name === "ssh"));
  await checked("apps", client.apps());
  await agent.accounting.tick();
  const first = await new Promise<unknown>((resolve, reject) => {
    const stop = client.stream(ROUTES.statsStream.path, (d) => (stop(), resolve(d)), reject);
  });
  conforms(ROUTES.statsStream.response, first, "stats stream");
});

test("bad requests: unknown route 404, bad JSON 400, unreachable agent a clear error", opts, async () => {
  await assert.rejects(
    client.call("GET", "/v1/nope"),
    (e: unknown) => e instanceof AgentApiError && e.status === 404 && ErrorBody.safeParse(e.body).success,
  );
  await assert.rejects(
    new AgentClient(join(dir, "missing.sock")).call("GET", "/v1/status"),
    (e: unknown) => e instanceof AgentUnreachableError && /is it running\?/.test(e.message),
  );
});
