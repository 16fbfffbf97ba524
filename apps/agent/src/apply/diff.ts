// Differences an admin reads before applying: policy-level changes in words, and the
// rendered scripts line by line.

import type { PolicyInput } from "@sluice/policy";
import { DEFAULT_METRICS_PORT, formatRate, parseRate } from "@sluice/policy";

export interface PolicyDiff {
  changes: string[];
}

type AnyClass = {
  name: string;
  rate: string | number;
  ceil?: string | number;
  priority?: number;
  parent?: string;
  default?: boolean;
};
type AnyRule = { protocol?: string; app?: string; category?: string; hostname?: string; class: string };

const rate = (v: string | number | undefined) => (v === undefined ? "-" : formatRate(parseRate(v) ?? 0));

export function diffPolicy(before: PolicyInput | null, after: PolicyInput): PolicyDiff {
  if (!before) return { changes: ["first policy on this box"] };
  const changes: string[] = [];
  const b = before as unknown as {
    interfaces: Record<string, { device: string; rate: string | number }>;
    classes: Record<string, AnyClass[]>;
    rules?: AnyRule[];
  };
  const a = after as unknown as typeof b;
  for (const role of ["wan", "lan"]) {
    const x = b.interfaces[role]!;
    const y = a.interfaces[role]!;
    if (x.device !== y.device) changes.push(`${role} interface: ${x.device} → ${y.device}`);
    if (rate(x.rate) !== rate(y.rate)) changes.push(`${role} link rate: ${rate(x.rate)} → ${rate(y.rate)}`);
  }
  for (const dir of ["upload", "download"]) {
    const old = new Map((b.classes[dir] ?? []).map((c) => [c.name, c]));
    const neu = new Map((a.classes[dir] ?? []).map((c) => [c.name, c]));
    for (const [name, c] of neu) {
      const o = old.get(name);
      if (!o) {
        changes.push(`${dir}: new class "${name}" rate ${rate(c.rate)} ceil ${rate(c.ceil ?? c.rate)}`);
        continue;
      }
      const fields: string[] = [];
      if (rate(o.rate) !== rate(c.rate)) fields.push(`rate ${rate(o.rate)} → ${rate(c.rate)}`);
      if (rate(o.ceil ?? o.rate) !== rate(c.ceil ?? c.rate))
        fields.push(`ceil ${rate(o.ceil ?? o.rate)} → ${rate(c.ceil ?? c.rate)}`);
      if ((o.priority ?? 3) !== (c.priority ?? 3))
        fields.push(`priority ${o.priority ?? 3} → ${c.priority ?? 3}`);
      if (o.parent !== c.parent) fields.push(`parent ${o.parent ?? "(link)"} → ${c.parent ?? "(link)"}`);
      if (!!o.default !== !!c.default)
        fields.push(c.default ? "now the default class" : "no longer the default class");
      if (fields.length) changes.push(`${dir} class "${name}": ${fields.join(", ")}`);
    }
    for (const name of old.keys()) if (!neu.has(name)) changes.push(`${dir}: class "${name}" removed`);
  }
  const oldRules = new Map((b.rules ?? []).map((r) => [ruleKey(r), r.class]));
  const newRules = new Map((a.rules ?? []).map((r) => [ruleKey(r), r.class]));
  for (const [p, c] of newRules) {
    const o = oldRules.get(p);
    if (o === undefined) changes.push(`rule: ${p} → ${c} (new)`);
    else if (o !== c) changes.push(`rule: ${p} → ${c} (was ${o})`);
  }
  for (const p of oldRules.keys())
    if (!newRules.has(p)) changes.push(`rule for ${p} removed (goes to the default class)`);
  const mb = metricsWords((before as { metrics?: MetricsLike }).metrics);
  const ma = metricsWords((after as { metrics?: MetricsLike }).metrics);
  if (mb !== ma) changes.push(`metrics endpoint: ${mb} → ${ma}`);
  const order = (m: Map<string, string>) => [...m.keys()].join(",");
  if (order(oldRules) !== order(newRules) && changes.every((c) => !c.startsWith("rule")))
    changes.push("rules reordered");
  return { changes: changes.length ? changes : ["no change"] };
}

interface MetricsLike {
  enabled?: boolean;
  address?: string;
  port?: number;
  bearerTokenSha256?: string;
}

/** "off", or "on at 192.168.77.1:9712 with a bearer token" (a new token reads as a change). */
function metricsWords(m: MetricsLike | undefined): string {
  if (!m?.enabled) return "off";
  const a = m.address ?? "127.0.0.1";
  const where = `${a.includes(":") ? `[${a}]` : a}:${m.port ?? DEFAULT_METRICS_PORT}`;
  const token = m.bearerTokenSha256
    ? ` with bearer token ${m.bearerTokenSha256.slice(0, 8)}…`
    : " without a token";
  return `on at ${where}${token}`;
}

/** "ssh", "app youtube", "category video", "hostname *.example.com" (of a rule as stored). */
function ruleKey(r: { protocol?: string; app?: string; category?: string; hostname?: string }): string {
  if (r.protocol !== undefined) return r.protocol;
  if (r.app !== undefined) return `app ${r.app}`;
  if (r.category !== undefined) return `category ${r.category}`;
  return `hostname ${r.hostname ?? "?"}`;
}

/** `- line` / `+ line` for lines only in `a` / only in `b`, in order. */
export function diffLines(a: string[], b: string[], missingInstall: boolean): string[] {
  const out: string[] = [];
  if (missingInstall) out.push("! the last good policy is not installed on the box right now");
  const sa = new Set(a);
  const sb = new Set(b);
  for (const l of a) if (!sb.has(l)) out.push(`- ${l}`);
  for (const l of b) if (!sa.has(l)) out.push(`+ ${l}`);
  return out;
}
