// Scores Sluice on its own corpus (packages/classifier/corpus/build.sh): captures of real
// Debian servers and clients, labelled by construction: labels.json gives, per capture,
// the protocol by transport and server port, and "rest" for every other flow of that
// transport (FTP data connections, TFTP transfers from the server's new port).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { classifyCaptureFile, type FlowRecord, type PatternSet } from "../src/index.ts";

export type Outcome = "right" | "wrong" | "unknown";

interface Labels {
  variant: string;
  captures: Record<string, Partial<Record<"tcp" | "udp", Record<string, string>>>>;
}

export interface OwnScored {
  pcap: string;
  flow: FlowRecord;
  expect: string;
  got: string;
  outcome: Outcome;
}

export interface OwnResult {
  variant: string;
  captures: number;
  scored: OwnScored[];
  /** Flows no label covers (none expected: every flow of a scenario is labelled). */
  unlabelled: FlowRecord[];
  /**
   * Flows that carried no payload at all (a handshake whose server never answered in the
   * capture): nothing to classify, counted apart.
   */
  empty: OwnScored[];
}

const portOf = (endpoint: string) => endpoint.slice(endpoint.lastIndexOf(":") + 1);

/** Classifies every capture of a corpus directory and scores it against its labels. */
export function scoreOwnCorpus(dir: string, set: PatternSet): OwnResult | null {
  const file = join(dir, "labels.json");
  if (!existsSync(file)) return null;
  const labels = JSON.parse(readFileSync(file, "utf8")) as Labels;
  const out: OwnResult = { variant: labels.variant, captures: 0, scored: [], unlabelled: [], empty: [] };
  for (const [pcap, byL4] of Object.entries(labels.captures)) {
    const summary = classifyCaptureFile(join(dir, pcap), set);
    if (summary.error) throw new Error(`${pcap}: ${summary.error.message}`);
    out.captures++;
    for (const flow of summary.flows) {
      const ports = byL4[flow.l4];
      const expect = ports?.[portOf(flow.server)] ?? ports?.[portOf(flow.client)] ?? ports?.rest;
      if (!expect) {
        out.unlabelled.push(flow);
        continue;
      }
      const got = flow.protocol;
      const outcome: Outcome =
        got === "unknown" || got === "unset"
          ? "unknown"
          : got === expect || set.get(got) === set.get(expect)
            ? "right"
            : "wrong";
      (flow.inspected_bytes === 0 && got === "unset" ? out.empty : out.scored).push({
        pcap,
        flow,
        expect,
        got,
        outcome,
      });
    }
  }
  return out;
}

export interface PrecisionRecall {
  protocol: string;
  /** Flows labelled with the protocol, and how many Sluice named right. */
  flows: number;
  right: number;
  /** Flows Sluice named with the protocol (right or not). */
  said: number;
  precision: number | null;
  recall: number | null;
}

/** Per-protocol precision (of what Sluice called P, how much was P) and recall. */
export function precisionRecall(
  rows: { expect: string; got: string; outcome: Outcome }[],
): PrecisionRecall[] {
  const by = new Map<string, { flows: number; right: number; said: number }>();
  const get = (p: string) => {
    let t = by.get(p);
    if (!t) by.set(p, (t = { flows: 0, right: 0, said: 0 }));
    return t;
  };
  for (const r of rows) {
    const e = get(r.expect);
    e.flows++;
    if (r.outcome === "right") {
      e.right++;
      e.said++;
    } else if (r.outcome === "wrong") get(r.got).said++;
  }
  return [...by.entries()]
    .map(([protocol, t]) => ({
      protocol,
      ...t,
      precision: t.said ? t.right / t.said : null,
      recall: t.flows ? t.right / t.flows : null,
    }))
    .sort((a, b) => b.flows - a.flows || a.protocol.localeCompare(b.protocol));
}
