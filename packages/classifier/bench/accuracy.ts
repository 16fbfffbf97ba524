// `npm run accuracy`: classifies every capture of the nDPI-labelled corpus with Sluice's
// protocols/ and with the classic l7-protocols set, and scores both against nDPI's labels.
//
//   node packages/classifier/bench/accuracy.ts [--markdown] [--list wrong|unknown|all|unlabelled] [--set ours|classic]
//   node packages/classifier/bench/accuracy.ts --list app-wrong|app-unknown|app-right|app-all
//
// --list prints the scored flows of one set (tab-separated: outcome, expected, got, nDPI
// protocol, l4, endpoints, capture); "unlabelled" lists flows nDPI could not identify that
// the set put in a class.
//
// A labelled flow is matched to a Sluice flow by transport and unordered endpoint pair; only
// labels whose confidence is exactly "DPI" are scored. nDPI names map onto Sluice names in
// ndpi-names.ts. A flow is "right" when Sluice says the expected name (or an accepted
// alternative), "unknown" when Sluice says unknown or unset or saw no such flow (counted
// apart: window spent without a match, capture ended inside the window, no flow), and
// "wrong" when Sluice names another protocol (worse than unknown for QoS: it lands in the
// wrong class).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  classifyCaptureFile,
  loadAppCatalogue,
  loadPatternDirs,
  type AppCatalogue,
  type PatternSet,
} from "../src/index.ts";
import { expectedApp } from "./ndpi-apps.ts";
import { expectedSluiceName, type Expectation, type NdpiLabel } from "./ndpi-names.ts";
import { findFlow, indexFlows, type FlowIndex } from "./ndpi-flows.ts";
import { precisionRecall, scoreOwnCorpus, type PrecisionRecall } from "./own-corpus.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CORPUS = resolve(ROOT, "../shared/corpus/ndpi");
const OURS_DIR = join(ROOT, "protocols");
const CLASSIC_DIR = resolve(ROOT, "../shared/l7-protocols/protocols");

type Outcome = "right" | "wrong" | "unknown";

interface IndexEntry {
  pcap: string;
  labels: string;
}

interface Scored {
  pcap: string;
  label: NdpiLabel;
  expect: Expectation | null;
  /** Whether the set has a pattern for the expected name (or an accepted alternative). */
  covered: boolean;
  /** What Sluice said: a pattern name, "unknown", "unset", or "no-flow". */
  got: string;
  outcome: Outcome;
}

interface SetResult {
  key: "ours" | "classic";
  title: string;
  set: PatternSet;
  scored: Scored[];
  captureErrors: string[];
  /** Flows nDPI could not identify (confidence "Unknown") that the set put in a class, by class. */
  unlabelled: Map<string, number>;
}

const { values: opts } = parseArgs({
  options: {
    markdown: { type: "boolean", default: false },
    list: { type: "string" },
    set: { type: "string", default: "ours" },
    own: { type: "string" },
  },
});

