// Which rule (and so which class) a flow falls under, the way the agent decides it: the most
// specific kind of rule that matches wins, hostname > app > category > protocol
// (RULE_PRECEDENCE); among hostname rules, the first in the list. No rule: the default class.

import { RULE_PRECEDENCE, hostnameGlobMatcher, ruleTarget, type TargetRule } from "@sluice/policy";

/** What a flow is known by (app, category and hostname may be unknown). */
export interface FlowIdentity {
  protocol: string;
  app?: string | null | undefined;
  category?: string | null | undefined;
  hostname?: string | null | undefined;
}

/** A rule as stored or sent (PolicyInput rules have every target key optional). */
export type LooseRule = {
  protocol?: string;
  app?: string;
  category?: string;
  hostname?: string;
  class: string;
};

export interface FlowClass {
  className: string;
  /** The rule that decided, e.g. "app youtube"; null when the default class took the flow. */
  rule: string | null;
}

/** A function giving each flow its class under these rules. */
export function flowClassifier(
  rules: readonly LooseRule[],
  defaultClass: string,
  /** Protocol alias → pattern name ("tls" → "ssl"): flows carry the pattern name. */
  aliases: ReadonlyMap<string, string> = new Map(),
): (f: FlowIdentity) => FlowClass {
  const byKind = new Map<string, Map<string, string>>();
  const hosts: { match: (h: string) => boolean; glob: string; className: string }[] = [];
  for (const r of rules) {
    const t = ruleTarget(r as TargetRule);
    if (t.kind === "hostname")
      hosts.push({ match: hostnameGlobMatcher(t.value), glob: t.value, className: r.class });
    else {
      const m = byKind.get(t.kind) ?? new Map<string, string>();
      const value = t.kind === "protocol" ? (aliases.get(t.value) ?? t.value) : t.value;
      // validation refuses duplicates; if one slips through, the first wins like the list order
      if (!m.has(value)) m.set(value, r.class);
      byKind.set(t.kind, m);
    }
  }
  return (f) => {
    for (const kind of RULE_PRECEDENCE) {
      if (kind === "hostname") {
        const h = f.hostname ? hosts.find((x) => x.match(f.hostname!)) : undefined;
        if (h) return { className: h.className, rule: `hostname ${h.glob}` };
        continue;
      }
      const value = f[kind];
      const cls = value ? byKind.get(kind)?.get(value) : undefined;
      if (cls !== undefined)
        return { className: cls, rule: kind === "protocol" ? value! : `${kind} ${value}` };
    }
    return { className: defaultClass, rule: null };
  };
}
