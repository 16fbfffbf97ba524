// The agent's control API end to end: a real Agent (without the data plane) in a namespace
// made for the test, reached through the AgentClient over its unix socket.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultPolicy } from "@sluice/policy";
import { SystemExecutor, NetnsExecutor } from "../src/kernel/executor.ts";
import { Agent } from "../src/daemon/agent.ts";
import { AgentClient, AgentApiError, AgentUnreachableError } from "../src/api/client.ts";

const NS = "sltest-api";
const root = process.getuid?.() === 0;
const sys = new SystemExecutor();
const dir = mkdtempSync(join(tmpdir(), "sluice-api-"));
const socket = join(dir, "agent.sock");
const PATTERNS = fileURLToPath(new URL("./fixtures/patterns", import.meta.url));
let agent: Agent;
const client = new AgentClient(socket);

before(async () => {
  if (!root) return;
  await sys.run(["ip", "netns", "del", NS]);
  for (const argv of [
    ["ip", "netns", "add", NS],
    ["ip", "-n", NS, "link", "add", "wan0", "type", "veth", "peer", "name", "wanp"],
    ["ip", "-n", NS, "link", "add", "lan0", "type", "veth", "peer", "name", "lanp"],
    ["ip", "-n", NS, "link", "set", "wan0", "up"],
    ["ip", "-n", NS, "link", "set", "lan0", "up"],
  ]) {
    assert.equal((await sys.run(argv)).code, 0, argv.join(" "));
  }
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
  await sys.run(["ip", "netns", "del", NS]);
});

const opts = { skip: root ? false : "needs root (network namespaces)" };

test("the socket is private and status reports capabilities and the pattern set", opts, async () => {
  assert.equal(statSync(socket).mode & 0o777, 0o660);
  const s = await client.call<{
    summary: string[];
    patterns: { loaded: number };
    policy: unknown;
    dataPlane: { running: boolean };
  }>("GET", "/v1/status");
  assert.ok(s.summary.some((l) => l.startsWith("variant: leaf=")));
  assert.ok(s.patterns.loaded >= 5);
  assert.equal(s.policy, null);
  assert.equal(s.dataPlane.running, false);
});

test("render: an invalid policy comes back with field paths; a valid one with scripts", opts, async () => {
  const bad = defaultPolicy();
  (bad.classes.upload[0] as { ceil: string }).ceil = "99mbit";
  const r = await client.call<{ ok: boolean; issues: { path: string }[] }>("POST", "/v1/render", {
    policy: bad,
  });
  assert.equal(r.ok, false);
  assert.ok(r.issues.some((i) => i.path === "classes.upload[0].ceil"));
  const good = await client.call<{ ok: boolean; scripts: { tc: string; iptables: string } }>(
    "POST",
    "/v1/render",
    { policy: defaultPolicy() },
  );
  assert.equal(good.ok, true);
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
  const a = await client.call<{ entry: { id: number; status: string } }>("POST", "/v1/apply", {
    policy: defaultPolicy(),
    user: "test",
  });
  assert.equal(a.entry.status, "applied");
  const bad = defaultPolicy();
  bad.rules!.push({ protocol: "nope", class: "web" });
  await assert.rejects(
    client.call("POST", "/v1/apply", { policy: bad }),
    (e: unknown) =>
      e instanceof AgentApiError &&
      e.status === 422 &&
      (e.body.issues as { path: string }[]).some((i) => i.path === "rules[16].protocol"),
  );
  await assert.rejects(
    client.call("POST", "/v1/apply", { policy: defaultPolicy(), trySeconds: 1 }),
    (e: unknown) => e instanceof AgentApiError && e.status === 400,
  );
  const p2 = defaultPolicy();
  (p2.classes.upload[1] as { rate: string }).rate = "6mbit";
  await client.call("POST", "/v1/apply", { policy: p2, user: "test" });
  const sample = await agent.accounting.tick();
  assert.ok(sample.classes.some((c) => c.device === "wan0" && c.name === "web" && c.rate === 6_000_000));
  const h = await client.call<{ id: number; status: string; lastGood: boolean }[]>("GET", "/v1/history");
  // A refused policy never touched the box, so it is not in the history.
  assert.deepEqual(
    h.map((e) => e.status),
    ["applied", "applied"],
  );
  const rb = await client.call<{ id: number }>("POST", "/v1/rollback", {});
  assert.equal(rb.id, 3);
  const s2 = await agent.accounting.tick();
  assert.ok(s2.classes.some((c) => c.device === "wan0" && c.name === "web" && c.rate === 7_000_000));
});

test("the pattern tester shows the verdict and every matching pattern", opts, async () => {
  const r = await client.call<{ verdict: string; matches: { name: string }[] }>("POST", "/v1/test-pattern", {
    l4: "tcp",
    text: "SSH-2.0-OpenSSH_9.2\r\n",
  });
  assert.equal(r.verdict, "ssh");
  assert.deepEqual(
    r.matches.map((m) => m.name),
    ["ssh"],
  );
});

test("bad requests: unknown route 404, bad JSON 400, unreachable agent a clear error", opts, async () => {
  await assert.rejects(
    client.call("GET", "/v1/nope"),
    (e: unknown) => e instanceof AgentApiError && e.status === 404,
  );
  await assert.rejects(
    new AgentClient(join(dir, "missing.sock")).call("GET", "/v1/status"),
    (e: unknown) => e instanceof AgentUnreachableError && /is it running\?/.test(e.message),
  );
});
