// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the untyped parser's declarations must travel with this file into other workspaces' programs (the lab's tests)
/// <reference path="./parse-prometheus-text-format.d.ts" />
// Scraping the agent's metrics endpoint as Prometheus does, and reading the answer with an
// independent parser (parse-prometheus-text-format) into samples by name and labels.

import { request } from "node:http";
import parsePrometheus from "parse-prometheus-text-format";

export const OPENMETRICS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

export interface Scrape {
  status: number;
  contentType: string;
  text: string;
}

/** GET over plain HTTP (an explicit host: inside a namespace too, with `via`). */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of a Prometheus text (0.0.4) scrape, by the parser from npm; every family it
 * finds must have a known type (an exposition it misreads fails here).
 */
export function samplesOf(text: string): Sample[] {
  const out: Sample[] = [];
  for (const f of parsePrometheus(text)) {
    if (f.type === "UNTYPED") throw new Error(`family ${f.name} has no TYPE line`);
    for (const m of f.metrics) out.push({ name: f.name, labels: m.labels ?? {}, value: Number(m.value) });
  }
  return out;
}

/**
 * Checks an OpenMetrics 1.0 exposition line by line against the spec's ABNF for what
 * prom-client writes (HELP/TYPE descriptors, samples of the declared family with the
 * type's suffixes, label sets, values, `# EOF` last) and returns its samples. parse-
 * prometheus-text-format reads the 0.0.4 text format only; this is the OpenMetrics part.
 */
export function openMetricsSamples(text: string): Sample[] {
  const lines = text.split("\n");
  if (lines.at(-1) !== "" || lines.at(-2) !== "# EOF")
    throw new Error("OpenMetrics text must end with '# EOF\\n'");
  const types = new Map<string, string>();
  const seen = new Set<string>();
  let family: string | null = null;
  const out: Sample[] = [];
  const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const VALUE = "-?(?:[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\\.[0-9]+|NaN|[+-]?Inf)";
  const sampleRe = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (${VALUE})$`);
  for (const [i, line] of lines.slice(0, -2).entries()) {
    const where = `line ${i + 1}: ${line}`;
    const d = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
    if (d) {
      const [, kind, name] = d;
      if (kind === "TYPE") {
        if (!/^(counter|gauge|histogram|gaugehistogram|stateset|info|summary|unknown)$/.test(d[3] ?? ""))
          throw new Error(`${where}: unknown type`);
        if (types.has(name!)) throw new Error(`${where}: family declared twice`);
        types.set(name!, d[3]!);
      }
      if (family !== name) {
        if (seen.has(name!)) throw new Error(`${where}: family ${name} interleaved with another`);
        seen.add(name!);
        family = name!;
      }
      continue;
    }
    if (line.startsWith("#")) throw new Error(`${where}: not a descriptor`);
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`${where}: not a sample`);
    const type = family ? types.get(family) : undefined;
    if (!family || !type) throw new Error(`${where}: sample before its family's TYPE`);
    const suffix = m[1]!.slice(family.length);
    const allowed: Record<string, string[]> = {
      counter: ["_total", "_created"],
      gauge: [""],
      info: ["_info"],
    };
    if (!m[1]!.startsWith(family) || !(allowed[type] ?? [""]).includes(suffix))
      throw new Error(`${where}: sample name does not fit the ${type} family ${family}`);
    const value = Number(m[3]!.replace(/^\+?Inf$/, "Infinity").replace(/^-Inf$/, "-Infinity"));
    if (type === "counter" && !(value >= 0)) throw new Error(`${where}: a counter below 0`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** The value of the one sample with this name whose labels include `labels` (undefined: none). */
export function valueOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const hits = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}
