// Which rule a flow falls under, written once: the most specific kind of rule that matches
// wins, hostname > app > category > protocol (RULE_PRECEDENCE); among hostname rules, the
// first in the list. The renderer (one route per app: its own rule, else its category's),
// the data plane (which hostname rule a flow's name matches) and the dashboard's flows view
// all ask this. A related protocol without a rule follows its control protocol's rule
// (related.ts: ftp-data → ftp, rtp → sip).

import { RULE_PRECEDENCE, ruleTarget, type RuleTargetKind, type TargetRule } from "./schema.ts";
import { HostnameRules } from "./hostname-glob.ts";
import { controlProtocolsOf } from "./related.ts";

/** What a flow (or an application) is known by; app, category and hostname may be unknown. */
export interface FlowIdentity {
  protocol?: string | null | undefined;
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

export interface ResolvedRule {
  kind: RuleTargetKind;
  /** The rule's target: the protocol (as written in the rule), app, category or glob. */
  value: string;
  className: string;
}

export interface ResolveOptions {
  /** Only these kinds of rule (in precedence order regardless); default all. */
  kinds?: readonly RuleTargetKind[];
  /** A rule whose class is not usable (e.g. absent in this direction) is skipped: the flow
   * falls through to the less specific rules. */
  usable?: (className: string) => boolean;
}

/** A policy's rules, indexed for resolution. */
export class RuleResolver {
  readonly hostnames: HostnameRules;
  private readonly hostClasses: string[];
  private readonly byKind = new Map<Exclude<RuleTargetKind, "hostname">, Map<string, ResolvedRule>>();

  constructor(
    rules: readonly (TargetRule | LooseRule)[],
    /** Protocol alias → pattern name ("tls" → "ssl"): flows carry the pattern name. */
    aliases: ReadonlyMap<string, string> = new Map(),
  ) {
    const globs: string[] = [];
    this.hostClasses = [];
    for (const r of rules) {
      const t = ruleTarget(r as TargetRule);
      if (t.kind === "hostname") {
        globs.push(t.value);
        this.hostClasses.push(r.class);
        continue;
      }
      const m = this.byKind.get(t.kind) ?? new Map<string, ResolvedRule>();
      const key = t.kind === "protocol" ? (aliases.get(t.value) ?? t.value) : t.value;
      // validation refuses duplicates; if one slips through, the first wins like the list order
      if (!m.has(key)) m.set(key, { kind: t.kind, value: t.value, className: r.class });
      this.byKind.set(t.kind, m);
    }
    this.hostnames = new HostnameRules(globs);
  }

  /** The rule that decides for `f`, or null (the default class takes it). */
  resolve(f: FlowIdentity, opts: ResolveOptions = {}): ResolvedRule | null {
    const usable = opts.usable ?? (() => true);
    for (const kind of RULE_PRECEDENCE) {
      if (opts.kinds && !opts.kinds.includes(kind)) continue;
      if (kind === "hostname") {
        if (!f.hostname) continue;
        const i = this.hostnames.first(f.hostname);
        if (i >= 0 && usable(this.hostClasses[i]!))
          return { kind, value: this.hostnames.globs[i]!, className: this.hostClasses[i]! };
        continue;
      }
      const value = f[kind];
      // an empty name is still a name (only a missing one skips the kind): the renderer must
      // route exactly what the rules say, whatever text they hold
      const r = value != null ? this.byKind.get(kind)?.get(value) : undefined;
      if (r && usable(r.className)) return r;
      // A related protocol without a usable rule follows its control protocol's (ftp-data → ftp).
      if (kind === "protocol" && value != null)
        for (const control of controlProtocolsOf(value)) {
          const c = this.byKind.get(kind)?.get(control);
          if (c && usable(c.className)) return c;
        }
    }
    return null;
  }
}

/** "ssh" for a protocol rule, "app youtube", "hostname *.example.com" (what a resolution names). */
export function resolvedLabel(r: Pick<ResolvedRule, "kind" | "value">): string {
  return r.kind === "protocol" ? r.value : `${r.kind} ${r.value}`;
}
