// Sluice's own corpus (packages/classifier/corpus/own, built by corpus/build.sh from real
// Debian servers and clients in network namespaces, labelled by construction): the
// pattern set with the flow table and the expectation table must be right on at least
// 95% of its flows and wrong on at most 1%, and every protocol in it must be recognised.

import { test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPatternDirs } from "../src/index.ts";
import { precisionRecall, scoreOwnCorpus } from "../bench/own-corpus.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const set = loadPatternDirs([join(ROOT, "protocols")]);

test("own corpus: >= 95% of flows right, <= 1% wrong, every labelled protocol recognised", () => {
  const r = scoreOwnCorpus(join(ROOT, "packages/classifier/corpus/own"), set);
  assert.ok(r, "packages/classifier/corpus/own/labels.json is missing");
  assert.ok(r.captures >= 40, `only ${r.captures} captures`);
  assert.deepEqual(
    r.unlabelled.map((f) => `${f.pcap} ${f.l4} ${f.client} ${f.server} ${f.protocol}`),
    [],
    "every flow of a scenario is labelled",
  );
  const n = r.scored.length;
  const right = r.scored.filter((s) => s.outcome === "right").length;
  const wrong = r.scored.filter((s) => s.outcome !== "right" && s.outcome !== "unknown");
  const list = r.scored
    .filter((s) => s.outcome !== "right")
    .map((s) => `${s.outcome} ${s.pcap} ${s.flow.l4} ${s.flow.server}: expected ${s.expect}, got ${s.got}`);
  assert.ok(right / n >= 0.95, `right on ${right} of ${n}:\n${list.join("\n")}`);
  assert.ok(wrong.length / n <= 0.01, `wrong on ${wrong.length} of ${n}:\n${list.join("\n")}`);
  for (const p of precisionRecall(r.scored))
    assert.ok(p.right > 0, `${p.protocol}: none of its ${p.flows} flows recognised`);
});
