// The read side: live stats and the minute roll-up, protocols (catalogue, pattern tester,
// capture upload), flows, settings and users; and what the pages get while the agent is down.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { tcpConversation, ethernetFrame, pcapFile } from "../../classifier/test/helpers/frames.ts";
import { floorMinute } from "@sluice/db";
import { StatsHub } from "../src/index.ts";
import { harness, adminBrowser, trpcError, type Browser, type Harness } from "./harness.ts";

let h: Harness;
let admin: Browser;
before(async () => {
  h = await harness();
  admin = await adminBrowser(h);
});
after(() => h.close());

test("live stats from the agent's ring, with per-class drops per second", async () => {
  for (let i = 0; i < 3; i++) await h.agent.sample();
  const live = await (await admin.api()).stats.getLive({ since: 0 });
  assert.equal(live.samples.length, 3);
  const s = live.samples.at(-1)!;
  assert.ok(s.classes.some((c) => c.direction === "upload" && c.name === "web"));
  assert.ok(
    s.classes.every((c) => c.name !== "link"),
    "leaves only",
  );
  assert.ok(live.hosts.length > 0);
  const later = await (await admin.api()).stats.getLive({ since: s.t });
  assert.equal(later.samples.length, 0);
});

test("the roll-up stores finished minutes per class and protocol; the history reads them", async () => {
  const hub = new StatsHub(h.deps.agent, h.db);
  const now = Date.now();
  const start = floorMinute(now - 3 * 60_000).getTime();
  const base = await h.agent.sample();
  for (let i = 0; i < 120; i++) {
    const s = structuredClone(base);
    s.t = start + i * 1000;
    for (const c of s.classes) c.bytes += i * 125_000;
    for (const p of s.protocols) p.bytes += i * 1000;
    hub.ingest(s);
  }
  const r = await hub.rollUpNow(now);
  assert.ok(r.classes > 0 && r.protocols > 0);
  const hist = await (await admin.api()).stats.getHistory({ hours: 1 });
  const web = hist.classes.filter((c) => c.name === "web" && c.direction === "upload");
  assert.ok(web.length >= 1);
  assert.ok(hist.protocols.some((p) => p.protocol === "ssl" && p.rateBps > 0));
});

