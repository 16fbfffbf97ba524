// The Grafana dashboard (deploy/grafana/sluice-dashboard.json) against what the agent really
// exposes: every query parses as PromQL (Prometheus's own grammar, @prometheus-io/lezer-promql),
// every metric it selects is a family of a real scrape of the agent's endpoint, and every
// label it matches or groups by is a label of that metric. A renamed metric or label fails here.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parser } from "@prometheus-io/lezer-promql";
import type { SyntaxNode } from "@lezer/common";
import parsePrometheus from "parse-prometheus-text-format";
import { defaultPolicy } from "@sluice/policy";
import { TestAgent } from "../src/testing/index.ts";
import { renderMetrics } from "../src/metrics/exposition.ts";
import { httpGet } from "../src/testing/scrape.ts";

const DASHBOARD = fileURLToPath(new URL("../../../deploy/grafana/sluice-dashboard.json", import.meta.url));
/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = new Set(["instance", "job"]);
let agent: TestAgent | null = null;
after(async () => agent?.stop());

/** Every PromQL expression of the dashboard: panel targets, annotations, variable queries. */
function expressions(dash: unknown): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (v: unknown, where: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        if (k === "expr" && typeof x === "string") out.push({ where, expr: x });
        else if (k === "query" && typeof x === "string") {
          // label_values(metric, label): the variable's metric and label
          const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(x);
          out.push({ where: `${where}.query`, expr: m ? `${m[1]}{${m[2]}=""}` : x });
        } else walk(x, `${where}.${k}`);
      }
  };
  walk(dash, "dashboard");
  return out;
}

/** Grafana's variables replaced by what they stand for, so the text is plain PromQL. */
const plain = (expr: string) =>
  expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__interval", "1m")
    .replaceAll("$__range", "1h")
    .replace(/\$\{?instance\}?/g, ".*");

interface Selector {
  metric: string;
  labels: string[];
}

/** The vector selectors (metric and matched labels) and grouping labels of an expression. */
function analyse(expr: string): { errors: number; selectors: Selector[]; grouping: string[] } {
  const tree = parser.parse(expr);
  let errors = 0;
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) errors++;
      if (ref.name === "VectorSelector") {
        const n = ref.node;
        const id = n.getChild("Identifier");
        const labels: string[] = [];
        const matchers = n.getChild("LabelMatchers");
        for (let c = matchers?.firstChild; c; c = c.nextSibling) {
          const name = c.getChild("LabelName");
          if (name) labels.push(text(name));
        }
        if (id) selectors.push({ metric: text(id), labels });
      }
      if (ref.name === "GroupingLabels" || ref.name === "OnOrIgnoring")
        for (let c = ref.node.firstChild; c; c = c.nextSibling)
          if (c.name === "LabelName") grouping.push(text(c));
    },
  });
  return { errors, selectors, grouping };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

