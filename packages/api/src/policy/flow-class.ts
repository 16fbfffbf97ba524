// Which rule (and so which class) a flow falls under, the way the agent decides it: the
// policy's RuleResolver (hostname > app > category > protocol; among hostname rules, the
// first in the list). No rule: the default class.

import { RuleResolver, type FlowIdentity as PolicyFlowIdentity, type LooseRule } from "@sluice/policy";

export type { LooseRule };

/** What a flow is known by (app, category and hostname may be unknown). */
export interface FlowIdentity extends PolicyFlowIdentity {
  protocol: string;
}

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
  const resolver = new RuleResolver(rules, aliases);
  return (f) => {
    const r = resolver.resolve(f);
    if (!r) return { className: defaultClass, rule: null };
    // a protocol rule is named after the flow's pattern (an alias rule names its pattern)
    return { className: r.className, rule: r.kind === "protocol" ? f.protocol : `${r.kind} ${r.value}` };
  };
}
