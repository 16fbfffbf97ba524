// The metrics endpoint of the real agent (TestAgent: the Agent on a fake kernel, made-up
// traffic in its counters), scraped over TCP as Prometheus would: off by default, turned on
// by an apply of policy.metrics, refused on an address that is not loopback or the LAN's,
// guarded by a bearer token, both exposition formats read by parsers, counters that move.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import { AgentApiError, AgentClient } from "@sluice/agent-contract";
import { TestAgent } from "../src/testing/index.ts";
import { renderMetrics } from "../src/metrics/exposition.ts";
import { MetricsEndpoint } from "../src/metrics/endpoint.ts";
import {
  OPENMETRICS_ACCEPT,
  httpGet,
  openMetricsSamples,
  samplesOf,
  valueOf,
} from "../src/testing/scrape.ts";

const SLUICE = fileURLToPath(new URL("../bin/sluice", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sluice-metrics-"));
const socket = join(dir, "agent.sock");
const client = new AgentClient(socket);
let t: TestAgent;
let port: number;

/** A port nobody listens on now (the kernel's pick, released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const withMetrics = (metrics: PolicyInput["metrics"]): PolicyInput => ({ ...defaultPolicy(), metrics });

before(async () => {
  port = await freePort();
  t = await TestAgent.start({
    socket,
    initialPolicy: defaultPolicy(),
    sampleMs: 0,
    interfaces: [
      { name: "lo", speedMbps: null, addresses: ["127.0.0.1", "::1"] },
      { name: "wan0", speedMbps: 100, addresses: ["203.0.113.2"] },
      { name: "lan0", speedMbps: 1000, addresses: ["192.168.77.1", "fe80::1%lan0"] },
    ],
  });
});

after(async () => {
  await t?.stop();
});

test("metrics are off by default: nothing listens, the status says so", async () => {
  const s = await client.status();
  assert.deepEqual(s.metrics, { enabled: false, listen: null, listening: false, auth: "none", error: null });
  assert.ok(
    s.interfaces?.find((i) => i.name === "lan0")?.addresses?.includes("192.168.77.1"),
    "the status reports the interfaces' addresses",
  );
});

test("an address that is not loopback nor the LAN's is refused at its field, the box untouched", async () => {
  const before = (await client.history()).length;
  for (const address of ["203.0.113.2", "198.51.100.9"]) {
    await assert.rejects(
      client.apply({ policy: withMetrics({ enabled: true, address, port }) }),
      (e: unknown) => {
        assert.ok(e instanceof AgentApiError);
        assert.equal(e.status, 422);
        const body = e.body as { issues: { path: string; message: string }[] };
        assert.equal(body.issues[0]?.path, "metrics.address");
        assert.match(
          body.issues[0]!.message,
          /is not loopback nor an address of lan0 \(192\.168\.77\.1, fe80::1\)/,
        );
        return true;
      },
    );
    const dry = await client.render(withMetrics({ enabled: true, address, port }));
    assert.equal(dry.ok, false);
  }
  const wildcard = await client.render(withMetrics({ enabled: true, address: "0.0.0.0", port }));
  assert.ok(!wildcard.ok && wildcard.issues.some((i) => i.path === "metrics.address"));
  assert.equal((await client.history()).length, before, "nothing recorded: refused before the box");
  assert.equal((await client.status()).metrics?.listening, false);
});

test("turned on by an apply: both formats parse, counters per class, protocol and app move", async () => {
  const applied = await client.apply({ policy: withMetrics({ enabled: true, address: "127.0.0.1", port }) });
  const s = await client.status();
  assert.deepEqual(s.metrics, {
    enabled: true,
    listen: `127.0.0.1:${port}`,
    listening: true,
    auth: "none",
    error: null,
  });
  // the CLI in its own process (this one serves the agent, so it must not block)
  const cli = (await promisify(execFile)(SLUICE, ["status", "--socket", socket], { encoding: "utf8" }))
    .stdout;
  assert.match(cli, new RegExp(`^metrics: http://127\\.0\\.0\\.1:${port}/metrics \\(no token\\)$`, "m"));
  await t.sample();
  const url = `http://127.0.0.1:${port}/metrics`;
  const first = await httpGet(url);
  assert.equal(first.status, 200);
  assert.match(first.contentType, /^text\/plain; version=0\.0\.4/);
  const a = samplesOf(first.text);
  await t.sample();
  const om = await httpGet(url, { accept: OPENMETRICS_ACCEPT });
  assert.match(om.contentType, /^application\/openmetrics-text; version=1\.0\.0/);
  const b = openMetricsSamples(om.text);

  // every leaf class of the policy, in both directions, with its counters
  const policy = defaultPolicy();
  for (const dir of ["upload", "download"] as const)
    for (const c of policy.classes[dir]) {
      const l = { direction: dir, class: c.name };
      const before = valueOf(a, "sluice_class_bytes_total", l);
      const after = valueOf(b, "sluice_class_bytes_total", l);
      assert.ok(before !== undefined && after !== undefined, `${dir} ${c.name} is exposed`);
      assert.ok(after > before, `${dir} ${c.name}: bytes moved (${before} → ${after})`);
      assert.ok(valueOf(b, "sluice_class_packets_total", l)! >= valueOf(a, "sluice_class_packets_total", l)!);
      for (const n of [
        "sluice_class_drops_total",
        "sluice_class_backlog_bytes",
        "sluice_class_backlog_packets",
      ])
        assert.notEqual(valueOf(b, n, l), undefined, `${n} ${dir} ${c.name}`);
    }
  // the made-up traffic: ssl/youtube, bittorrent… counted by the accounting chains
  for (const [name, labels] of [
    ["sluice_protocol_bytes_total", { protocol: "ssl" }],
    ["sluice_protocol_bytes_total", { protocol: "bittorrent" }],
    ["sluice_app_bytes_total", { app: "youtube", category: "video-streaming" }],
  ] as const) {
    const x = valueOf(a, name, labels);
    const y = valueOf(b, name, labels);
    assert.ok(x !== undefined && y !== undefined && y > x, `${name} ${JSON.stringify(labels)}: ${x} → ${y}`);
  }
  assert.ok(valueOf(b, "sluice_protocol_connections", { protocol: "ssl" })! >= 2);
  assert.ok(valueOf(b, "sluice_host_connections", { host: "192.168.1.10" })! >= 1, "per LAN host");
  assert.ok(valueOf(b, "sluice_conntrack_connections")! >= 12);
  // apply results and the policy in force
  assert.equal(valueOf(b, "sluice_apply_results_total", { operation: "apply", outcome: "ok" }), 1);
  assert.equal(valueOf(b, "sluice_apply_results_total", { operation: "apply", outcome: "refused" }), 2);
  assert.equal(valueOf(b, "sluice_apply_results_total", { operation: "boot", outcome: "ok" }), 1);
  assert.equal(valueOf(b, "sluice_policy_version"), applied.entry.id);
  assert.equal(valueOf(b, "sluice_policy_applied_timestamp_seconds"), Date.parse(applied.entry.at) / 1000);
  assert.ok(valueOf(b, "sluice_apply_last_timestamp_seconds")! >= Date.parse(applied.entry.at) / 1000 - 1);
  // no data plane in this agent: said so, and classification counts as degraded
  assert.equal(valueOf(b, "sluice_dataplane_up"), 0);
  assert.equal(valueOf(b, "sluice_classification_degraded"), 1);
  for (const n of [
    "sluice_queue_dropped_packets_total",
    "sluice_queue_user_dropped_packets_total",
    "sluice_queue_failopen_packets_total",
    "sluice_flows_inspecting",
    "sluice_flows_decided_total",
  ])
    assert.equal(valueOf(b, n), 0, n);

  // the same families in both formats
  const names = (x: { name: string }[]) => [...new Set(x.map((s) => s.name))].sort();
  assert.deepEqual(names(a), names(b));

  const other = await httpGet(`http://127.0.0.1:${port}/`);
  assert.equal(other.status, 404);
});

test("a bearer token: refused without it or with another, served with it; off again closes the port", async () => {
  const token = "s3cret-token-for-prometheus";
  const sha = createHash("sha256").update(token).digest("hex");
  await client.apply({
    policy: withMetrics({ enabled: true, address: "127.0.0.1", port, bearerTokenSha256: sha }),
  });
  assert.equal((await client.status()).metrics?.auth, "bearer");
  const url = `http://127.0.0.1:${port}/metrics`;
  const none = await httpGet(url);
  assert.equal(none.status, 401);
  assert.doesNotMatch(none.text, /sluice_/);
  assert.equal((await httpGet(url, { authorization: "Bearer wrong" })).status, 401);
  assert.equal((await httpGet(url, { authorization: `Basic ${token}` })).status, 401);
  const ok = await httpGet(url, { authorization: `Bearer ${token}` });
  assert.equal(ok.status, 200);
  assert.ok(samplesOf(ok.text).length > 20);
  // history keeps the digest, never the token
  assert.doesNotMatch(JSON.stringify(await client.history()), new RegExp(token));

  await client.apply({ policy: withMetrics({ enabled: false, address: "127.0.0.1", port }) });
  assert.deepEqual((await client.status()).metrics?.listening, false);
  await assert.rejects(httpGet(url), /ECONNREFUSED/);
});

test("a rollback brings the metrics settings of the policy it goes back to", async () => {
  await client.apply({ policy: withMetrics({ enabled: true, address: "127.0.0.1", port }) });
  await client.apply({ policy: withMetrics({ enabled: false, address: "127.0.0.1", port }) });
  await client.rollback({});
  assert.equal((await client.status()).metrics?.listening, true);
  assert.equal((await httpGet(`http://127.0.0.1:${port}/metrics`)).status, 200);
  const after = samplesOf((await httpGet(`http://127.0.0.1:${port}/metrics`)).text);
  assert.equal(valueOf(after, "sluice_apply_results_total", { operation: "rollback", outcome: "ok" }), 1);
});

test("device rules are exposed per device; LAN hosts carry the names the leases give them", async () => {
  const policy: PolicyInput = {
    ...withMetrics({ enabled: true, address: "127.0.0.1", port }),
    interfaces: {
      wan: { device: "wan0", rate: "20mbit" },
      lan: { device: "lan0", rate: "100mbit", networks: ["192.168.1.0/24"] },
    },
    devices: [{ name: "laptop", hosts: ["192.168.1.10"], download: { rate: "2mbit", ceil: "5mbit" } }],
  };
  await client.apply({ policy });
  await t.sample();
  await t.sample();
  const s = samplesOf((await httpGet(`http://127.0.0.1:${port}/metrics`)).text);
  const l = { direction: "download", device: "laptop" };
  assert.ok(valueOf(s, "sluice_device_bytes_total", l)! > 0, "the device's class carried bytes");
  assert.equal(valueOf(s, "sluice_device_ceil_bits_per_second", l), 5e6);
  for (const n of ["sluice_device_packets_total", "sluice_device_drops_total", "sluice_device_backlog_bytes"])
    assert.notEqual(valueOf(s, n, l), undefined, n);
  assert.equal(valueOf(s, "sluice_device_bytes_total", { direction: "upload", device: "laptop" }), undefined);
  // its class is a class like the others, by interface
  assert.ok(
    valueOf(s, "sluice_class_bytes_total", { direction: "download", interface: "lan0", class: "laptop" })! >
      0,
  );

  // host names: what the accounting sample says (DHCP lease or reverse DNS), "" when none
  const snap = t.agent.metricsSnapshot();
  const sample = snap.sample!;
  const named = {
    ...snap,
    sample: {
      ...sample,
      hosts: [
        { host: "192.168.1.10", name: "laptop.lan", rateBps: 8000, bytes: 1000, connections: 2 },
        { host: "192.168.1.11", name: null, rateBps: 0, bytes: 10, connections: 1 },
      ],
    },
  };
  const text = samplesOf((await renderMetrics(named)).body);
  assert.equal(valueOf(text, "sluice_host_connections", { host: "192.168.1.10", name: "laptop.lan" }), 2);
  assert.equal(valueOf(text, "sluice_host_rate_bits_per_second", { host: "192.168.1.11", name: "" }), 0);
});

test("an address or port not available yet is reported and retried until it is", async () => {
  const busy = await freePort();
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(busy, "127.0.0.1", r));
  const ep = new MetricsEndpoint(() => t.agent.metricsSnapshot());
  try {
    await ep.configure({ address: "127.0.0.1", port: busy });
    const s = ep.state();
    assert.equal(s.listening, false);
    assert.match(
      s.error ?? "",
      /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE \(another program holds that port\)/,
    );
    await new Promise<void>((r) => holder.close(() => r()));
    // the endpoint retries on its own (every 5 s): wait for it, bounded
    for (let i = 0; i < 100 && !ep.state().listening; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(ep.state().listening, true, "listening once the port is free");
    assert.equal(ep.state().error, null);
    assert.equal((await httpGet(`http://127.0.0.1:${busy}/metrics`)).status, 200);
  } finally {
    await ep.stop();
    holder.close();
  }
  assert.equal(ep.state().enabled, false);
});

test("quotas and schedule windows of the policy in force are exposed", async () => {
  const snap = t.agent.metricsSnapshot();
  assert.deepEqual(snap.quotas, [], "the default policy has no quotas");
  assert.equal(snap.schedule, null);
  const periodEnds = "2026-12-07T00:00:00.000Z";
  const text = samplesOf(
    (
      await renderMetrics({
        ...snap,
        quotas: [
          {
            name: "kids",
            target: "address 192.168.1.20",
            period: "day",
            periodKey: "2026-12-06",
            periodEnds,
            allowance: 5e9,
            used: 6e9,
            demoteTo: "bulk",
            demoted: true,
          },
        ],
        schedule: {
          timeZone: "Europe/Berlin",
          active: ["workday"],
          next: { at: periodEnds, starts: [], ends: ["workday"] },
        },
      })
    ).body,
  );
  const l = { quota: "kids", target: "address 192.168.1.20", period: "day" };
  assert.equal(valueOf(text, "sluice_quota_used_bytes", l), 6e9);
  assert.equal(valueOf(text, "sluice_quota_allowance_bytes", l), 5e9);
  assert.equal(valueOf(text, "sluice_quota_demoted", l), 1);
  assert.equal(valueOf(text, "sluice_quota_period_end_timestamp_seconds", l), Date.parse(periodEnds) / 1000);
  assert.equal(valueOf(text, "sluice_schedule_window_active", { window: "workday" }), 1);
  assert.equal(valueOf(text, "sluice_schedule_next_change_timestamp_seconds"), Date.parse(periodEnds) / 1000);
});

test("flows being inspected are the ones inside their window, not the decided ones the workers remember", async () => {
  const snap = t.agent.metricsSnapshot();
  const dataPlane = {
    packets: 10,
    bytes: 1000,
    passthrough: 0,
    decided: 7,
    late: 0,
    verdicts: { 3: 7 },
    enobufs: 0,
    queueDropped: 0,
    userDropped: 0,
    unseen: 0,
    waiting: 0,
    activeFlows: 9,
    inspectingFlows: 2,
    restarts: 0,
  };
  const text = samplesOf((await renderMetrics({ ...snap, dataPlane })).body);
  assert.equal(valueOf(text, "sluice_flows_inspecting"), 2);
  assert.equal(valueOf(text, "sluice_flows_decided_total"), 7);
});