function main(): void {
  if (!existsSync(join(CORPUS, "index.json"))) {
    console.error(`accuracy: the nDPI corpus is not present at ${CORPUS}`);
    console.error("  (it lives next to the repository, in ../shared/corpus/ndpi); nothing to measure.");
    process.exit(2);
  }
  const index = JSON.parse(readFileSync(join(CORPUS, "index.json"), "utf8")) as { pcaps: IndexEntry[] };
  const sets: { key: "ours" | "classic"; title: string; dir: string }[] = [
    { key: "ours", title: "protocols/", dir: OURS_DIR },
  ];
  if (existsSync(CLASSIC_DIR)) sets.push({ key: "classic", title: "classic l7-protocols", dir: CLASSIC_DIR });
  else console.error(`accuracy: classic set not found at ${CLASSIC_DIR}; measuring protocols/ only`);

  const results: SetResult[] = sets.map((s) => {
    const set = loadPatternDirs([s.dir]);
    return { key: s.key, title: s.title, set, scored: [], captureErrors: [], unlabelled: new Map() };
  });

  const catalogue = loadAppCatalogue();
  const appScore: AppScore = { flows: [], dns: [], notInCatalogue: new Map(), extra: new Map(), catalogue };
  for (const entry of index.pcaps) {
    const labels = JSON.parse(readFileSync(join(CORPUS, entry.labels), "utf8")) as NdpiLabel[];
    for (const r of results) {
      const summary = classifyCaptureFile(join(CORPUS, entry.pcap), r.set, {
        apps: r.key === "ours" ? catalogue : null,
      });
      if (summary.error) r.captureErrors.push(`${entry.pcap}: ${summary.error.message}`);
      const flows = indexFlows(summary.flows);
      if (r.key === "ours") scoreApps(appScore, entry.pcap, labels, flows);
      for (const label of labels) {
        if (label.confidence === "DPI") {
          r.scored.push(score(r.set, entry.pcap, label, flows));
        } else if (label.confidence === "Unknown") {
          const got = findFlow(flows, label)?.protocol;
          if (got && got !== "unknown" && got !== "unset") {
            r.unlabelled.set(got, (r.unlabelled.get(got) ?? 0) + 1);
            if (opts.list === "unlabelled" && r.key === opts.set) {
              console.log(
                ["unlabelled", "-", got, label.proto, label.l4, label.a, label.b, entry.pcap].join("\t"),
              );
            }
          }
        }
      }
    }
  }

  if (opts.list) {
    if (opts.list.startsWith("app-")) listApps(appScore, opts.list.slice(4));
    else if (opts.list !== "unlabelled") listFlows(results, opts.list, opts.set ?? "ours");
    return;
  }
  if (opts.markdown) {
    printMarkdown(results);
    printAppsMarkdown(appScore);
  } else {
    printText(results);
    printAppsText(appScore);
  }
  printPrecisionRecall(
    "nDPI corpus",
    results[0]!.scored.filter((s) => s.covered).map((s) => ({ ...s, expect: s.expect!.name })),
  );
  printOwnCorpus(results[0]!.set);
}

// ---------------------------------------------------------------------------------------
// Sluice's own corpus (corpus/build.sh): real programs, labelled by construction.

function printOwnCorpus(set: PatternSet): void {
  const dirs = [join(ROOT, "packages/classifier/corpus/own"), ...(opts.own ? [resolve(opts.own)] : [])];
  for (const dir of dirs) {
    const r = scoreOwnCorpus(dir, set);
    if (!r) {
      console.log(`\nown corpus: no labels.json in ${dir}`);
      continue;
    }
    const t = tally(r.scored);
    const unset = r.scored.filter((s) => s.got === "unset").length;
    console.log(`\nOwn corpus "${r.variant}" (${dir}): ${r.captures} captures, ${t.flows} flows`);
    console.log(
      `  right ${pct(t.right, t.flows)} (${t.right}), wrong ${pct(t.wrong, t.flows)} (${t.wrong}), ` +
        `unknown ${pct(t.unknown, t.flows)} (${t.unknown}; capture ended inside the window: ${unset}); ` +
        `unlabelled flows: ${r.unlabelled.length}; flows without payload (not scored): ${r.empty.length}`,
    );
    printPrecisionRecall(`own corpus "${r.variant}"`, r.scored);
    if (opts.list === "own")
      for (const s of r.scored)
        if (s.outcome !== "right")
          console.log(
            ["  " + s.outcome, s.expect, s.got, s.flow.l4, s.flow.client, s.flow.server, s.pcap].join("\t"),
          );
  }
}

function printPrecisionRecall(
  title: string,
  rows: { expect: string; got: string; outcome: Outcome }[],
): void {
  const f = (x: number | null) => (x === null ? "-" : x.toFixed(3));
  const pr: PrecisionRecall[] = precisionRecall(rows);
  const head = ["protocol", "flows", "right", "said", "precision", "recall"];
  const body = pr.map((p) => [
    p.protocol,
    String(p.flows),
    String(p.right),
    String(p.said),
    f(p.precision),
    f(p.recall),
  ]);
  if (opts.markdown) {
    console.log(`\nPer-protocol precision and recall, ${title}:\n`);
    console.log(`| ${head.join(" | ")} |\n|${head.map(() => " --- ").join("|")}|`);
    for (const r of body) console.log(`| ${r.join(" | ")} |`);
  } else {
    console.log(`\nPer-protocol precision and recall, ${title}:`);
    console.log(table([head, ...body]));
  }
}