test("every metric and label the Grafana dashboard queries exists in a scrape of the agent", async () => {
  const port = await freePort();
  agent = await TestAgent.start({
    socket: join(mkdtempSync(join(tmpdir(), "sluice-grafana-")), "agent.sock"),
    // a device rule, so the device families have samples (and labels) too
    initialPolicy: {
      ...defaultPolicy(),
      interfaces: {
        wan: { device: "wan0", rate: "20mbit" },
        lan: { device: "lan0", rate: "100mbit", networks: ["192.168.1.0/24"] },
      },
      devices: [{ name: "laptop", hosts: ["192.168.1.10"], download: { rate: "2mbit" } }],
      metrics: { enabled: true, address: "127.0.0.1", port },
    },
    sampleMs: 0,
  });
  await agent.sample();
  await agent.sample();
  const scrape = await httpGet(`http://127.0.0.1:${port}/metrics`);
  assert.equal(scrape.status, 200);
  const families = new Set(parsePrometheus(scrape.text).map((f) => f.name));
  // Labels per metric: from the same renderer, with the data plane's counters, a quota and a
  // schedule window filled in (this agent has none, so those families have no sample to read
  // the labels from).
  const snap = agent.agent.metricsSnapshot();
  const withDataPlane = await renderMetrics({
    ...snap,
    quotas: [
      {
        name: "q",
        target: "class p2p",
        period: "day",
        periodKey: "2026-12-06",
        periodEnds: new Date().toISOString(),
        allowance: 1,
        used: 0,
        demoteTo: "bulk",
        demoted: false,
      },
    ],
    schedule: { timeZone: "UTC", active: ["w"], next: null },
    dataPlane: {
      packets: 10,
      bytes: 1000,
      passthrough: 0,
      decided: 1,
      late: 0,
      verdicts: { 3: 1 },
      enobufs: 0,
      queueDropped: 0,
      userDropped: 0,
      unseen: 0,
      waiting: 0,
      activeFlows: 1,
      restarts: 0,
    },
  });
  const labels = new Map<string, Set<string>>();
  for (const f of parsePrometheus(withDataPlane.body)) {
    assert.ok(families.has(f.name), `${f.name} is in the real scrape too`);
    const set = labels.get(f.name) ?? new Set<string>();
    for (const m of f.metrics) for (const l of Object.keys(m.labels ?? {})) set.add(l);
    labels.set(f.name, set);
  }

  const dash: unknown = JSON.parse(readFileSync(DASHBOARD, "utf8"));
  const exprs = expressions(dash);
  assert.ok(exprs.length >= 20, `the dashboard has queries (${exprs.length})`);
  const used = new Set<string>();
  for (const { where, expr } of exprs) {
    const a = analyse(plain(expr));
    assert.equal(a.errors, 0, `${where}: ${expr} is not valid PromQL`);
    assert.ok(a.selectors.length > 0, `${where}: ${expr} selects no metric`);
    const known = new Set<string>(TARGET_LABELS);
    for (const s of a.selectors) {
      used.add(s.metric);
      assert.ok(families.has(s.metric), `${where}: ${s.metric} is not exposed by the agent`);
      for (const l of s.labels)
        assert.ok(
          TARGET_LABELS.has(l) || labels.get(s.metric)?.has(l),
          `${where}: ${s.metric} has no label "${l}" (it has ${[...(labels.get(s.metric) ?? [])].join(", ")})`,
        );
      for (const l of labels.get(s.metric) ?? []) known.add(l);
    }
    for (const l of a.grouping)
      assert.ok(known.has(l), `${where}: grouping by "${l}", a label none of its metrics has`);
  }
  // the dashboard covers each part of the exposition
  for (const m of [
    "sluice_class_bytes_total",
    "sluice_class_drops_total",
    "sluice_class_backlog_bytes",
    "sluice_protocol_bytes_total",
    "sluice_app_bytes_total",
    "sluice_host_rate_bits_per_second",
    "sluice_device_bytes_total",
    "sluice_device_drops_total",
    "sluice_queue_failopen_packets_total",
    "sluice_apply_results_total",
    "sluice_policy_version",
    "sluice_quota_used_bytes",
    "sluice_schedule_window_active",
  ])
    assert.ok(used.has(m), `the dashboard shows ${m}`);
});

test("the check itself: an unknown metric, a wrong label and broken PromQL are caught", () => {
  assert.ok(analyse('rate(sluice_class_bytes_total{leaf="true"}[5m]').errors > 0, "unbalanced parenthesis");
  const a = analyse('sum by (clas) (rate(sluice_class_bytez_total{directon="upload"}[1m]))');
  assert.equal(a.errors, 0);
  assert.deepEqual(a.selectors, [{ metric: "sluice_class_bytez_total", labels: ["directon"] }]);
  assert.deepEqual(a.grouping, ["clas"]);
  assert.equal(plain('x{instance=~"$instance"}[$__rate_interval]'), 'x{instance=~".*"}[1m]');
});