test("the catalogue is cached from the agent; the pattern tester and capture classifier answer", async () => {
  const list = await (await admin.api()).protocols.listProtocols();
  assert.ok(list.protocols.some((p) => p.name === "ssl" && p.aliases.includes("tls")));
  const t = await (
    await admin.api()
  ).protocols.testPattern({ l4: "tcp", dir: "c2s", text: "GET / HTTP/1.1\r\n" });
  assert.equal(t.ok && t.verdict, "http");
  const hex = await (
    await admin.api()
  ).protocols.testPattern({ l4: "tcp", dir: "s2c", hex: "53 53 48 2d 32 2e 30 2d" });
  assert.equal(hex.ok && hex.verdict, "ssh");
  const odd = await (await admin.api()).protocols.testPattern({ l4: "tcp", dir: "c2s", hex: "123" });
  assert.equal(odd.ok, false);
  // 100 KB is refused by the input check, in words (the classifier reads 2 KiB)
  const big = await trpcError(async () =>
    (await admin.api()).protocols.testPattern({ l4: "tcp", dir: "c2s", text: "A".repeat(100_000) }),
  );
  assert.equal(big.code, "BAD_REQUEST");
  assert.match(big.message, /at most 8 KiB: the classifier only reads the first 2 KiB of a connection/);

  const frames = tcpConversation(
    ["10.0.0.2", 40000],
    ["10.0.0.1", 80],
    [
      { dir: "c2s", data: "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n" },
      { dir: "s2c", data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" },
    ],
  ).map((f) => ethernetFrame(f));
  const pcap = pcapFile(frames);
  const c = await (
    await admin.api()
  ).protocols.classifyCapture({
    name: "web.pcap",
    dataBase64: pcap.toString("base64"),
  });
  assert.equal(c.format, "pcap");
  assert.equal(c.flows.length, 1);
  assert.equal(c.flows[0]!.protocol, "http");
  assert.ok(c.patterns > 10, "Sluice's own pattern set");
  const junk = await (
    await admin.api()
  ).protocols.classifyCapture({ name: "junk.pcap", dataBase64: "aGVsbG8=" });
  assert.ok(junk.error);
});

test("flows carry protocol, class and rate", async () => {
  await h.agent.sample();
  const f = await (await admin.api()).flows.listFlows();
  assert.equal(f.live, true);
  const ssl = f.connections.find((c) => c.protocol === "ssl");
  assert.equal(ssl?.className, "web");
  assert.ok(f.decided.length > 0);
});

test("settings: interfaces validated against the classes; users added, removed, passwords changed", async () => {
  const s = await (await admin.api()).settings.getSettings();
  assert.equal(s.interfaces.wan.device, "wan0");
  const e = await trpcError(async () =>
    (await admin.api()).settings.saveInterfaces({
      wan: { device: "eth0", rate: "1mbit" },
      lan: { device: "eth1", rate: "20mbit" },
    }),
  );
  assert.equal(e.code, "BAD_REQUEST");
  const ok = await (
    await admin.api()
  ).settings.saveInterfaces({
    wan: { device: "eth0", rate: "20mbit" },
    lan: { device: "eth1", rate: "20mbit" },
  });
  assert.equal(ok.interfaces.wan.device, "eth0");

  const u = await (
    await admin.api()
  ).users.createUser({ username: "ops", password: "ops-password", role: "admin" });
  const dup = await trpcError(async () =>
    (await admin.api()).users.createUser({ username: "OPS", password: "ops-password", role: "viewer" }),
  );
  assert.equal(dup.code, "CONFLICT");
  const self = await trpcError(async () => (await admin.api()).users.removeUser({ id: 1 }));
  assert.equal(self.code, "BAD_REQUEST");
  const ops = h.browser({ ip: "192.0.2.77" });
  await ops.signIn("ops", "ops-password");
  const wrong = await trpcError(async () =>
    (await ops.api()).users.changePassword({ current: "nope", next: "new-password-1" }),
  );
  assert.equal(wrong.code, "BAD_REQUEST");
  // a session alone cannot take its own account: resetting one's own password is refused
  const ownReset = await trpcError(async () =>
    (await ops.api()).users.setPassword({ id: u.id, password: "taken-over-1" }),
  );
  assert.equal(ownReset.code, "BAD_REQUEST");
  assert.match(ownReset.message, /current password/);
  await (await ops.api()).users.changePassword({ current: "ops-password", next: "new-password-1" });
  await (await admin.api()).users.removeUser({ id: u.id });
  const gone = await trpcError(async () => (await ops.api()).policy.getPolicy());
  assert.equal(gone.code, "UNAUTHORIZED", "a removed user's session ends");
  const audit = await (await admin.api()).audit.listAudit({ limit: 100 });
  for (const a of ["user.create", "user.password", "user.remove", "settings.interfaces"])
    assert.ok(
      audit.items.some((x) => x.action === a),
      a,
    );
});

test("agent down: health says so with the cached status; pages get cached data or a clear error", async () => {
  await (await admin.api()).agent.getHealth();
  await h.agent.stop();
  const health = await (await admin.api()).agent.getHealth();
  assert.equal(health.reachable, false);
  assert.match(health.error ?? "", /not reachable/);
  assert.ok(health.status, "the last status is kept");
  assert.ok(health.capabilities.some((c) => c.label === "leaves" && /pfifo \(sch_sfq/.test(c.value)));
  assert.ok(
    health.capabilities.some(
      (c) => c.label === "marks → classes" && c.value === "nftables maps" && !c.fallback,
    ),
  );
  assert.ok(
    health.capabilities.some(
      // this kernel's variant: nftables with the ftp, sip and tftp conntrack helpers
      (c) =>
        c.label === "related connections" && !c.fallback && /followed by the conntrack helpers/.test(c.value),
    ),
  );
  assert.ok(health.downSince);
  const e = await trpcError(async () => (await admin.api()).deploy.previewApply());
  assert.equal(e.code, "SERVICE_UNAVAILABLE");
  const hist = await (await admin.api()).deploy.listHistory();
  assert.equal(hist.agentReachable, false);
  const flows = await (await admin.api()).flows.listFlows();
  assert.equal(flows.live, false);
  assert.ok(flows.connections.length > 0, "the last flows seen");
  const protocols = await (await admin.api()).protocols.listProtocols();
  assert.ok(protocols.protocols.length > 0, "from the cache");
  assert.ok((await (await admin.api()).policy.getPolicy()).policy);
});