// ---------------------------------------------------------------------------------------
// Applications: nDPI's full name (MASTER.APP) against Sluice's catalogue app.

interface AppScored {
  pcap: string;
  label: NdpiLabel;
  ndpi: string;
  expect: string;
  /** Sluice's app ("-" for none), or for DNS lookups the catalogue app of the queried name. */
  got: string;
  hostname: string | null;
  outcome: Outcome;
}

interface AppScore {
  flows: AppScored[];
  dns: AppScored[];
  /** nDPI application names without a catalogue app: flows per name. */
  notInCatalogue: Map<string, number>;
  /** DPI flows nDPI gives no application that Sluice puts in one: flows per Sluice app. */
  extra: Map<string, number>;
  catalogue: AppCatalogue;
}

function scoreApps(score: AppScore, pcap: string, labels: NdpiLabel[], flows: FlowIndex): void {
  for (const label of labels) {
    if (label.confidence !== "DPI") continue;
    const exp = expectedApp(label);
    const flow = findFlow(flows, label);
    if (!exp) {
      if (flow?.app && label.master !== "DNS")
        score.extra.set(flow.app, (score.extra.get(flow.app) ?? 0) + 1);
      continue;
    }
    if (exp.app === null) {
      score.notInCatalogue.set(exp.ndpi, (score.notInCatalogue.get(exp.ndpi) ?? 0) + 1);
      continue;
    }
    const got = exp.dnsLookup
      ? flow?.hostname
        ? (score.catalogue.matchHostname(flow.hostname)?.app.name ?? null)
        : null
      : (flow?.app ?? null);
    const outcome: Outcome = got === null ? "unknown" : got === exp.app ? "right" : "wrong";
    const row = {
      pcap,
      label,
      ndpi: exp.ndpi,
      expect: exp.app,
      got: got ?? "-",
      hostname: flow?.hostname ?? null,
      outcome,
    };
    (exp.dnsLookup ? score.dns : score.flows).push(row);
  }
}

function appRows(rows: AppScored[]): [string, Tally][] {
  const by = new Map<string, Tally>();
  for (const r of rows) {
    const t = by.get(r.expect) ?? { flows: 0, right: 0, wrong: 0, unknown: 0 };
    t.flows++;
    t[r.outcome]++;
    by.set(r.expect, t);
  }
  return [...by.entries()].sort((a, b) => b[1].flows - a[1].flows || a[0].localeCompare(b[0]));
}

