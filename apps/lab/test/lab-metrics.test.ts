// The metrics endpoint on the real box (the lab's namespaces): the agent serves it on the
// box's LAN address with a bearer token, a LAN client scrapes it (the WAN side cannot
// reach it), and between two scrapes an HTTP download from a LAN client moves the counters of
// its class, its protocol and the data plane's verdicts. Both exposition formats are read by
// parsers. Needs root; uses the lab's own namespaces (SLUICE_LAB_PREFIX) and protocols/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { PolicyInput } from "@sluice/policy";
import { LAB, execInNs, LabAgent } from "../src/index.ts";
import { rootOnly as opts, labWithAgent, labPolicy, applyPolicy, curlFromLan } from "./support/lab-suite.ts";
import {
  OPENMETRICS_ACCEPT,
  openMetricsSamples,
  samplesOf,
  valueOf,
  type Sample,
} from "@sluice/agent/src/testing/scrape.ts";

const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const agent = new LabAgent(PROTOCOLS);
const PORT = 9712;
const TOKEN = "lab-scrape-token";
const URL_LAN = `http://${LAB.v4.boxLan}:${PORT}/metrics`;
const DOWNLOAD_MB = 8;

// 1:10 web (HTTP), 1:11 other (default)
const tree = [
  { name: "web", rate: "20mbit", ceil: "40mbit", priority: 1 },
  { name: "other", rate: "10mbit", ceil: "40mbit", priority: 3, default: true },
];
const policy: PolicyInput = labPolicy("lab-metrics", tree, [{ protocol: "http", class: "web" }], {
  metrics: {
    enabled: true,
    address: LAB.v4.boxLan,
    port: PORT,
    bearerTokenSha256: createHash("sha256").update(TOKEN).digest("hex"),
  },
});

/** Scrapes from a namespace with curl: status, content type and body. */
async function scrape(ns: string, url: string, headers: string[], maxTime = 10) {
  const r = await execInNs(
    ns,
    [
      "curl",
      "-s",
      "--max-time",
      String(maxTime),
      ...headers.flatMap((h) => ["-H", h]),
      "-w",
      "\n%{http_code} %{content_type}",
      url,
    ],
    { allowFail: true },
  );
  const cut = r.stdout.lastIndexOf("\n");
  const [status, ...type] = r.stdout.slice(cut + 1).split(" ");
  return { code: r.code, status: Number(status), contentType: type.join(" "), text: r.stdout.slice(0, cut) };
}

const auth = `Authorization: Bearer ${TOKEN}`;

/** Scrapes (Prometheus text) until the agent's accounting sample is newer than `t` (ms). */
async function scrapeAfter(t: number): Promise<Sample[]> {
  for (let i = 0; i < 60; i++) {
    const s = await scrape(LAB.ns.lan, URL_LAN, [auth]);
    assert.equal(s.status, 200, s.text);
    const samples = samplesOf(s.text);
    if ((valueOf(samples, "sluice_stats_sample_timestamp_seconds") ?? 0) * 1000 > t) return samples;
    await sleep(500);
  }
  throw new Error("the agent took no accounting sample in 30 s");
}

labWithAgent(agent);

test(
  "a LAN client scrapes the box's metrics; an HTTP download moves its class, protocol and verdict counters",
  opts,
  async () => {
    const applied = await applyPolicy(agent, policy);
    const status = await agent.client.call<{ metrics: { listening: boolean; listen: string } }>(
      "GET",
      "/v1/status",
    );
    assert.deepEqual(
      { listening: status.metrics.listening, listen: status.metrics.listen },
      { listening: true, listen: `${LAB.v4.boxLan}:${PORT}` },
    );

    // only on the LAN address, only with the token
    assert.equal((await scrape(LAB.ns.lan, URL_LAN, [])).status, 401);
    const fromWan = await scrape(LAB.ns.wan, `http://${LAB.v4.boxWan}:${PORT}/metrics`, [auth], 3);
    assert.notEqual(fromWan.status, 200, "not served on the WAN address");

    const a = await scrapeAfter(Date.now());
    const download = await curlFromLan(`http://${LAB.v4.server}:${LAB.ports.http}/bulk?mb=${DOWNLOAD_MB}`, {
      from: LAB.v4.clients[0],
      maxTime: 60,
      write: "%{http_code} %{size_download}",
    });
    assert.equal(
      download.stdout.split(" ")[0],
      "200",
      `the download worked: ${download.stdout} ${download.stderr}`,
    );
    const done = Date.now();
    const b = await scrapeAfter(done);

    const moved = (name: string, labels: Record<string, string>) => {
      const x = valueOf(a, name, labels) ?? 0;
      const y = valueOf(b, name, labels);
      assert.ok(y !== undefined, `${name} ${JSON.stringify(labels)} is in the second scrape`);
      return y - x;
    };
    const bytes = DOWNLOAD_MB * 1024 * 1024;
    const web = moved("sluice_class_bytes_total", { direction: "download", interface: "lan0", class: "web" });
    assert.ok(web >= bytes, `the web class sent ${web} bytes, the download was ${bytes}`);
    const other = moved("sluice_class_bytes_total", {
      direction: "download",
      interface: "lan0",
      class: "other",
    });
    assert.ok(other < bytes / 10, `the default class did not carry it (${other} bytes)`);
    const http = moved("sluice_protocol_bytes_total", { protocol: "http" });
    assert.ok(http >= bytes, `the http protocol counter moved by ${http} bytes`);
    assert.ok(moved("sluice_protocol_packets_total", { protocol: "http" }) > 0);
    assert.ok(
      moved("sluice_flow_verdicts_total", { protocol: "http" }) >= 1,
      "the data plane decided it http",
    );
    assert.ok(moved("sluice_flows_decided_total", {}) >= 1);
    assert.equal(valueOf(b, "sluice_dataplane_up"), 1);
    assert.equal(valueOf(b, "sluice_policy_version"), applied.id);
    assert.equal(valueOf(b, "sluice_apply_results_total", { operation: "apply", outcome: "ok" }), 1);
    for (const n of ["sluice_queue_dropped_packets_total", "sluice_queue_failopen_packets_total"])
      assert.notEqual(valueOf(b, n), undefined, n);

    // OpenMetrics, as Prometheus asks for it
    const om = await scrape(LAB.ns.lan, URL_LAN, [auth, `Accept: ${OPENMETRICS_ACCEPT}`]);
    assert.equal(om.status, 200);
    assert.match(om.contentType, /^application\/openmetrics-text; version=1\.0\.0/);
    const c = openMetricsSamples(`${om.text}`);
    const webNow = valueOf(c, "sluice_class_bytes_total", {
      direction: "download",
      interface: "lan0",
      class: "web",
    });
    assert.ok(
      webNow !== undefined &&
        webNow >=
          valueOf(b, "sluice_class_bytes_total", { direction: "download", interface: "lan0", class: "web" })!,
    );
  },
);
