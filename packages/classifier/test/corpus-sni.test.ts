// Host names against nDPI on the real captures of the corpus (../shared/corpus/ndpi): for
// every DPI-confidence TLS and QUIC flow nDPI gives a host name, the name Sluice read from
// the ClientHello (TLS SNI or QUIC SNI, including gQUIC CHLOs) must be nDPI's, exactly.
// The rate is printed; a chosen set of flows (QUIC v1, v2, drafts, mvfst, gQUIC Q046/Q050/
// T050, out-of-order CRYPTO, a ClientHello over two TCP segments, ECH) must match exactly.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { classifyCaptureFile, loadPatternDirs, type FlowRecord } from "../src/index.ts";
import { findFlow, indexFlows } from "../bench/ndpi-flows.ts";
import type { NdpiLabel } from "../bench/ndpi-names.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CORPUS = resolve(ROOT, "../shared/corpus/ndpi");
const present = existsSync(join(CORPUS, "index.json"));

const CHOSEN: [pcap: string, hostname: string, source: string][] = [
  ["quic.pcap", "www.youtube.com", "quic-sni"],
  ["quic.pcap", "mail.google.com", "quic-sni"],
  ["quic-v2.pcapng", "test", "quic-sni"],
  ["quic-29.pcap", "localhost", "quic-sni"],
  ["quic-27.pcap", "play.google.com", "quic-sni"],
  ["quic-23.pcap", "quic.aiortc.org", "quic-sni"],
  ["quic-mvfst-22.pcap", "graph.facebook.com", "quic-sni"],
  ["quic-mvfst-27.pcapng", "graph.facebook.com", "quic-sni"],
  ["quic_q46.pcap", "play.google.com", "quic-sni"],
  ["quic_q50.pcap", "www.googletagmanager.com", "quic-sni"],
  ["quic_t50.pcap", "fonts.googleapis.com", "quic-sni"],
  ["quic_q39.pcap", "s.youtube.com", "quic-sni"],
  ["gquic.pcap", "www.gstatic.com", "quic-sni"],
  ["quic_frags_ch_out_of_order_same_packet_craziness.pcapng", "www.youtube.com", "quic-sni"],
  ["quic_0RTT.pcap", "ssl.gstatic.com", "quic-sni"],
  ["tls_2_reasms.pcapng", "i.instagram.com", "sni"],
  ["tls_ech.pcapng", "performance.radar.cloudflare.com", "sni"],
  ["netflix.pcap", "api-global.netflix.com", "sni"],
];

test(
  "TLS and QUIC host names equal nDPI's on the corpus",
  { skip: present ? false : `the nDPI corpus is not present at ${CORPUS} (../shared/corpus/ndpi)` },
  (t) => {
    const set = loadPatternDirs([join(ROOT, "protocols")]);
    const index = JSON.parse(readFileSync(join(CORPUS, "index.json"), "utf8")) as {
      pcaps: { pcap: string; labels: string }[];
    };
    let total = 0;
    let exact = 0;
    const misses: string[] = [];
    const byPcap = new Map<string, { label: NdpiLabel; flow: FlowRecord | undefined }[]>();
    for (const entry of index.pcaps) {
      const labels = (JSON.parse(readFileSync(join(CORPUS, entry.labels), "utf8")) as NdpiLabel[]).filter(
        (l) => l.confidence === "DPI" && (l.master === "TLS" || l.master === "QUIC") && l.hostname,
      );
      if (labels.length === 0) continue;
      const flows = indexFlows(classifyCaptureFile(join(CORPUS, entry.pcap), set).flows);
      const rows = labels.map((label) => ({ label, flow: findFlow(flows, label) }));
      byPcap.set(entry.pcap.replace(/^pcap\//, ""), rows);
      for (const { label, flow } of rows) {
        total++;
        const fromHello = flow && (flow.hostname_source === "sni" || flow.hostname_source === "quic-sni");
        if (fromHello && flow.hostname === label.hostname) exact++;
        else
          misses.push(
            `${entry.pcap} ${label.proto} ${label.hostname}: got ${flow ? `${flow.hostname} (${flow.hostname_source})` : "no flow"}`,
          );
      }
    }
    const rate = exact / total;
    t.diagnostic(`SNI equal to nDPI's: ${exact} of ${total} flows (${(100 * rate).toFixed(1)}%)`);
    for (const m of misses) t.diagnostic(`  differs: ${m}`);
    assert.ok(total > 600, `only ${total} labelled flows`);
    assert.ok(rate >= 0.97, `SNI match rate ${(100 * rate).toFixed(1)}%`);
    for (const [pcap, host, source] of CHOSEN) {
      const rows = byPcap.get(pcap) ?? [];
      const row = rows.find((r) => r.label.hostname === host);
      assert.ok(row, `${pcap}: nDPI labels no flow ${host}`);
      assert.equal(row.flow?.hostname, host, `${pcap}: ${host}`);
      assert.equal(row.flow?.hostname_source, source, `${pcap}: ${host}`);
    }
  },
);