function appConfusions(rows: AppScored[]): [string, number][] {
  const c = new Map<string, number>();
  for (const r of rows) {
    if (r.outcome !== "wrong") continue;
    const k = `${r.expect} -> ${r.got}`;
    c.set(k, (c.get(k) ?? 0) + 1);
  }
  return [...c.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function topEntries(m: Map<string, number>, n: number): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

function printAppsText(score: AppScore): void {
  const t = tally(score.flows);
  const d = tally(score.dns);
  console.log(`\nApplications (catalogue: ${score.catalogue.size} apps), DPI flows nDPI names an app for:`);
  console.log(
    table([
      ["", "flows", "right", "wrong", "unknown"],
      [
        "flows (app of the flow)",
        String(t.flows),
        `${pct(t.right, t.flows)} (${t.right})`,
        `${pct(t.wrong, t.flows)} (${t.wrong})`,
        `${pct(t.unknown, t.flows)} (${t.unknown})`,
      ],
      [
        "DNS lookups (app of the name)",
        String(d.flows),
        `${pct(d.right, d.flows)} (${d.right})`,
        `${pct(d.wrong, d.flows)} (${d.wrong})`,
        `${pct(d.unknown, d.flows)} (${d.unknown})`,
      ],
    ]),
  );
  console.log(`  nDPI apps not in the catalogue (flows): ${topEntries(score.notInCatalogue, 12) || "none"}`);
  console.log(
    `  DPI flows without an nDPI app given one by Sluice: ${sumValues(score.extra)} (${topEntries(score.extra, 8)})`,
  );
  console.log("\nPer application (flows / right / wrong / unknown):");
  console.log(
    table([
      ["app", "flows", "right", "wrong", "unkn"],
      ...appRows(score.flows).map(([a, x]) => [a, ...cell(x)]),
    ]),
  );
  console.log("\nApplication confusions (expected -> got):");
  const conf = appConfusions(score.flows);
  if (conf.length === 0) console.log("  none");
  for (const [k, n] of conf.slice(0, 20)) console.log(`  ${String(n).padStart(4)}  ${k}`);
}

function printAppsMarkdown(score: AppScore): void {
  const t = tally(score.flows);
  const d = tally(score.dns);
  const md = (rows: string[][]) =>
    [
      `| ${rows[0]!.join(" | ")} |`,
      `|${rows[0]!.map(() => " --- ").join("|")}|`,
      ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
  console.log(`\n### Applications\n`);
  console.log(
    md([
      ["", "flows", "right", "wrong", "unknown"],
      [
        "flows (app of the flow)",
        String(t.flows),
        `${pct(t.right, t.flows)} (${t.right})`,
        `${pct(t.wrong, t.flows)} (${t.wrong})`,
        `${pct(t.unknown, t.flows)} (${t.unknown})`,
      ],
      [
        "DNS lookups (app of the name)",
        String(d.flows),
        `${pct(d.right, d.flows)} (${d.right})`,
        `${pct(d.wrong, d.flows)} (${d.wrong})`,
        `${pct(d.unknown, d.flows)} (${d.unknown})`,
      ],
    ]),
  );
  console.log(`\nnDPI apps not in the catalogue (flows): ${topEntries(score.notInCatalogue, 40) || "none"}.`);
  console.log(
    `\nDPI flows without an nDPI app given one by Sluice: ${sumValues(score.extra)} (${topEntries(score.extra, 12)}).\n`,
  );
  console.log(
    md([
      ["app", "flows", "right", "wrong", "unknown"],
      ...appRows(score.flows).map(([a, x]) => [a, ...cell(x)]),
    ]),
  );
  console.log("");
  console.log(
    md([
      ["expected", "got", "flows"],
      ...appConfusions(score.flows).map(([k, n]) => [...k.split(" -> "), String(n)]),
    ]),
  );
}

function listApps(score: AppScore, what: string): void {
  for (const r of [...score.flows, ...score.dns]) {
    if (what !== "all" && r.outcome !== what) continue;
    console.log(
      [
        r.outcome,
        r.expect,
        r.got,
        r.label.proto,
        r.hostname ?? "-",
        r.label.l4,
        r.label.a,
        r.label.b,
        r.pcap,
      ].join("\t"),
    );
  }
}

function score(set: PatternSet, pcap: string, label: NdpiLabel, flows: FlowIndex): Scored {
  const expect = expectedSluiceName(label);
  const flow = findFlow(flows, label);
  const got = flow ? flow.protocol : "no-flow";
  const covered = expect !== null && [expect.name, ...expect.also].some((n) => set.get(n) !== undefined);
  let outcome: Outcome;
  if (got === "unknown" || got === "unset" || got === "no-flow") outcome = "unknown";
  else if (expect && isRight(set, expect, got)) outcome = "right";
  else outcome = "wrong";
  return { pcap, label, expect, covered, got, outcome };
}

function isRight(set: PatternSet, expect: Expectation, got: string): boolean {
  if (got === expect.name || expect.also.includes(got)) return true;
  // An alias of the expected protocol (e.g. the pattern "ssl" answers to "tls").
  const pattern = set.get(got);
  return pattern !== undefined && [expect.name, ...expect.also].some((n) => set.get(n) === pattern);
}

interface Tally {
  flows: number;
  right: number;
  wrong: number;
  unknown: number;
}

function tally(rows: { outcome: Outcome }[]): Tally {
  const t: Tally = { flows: rows.length, right: 0, wrong: 0, unknown: 0 };
  for (const r of rows) t[r.outcome]++;
  return t;
}

function sumValues(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

function pct(n: number, d: number): string {
  return d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`;
}

interface Summary {
  loaded: number;
  skipped: number;
  covered: Tally;
  all: Tally;
  /** DPI flows outside the set's coverage that it still put in some class. */
  uncoveredClassified: number;
  uncovered: number;
  /** Covered unknown flows by why: window spent, capture ended inside it, no such flow. */
  why: Record<"unknown" | "unset" | "no-flow", number>;
}

function summarize(r: SetResult): Summary {
  const covered = r.scored.filter((s) => s.covered);
  const uncovered = r.scored.filter((s) => !s.covered);
  return {
    loaded: r.set.size,
    skipped: r.set.skipped.length,
    covered: tally(covered),
    all: tally(r.scored),
    uncoveredClassified: uncovered.filter(
      (s) => s.got !== "unknown" && s.got !== "unset" && s.got !== "no-flow",
    ).length,
    uncovered: uncovered.length,
    why: {
      unknown: covered.filter((s) => s.got === "unknown").length,
      unset: covered.filter((s) => s.got === "unset").length,
      "no-flow": covered.filter((s) => s.got === "no-flow").length,
    },
  };
}

interface ProtoRow {
  master: string;
  sluice: string;
  per: Map<string, Tally>;
}

/** Per (nDPI master, Sluice name) row, over flows that protocols/ or the classic set covers. */
function protocolRows(results: SetResult[]): ProtoRow[] {
  const rows = new Map<string, ProtoRow>();
  for (const r of results) {
    for (const s of r.scored) {
      if (!s.expect) continue;
      const key = `${s.label.master}\u0000${s.expect.name}`;
      let row = rows.get(key);
      if (!row) {
        row = { master: s.label.master, sluice: s.expect.name, per: new Map() };
        rows.set(key, row);
      }
      let t = row.per.get(r.key);
      if (!t) {
        t = { flows: 0, right: 0, wrong: 0, unknown: 0 };
        row.per.set(r.key, t);
      }
      if (!s.covered) continue;
      t.flows++;
      t[s.outcome]++;
    }
  }
  return [...rows.values()]
    .filter((row) => [...row.per.values()].some((t) => t.flows > 0))
    .sort((a, b) => maxFlows(b) - maxFlows(a) || a.master.localeCompare(b.master));
}

function maxFlows(row: ProtoRow): number {
  return Math.max(...[...row.per.values()].map((t) => t.flows));
}

function confusions(r: SetResult): [string, number][] {
  const c = new Map<string, number>();
  for (const s of r.scored) {
    if (s.outcome !== "wrong") continue;
    const k = `${s.covered ? s.expect!.name : `(${s.expect?.name ?? s.label.master}: not covered)`} -> ${s.got}`;
    c.set(k, (c.get(k) ?? 0) + 1);
  }
  return [...c.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function cell(t: Tally | undefined): string[] {
  if (!t || t.flows === 0) return ["-", "-", "-", "-"];
  return [String(t.flows), String(t.right), String(t.wrong), String(t.unknown)];
}

function printText(results: SetResult[]): void {
  const sums = results.map(summarize);
  const dpi = results[0]!.scored.length;
  console.log(`nDPI corpus: ${CORPUS}`);
  console.log(`DPI-confidence flows scored: ${dpi}\n`);
  const head = ["", ...results.map((r) => r.title)];
  const lines: string[][] = [
    head,
    ["patterns loaded / skipped", ...sums.map((s) => `${s.loaded} / ${s.skipped}`)],
    ["flows of covered protocols", ...sums.map((s) => String(s.covered.flows))],
    ["  right", ...sums.map((s) => `${pct(s.covered.right, s.covered.flows)} (${s.covered.right})`)],
    ["  wrong", ...sums.map((s) => `${pct(s.covered.wrong, s.covered.flows)} (${s.covered.wrong})`)],
    ["  unknown", ...sums.map((s) => `${pct(s.covered.unknown, s.covered.flows)} (${s.covered.unknown})`)],
    ["    window spent, no match", ...sums.map((s) => String(s.why.unknown))],
    ["    capture ended inside the window", ...sums.map((s) => String(s.why.unset))],
    ["    no such flow (tunnel, ...)", ...sums.map((s) => String(s.why["no-flow"]))],
    [
      "right over all DPI flows",
      ...sums.map((s) => `${pct(s.all.right, s.all.flows)} (${s.all.right}/${s.all.flows})`),
    ],
    ["uncovered flows given a class", ...sums.map((s) => `${s.uncoveredClassified} of ${s.uncovered}`)],
    ["nDPI-unknown flows given a class", ...results.map((r) => String(sumValues(r.unlabelled)))],
  ];
  console.log(table(lines));
  for (const r of results) {
    if (r.unlabelled.size === 0) continue;
    const parts = [...r.unlabelled.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
    console.log(`  ${r.title} put nDPI-unknown flows in: ${parts.join(", ")}`);
  }
  for (const r of results) {
    if (r.captureErrors.length)
      console.log(`\n${r.title}: capture errors:\n  ${r.captureErrors.join("\n  ")}`);
  }

  console.log("\nPer protocol (flows / right / wrong / unknown):");
  const rows = protocolRows(results);
  const ph = [
    "nDPI master",
    "sluice",
    ...results.flatMap((r) => [`${r.key} flows`, "right", "wrong", "unkn"]),
  ];
  console.log(
    table([
      ph,
      ...rows.map((row) => [row.master, row.sluice, ...results.flatMap((r) => cell(row.per.get(r.key)))]),
    ]),
  );

  for (const r of results) {
    const conf = confusions(r);
    console.log(`\nTop confusions for ${r.title} (expected -> got):`);
    if (conf.length === 0) console.log("  none");
    for (const [k, n] of conf.slice(0, r.key === "ours" ? 20 : 10))
      console.log(`  ${String(n).padStart(4)}  ${k}`);
  }
}

function printMarkdown(results: SetResult[]): void {
  const sums = results.map(summarize);
  const md = (rows: string[][]) =>
    [
      `| ${rows[0]!.join(" | ")} |`,
      `|${rows[0]!.map(() => " --- ").join("|")}|`,
      ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
  console.log(
    md([
      ["", ...results.map((r) => r.title)],
      ["patterns loaded / skipped", ...sums.map((s) => `${s.loaded} / ${s.skipped}`)],
      ["DPI flows of protocols the set covers", ...sums.map((s) => String(s.covered.flows))],
      ["right", ...sums.map((s) => `${pct(s.covered.right, s.covered.flows)} (${s.covered.right})`)],
      ["wrong", ...sums.map((s) => `${pct(s.covered.wrong, s.covered.flows)} (${s.covered.wrong})`)],
      ["unknown", ...sums.map((s) => `${pct(s.covered.unknown, s.covered.flows)} (${s.covered.unknown})`)],
      ["- window spent, no match", ...sums.map((s) => String(s.why.unknown))],
      ["- capture ended inside the window (`unset`)", ...sums.map((s) => String(s.why.unset))],
      ["- no such flow (tunnels, ...)", ...sums.map((s) => String(s.why["no-flow"]))],
      [
        "right over all DPI flows",
        ...sums.map((s) => `${pct(s.all.right, s.all.flows)} (${s.all.right} of ${s.all.flows})`),
      ],
      ["uncovered DPI flows given a class", ...sums.map((s) => `${s.uncoveredClassified} of ${s.uncovered}`)],
      ["nDPI-unknown flows given a class", ...results.map((r) => String(sumValues(r.unlabelled)))],
    ]),
  );
  console.log("");
  const rows = protocolRows(results);
  console.log(
    md([
      ["nDPI master", "Sluice", ...results.flatMap((r) => [`${r.key}: flows`, "right", "wrong", "unknown"])],
      ...rows.map((row) => [row.master, row.sluice, ...results.flatMap((r) => cell(row.per.get(r.key)))]),
    ]),
  );
  console.log("");
  for (const r of results) {
    const conf = confusions(r).slice(0, r.key === "ours" ? undefined : 10);
    console.log(`\nConfusions of ${r.title}${r.key === "ours" ? "" : " (top 10)"}:\n`);
    console.log(md([["expected", "got", "flows"], ...conf.map(([k, n]) => [...k.split(" -> "), String(n)])]));
  }
}

function listFlows(results: SetResult[], what: string, which: string): void {
  const r = results.find((x) => x.key === which);
  if (!r) throw new Error(`no set "${which}" (ours or classic)`);
  for (const s of r.scored) {
    if (!s.covered && what !== "all") continue;
    if (what !== "all" && s.outcome !== what) continue;
    console.log(
      [s.outcome, s.expect?.name ?? "-", s.got, s.label.proto, s.label.l4, s.label.a, s.label.b, s.pcap].join(
        "\t",
      ),
    );
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
    .join("\n");
}

main();
