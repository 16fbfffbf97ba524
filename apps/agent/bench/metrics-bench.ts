// What a scrape of the metrics endpoint costs the agent: renderMetrics (a fresh prom-client
// registry, both formats) on a large box — 2 × 200 classes, 70 protocols, 109 apps, 20 hosts,
// 64 device rules — against the baseline of the same run: JSON.stringify of the same
// accounting sample (what one /v1/stats stream event costs). Rounds alternate; CPU time of the
// process, best round. No assertion: it prints the ratio (docs/bench.md).

import { loadavg } from "node:os";
import {
  renderMetrics,
  OPENMETRICS,
  PROMETHEUS_TEXT,
  type MetricsSnapshot,
} from "../src/metrics/exposition.ts";
import type { StatsSample } from "../src/stats/accounting.ts";

const classes = (["upload", "download"] as const).flatMap((direction) =>
  Array.from({ length: 200 }, (_, i) => ({
    device: direction === "upload" ? "wan0" : "lan0",
    direction,
    classid: `1:${(0x10 + i).toString(16)}`,
    name: i < 136 ? `class${i}` : `device${i - 136}`,
    leaf: true,
    bytes: 1e9 + i * 12345,
    packets: 1e6 + i,
    drops: i,
    overlimits: i * 3,
    backlogBytes: i * 100,
    backlogPackets: i,
    rateBps: 1e6 * i,
    rate: 1e6,
    ceil: 1e8,
  })),
);
const sample: StatsSample = {
  t: Date.now(),
  classes,
  protocols: Array.from({ length: 70 }, (_, i) => ({
    protocol: `proto${i}`,
    bytes: 1e8 * i,
    packets: 1e5 * i,
    rateBps: 1e5,
    connections: i,
  })),
  apps: Array.from({ length: 109 }, (_, i) => ({
    app: `app${i}`,
    title: `App ${i}`,
    category: `cat${i % 14}`,
    bytes: 1e7 * i,
    packets: 1e4 * i,
    rateBps: 1e4,
    connections: i,
  })),
  categories: [],
  hosts: Array.from({ length: 20 }, (_, i) => ({
    host: `192.168.1.${10 + i}`,
    name: `host${i}.lan`,
    rateBps: 1e6,
    bytes: 1e9,
    connections: 40,
  })),
  connections: [],
  totals: { uploadBps: 1e7, downloadBps: 5e7, drops: 10, connections: 5000 },
  conntrack: { at: Date.now(), ms: 5, entries: 5000 },
};
const snapshot: MetricsSnapshot = {
  version: "bench",
  startedAt: Date.now(),
  sample,
  dataPlane: {
    packets: 1e7,
    bytes: 1e9,
    passthrough: 0,
    decided: 1e5,
    late: 3,
    verdicts: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [i + 3, 100 * i])),
    enobufs: 0,
    queueDropped: 0,
    userDropped: 0,
    unseen: 0,
    waiting: 0,
    activeFlows: 300,
    restarts: 0,
  },
  health: {
    degraded: false,
    reasons: [],
    windowSeconds: 60,
    queueDropped: 0,
    userDropped: 0,
    unseen: 0,
    lateKernel: 3,
    lateSeen: 3,
    uninspected: 0,
    restarts: 0,
  },
  protocolOf: (m) => `proto${m - 3}`,
  applies: [{ operation: "apply", outcome: "ok", count: 12 }],
  lastApplyAt: Date.now(),
  quotas: [],
  schedule: null,
  deviceClasses: classes
    .filter((c) => c.name.startsWith("device"))
    .map((c) => ({ iface: c.device, classid: c.classid, device: c.name })),
  policy: { id: 12, name: "bench", at: new Date().toISOString() },
  trying: false,
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function round(fn: () => Promise<unknown> | unknown, n: number): Promise<number> {
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) await fn();
  return (cpuMs() - t0) / n;
}

const N = 40;
const best = { om: Infinity, text: Infinity, json: Infinity };
let size = { om: 0, text: 0, json: 0 };
for (let r = 0; r < 7; r++) {
  best.json = Math.min(best.json, await round(() => JSON.stringify(sample), N * 10));
  best.om = Math.min(best.om, await round(() => renderMetrics(snapshot, OPENMETRICS), N));
  best.text = Math.min(best.text, await round(() => renderMetrics(snapshot, PROMETHEUS_TEXT), N));
}
size = {
  om: (await renderMetrics(snapshot, OPENMETRICS)).body.length,
  text: (await renderMetrics(snapshot, PROMETHEUS_TEXT)).body.length,
  json: JSON.stringify(sample).length,
};
const series = (await renderMetrics(snapshot, OPENMETRICS)).body
  .split("\n")
  .filter((l) => l && !l.startsWith("#")).length;
console.log(
  `# metrics scrape, ${series} series, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
console.log(
  `baseline JSON.stringify(sample)   ${best.json.toFixed(3)} ms CPU  ${(size.json / 1024).toFixed(0)} KiB`,
);
console.log(
  `OpenMetrics scrape                ${best.om.toFixed(3)} ms CPU  ${(size.om / 1024).toFixed(0)} KiB  ×${(best.om / best.json).toFixed(1)} the baseline`,
);
console.log(
  `Prometheus text scrape            ${best.text.toFixed(3)} ms CPU  ${(size.text / 1024).toFixed(0)} KiB  ×${(best.text / best.json).toFixed(1)} the baseline`,
);
