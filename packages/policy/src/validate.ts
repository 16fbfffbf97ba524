// Validation of a policy as a whole: the schema first, then the relations between fields
// (the class tree against the link, rules against the classes and the protocol catalogue).
// Every issue names the field it is about, as a path the dashboard can put it next to.

import { z } from "zod";
import {
  PolicySchema,
  TargetRuleSchema,
  DIRECTIONS,
  isHostnameGlob,
  ruleTarget,
  type Policy,
  type PolicyClass,
  type Direction,
  type TargetRule,
} from "./schema.ts";
import { formatRate } from "./units.ts";
import { shiftOf } from "./marks.ts";
import { checkScheduledPolicies, checkSchedules } from "./schedule-validate.ts";
import { checkQuotas } from "./quota-validate.ts";
import { checkHosts } from "./validate-devices.ts";

export interface PolicyIssue {
  /** Dotted path with indexes, e.g. "classes.upload[2].ceil". */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; policy: Policy } | { ok: false; issues: PolicyIssue[] };

export interface ValidationContext {
  /** Names the agent's pattern set knows (and their aliases); omit to skip the check. */
  protocols?: ReadonlySet<string>;
  /** Application names of the catalogue (targeted rules); omit to skip the check. */
  apps?: ReadonlySet<string>;
  /** Category names of the catalogue (targeted rules); omit to skip the check. */
  categories?: ReadonlySet<string>;
  /** The highest app id of the catalogue (marks carry ids: marks.appMask must hold it). */
  maxAppId?: number;
  /** The LAN's networks (the agent's LAN addresses) when the policy names none: device
   * rules must lie inside them; omit to skip the check. */
  lanNetworks?: readonly string[];
}

/** The two special classifications every policy may route. */
export const SPECIAL_PROTOCOLS = ["unset", "unknown"] as const;

function pathOf(p: readonly PropertyKey[]): string {
  let out = "";
  for (const k of p) out += typeof k === "number" ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out;
}

export function validatePolicy(input: unknown, ctx: ValidationContext = {}): ValidationResult {
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message })),
    };
  }
  const policy = parsed.data;
  const issues: PolicyIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  if (policy.interfaces.wan.device === policy.interfaces.lan.device) {
    add("interfaces.lan.device", "the LAN and WAN interfaces must differ");
  }
  const { mask, appMask, hostMask } = policy.marks;
  const hostRules = policy.rules.filter((r) => "hostname" in r).length;
  const fields = [
    ["mask", mask, 3, "needs room for unset (1), unknown (2) and protocols (3+)"],
    [
      "appMask",
      appMask,
      ctx.maxAppId ?? ctx.apps?.size ?? 1,
      ctx.maxAppId !== undefined
        ? `needs room for app ids up to ${ctx.maxAppId}`
        : `needs room for the ${ctx.apps?.size ?? 1} catalogue applications`,
    ],
    ["hostMask", hostMask, hostRules, `needs room for ${hostRules} hostname rules`],
  ] as const;
  for (const [name, m, need, why] of fields) {
    if (m === 0 || !isContiguous(m)) add(`marks.${name}`, "must be one run of contiguous bits, e.g. 0xff00");
    else if (m >>> shiftOf(m) < need) add(`marks.${name}`, `too narrow: ${why}`);
  }
  for (const [i, [a, ma]] of fields.entries())
    for (const [b, mb] of fields.slice(i + 1))
      if ((ma & mb) !== 0) add(`marks.${b}`, `overlaps marks.${a} (0x${(ma >>> 0).toString(16)})`);

  const link: Record<Direction, number> = {
    upload: policy.interfaces.wan.rate,
    download: policy.download === "ifb" ? policy.interfaces.wan.rate : policy.interfaces.lan.rate,
  };
  for (const dir of DIRECTIONS) validateTree(policy.classes[dir], dir, link[dir], add);

  checkRules(policy.rules, policy.classes, ctx, add);
  checkSchedules(policy, ctx, add);
  checkQuotas(policy, add);
  // Only a policy valid on its own can be checked under each mix of its windows.
  if (!issues.length && policy.schedules.length) checkScheduledPolicies(policy, ctx, add);
  checkHosts(policy, link, ctx.lanNetworks, add);

  return issues.length ? { ok: false, issues } : { ok: true, policy };
}

/**
 * Validates rules that may target a protocol, an app, a category or a host name glob
 * (TargetRuleSchema) against a policy's classes: the shape first, then the same checks
 * validatePolicy makes for protocol rules (known names, no duplicates, leaf classes).
 * Paths are "rules[i].app" etc., as in a policy.
 */
export function validateTargetRules(
  input: unknown,
  classes: Policy["classes"],
  ctx: ValidationContext = {},
): { ok: true; rules: TargetRule[] } | { ok: false; issues: PolicyIssue[] } {
  const parsed = z.array(TargetRuleSchema).max(1000).safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: pathOf(["rules", ...i.path]), message: i.message })),
    };
  }
  const issues: PolicyIssue[] = [];
  checkRules(parsed.data, classes, ctx, (path, message) => issues.push({ path, message }));
  return issues.length ? { ok: false, issues } : { ok: true, rules: parsed.data };
}

const WHAT: Record<string, string> = {
  protocol: "protocol",
  app: "application",
  category: "category",
};

function checkRules(
  rules: readonly TargetRule[],
  classes: Policy["classes"],
  ctx: ValidationContext,
  add: (p: string, m: string) => void,
): void {
  const seen = new Map<string, number>();
  rules.forEach((r, i) => {
    const at = `rules[${i}]`;
    const { kind, value } = ruleTarget(r);
    const field = `${at}.${kind}`;
    if (kind === "protocol") {
      const known =
        (SPECIAL_PROTOCOLS as readonly string[]).includes(value) ||
        !ctx.protocols ||
        ctx.protocols.has(value);
      if (!known) add(field, `unknown protocol "${value}" (not in the agent's pattern set)`);
    } else if (kind === "app" || kind === "category") {
      const names = kind === "app" ? ctx.apps : ctx.categories;
      if (names && !names.has(value)) add(field, `unknown ${WHAT[kind]} "${value}" (not in the catalogue)`);
    } else if (!isHostnameGlob(value)) {
      add(
        field,
        `"${value}" is not a host name or glob (examples: www.example.com, *.example.com, cdn*.example.*)`,
      );
    }
    const key = `${kind}\u0000${kind === "hostname" ? value.toLowerCase() : value}`;
    const prev = seen.get(key);
    const label = kind === "protocol" ? `"${value}"` : `${kind} "${value}"`;
    if (prev !== undefined)
      add(field, `${label} is already mapped by rules[${prev}]; this rule would never apply`);
    else seen.set(key, i);
    let foundIn = 0;
    for (const dir of DIRECTIONS) {
      const cls = classes[dir].find((c) => c.name === r.class);
      if (!cls) continue;
      foundIn++;
      if (classes[dir].some((c) => c.parent === cls.name)) {
        add(
          `${at}.class`,
          `class "${r.class}" has child classes in ${dir}; traffic can only go to a leaf class`,
        );
      }
    }
    if (foundIn === 0) add(`${at}.class`, `no class named "${r.class}" in upload or download`);
  });
}

function validateTree(
  classes: PolicyClass[],
  dir: Direction,
  linkRate: number,
  add: (p: string, m: string) => void,
): void {
  const at = (i: number) => `classes.${dir}[${i}]`;
  const byName = new Map<string, number>();
  classes.forEach((c, i) => {
    if (byName.has(c.name))
      add(`${at(i)}.name`, `duplicate class name "${c.name}" (also classes.${dir}[${byName.get(c.name)}])`);
    else byName.set(c.name, i);
  });
  // Parents exist and the tree has no loop.
  classes.forEach((c, i) => {
    if (c.parent === undefined) return;
    if (c.parent === c.name) {
      add(`${at(i)}.parent`, `class "${c.name}" cannot be its own parent`);
      return;
    }
    if (!byName.has(c.parent)) {
      add(`${at(i)}.parent`, `no class named "${c.parent}" in ${dir}`);
      return;
    }
    const seen = new Set([c.name]);
    let p: string | undefined = c.parent;
    while (p !== undefined) {
      if (seen.has(p)) {
        add(`${at(i)}.parent`, `loop in the class tree: ${[...seen, p].join(" → ")}`);
        return;
      }
      seen.add(p);
      const idx = byName.get(p);
      p = idx === undefined ? undefined : classes[idx]!.parent;
    }
  });
  const defaults = classes.map((c, i) => [c, i] as const).filter(([c]) => c.default);
  if (defaults.length === 0)
    add(`classes.${dir}`, `one class must be the default (for traffic no rule maps)`);
  for (const [, i] of defaults.slice(1)) add(`${at(i)}.default`, `only one default class per direction`);
  const hasChildren = new Set(classes.map((c) => c.parent).filter((p): p is string => p !== undefined));
  for (const [c, i] of defaults) {
    if (hasChildren.has(c.name))
      add(`${at(i)}.default`, `the default class must be a leaf (it has child classes)`);
  }

  classes.forEach((c, i) => {
    const ceil = c.ceil ?? c.rate;
    if (ceil < c.rate)
      add(`${at(i)}.ceil`, `ceil ${formatRate(ceil)} is below the rate ${formatRate(c.rate)}`);
    if (ceil > linkRate)
      add(`${at(i)}.ceil`, `ceil ${formatRate(ceil)} is above the link rate ${formatRate(linkRate)}`);
    if (c.rate > linkRate)
      add(`${at(i)}.rate`, `rate ${formatRate(c.rate)} is above the link rate ${formatRate(linkRate)}`);
    const parentIdx = c.parent === undefined ? undefined : byName.get(c.parent);
    if (parentIdx !== undefined) {
      const parent = classes[parentIdx]!;
      const pceil = parent.ceil ?? parent.rate;
      if (c.rate > parent.rate) {
        add(
          `${at(i)}.rate`,
          `rate ${formatRate(c.rate)} is above its parent "${parent.name}"'s rate ${formatRate(parent.rate)}`,
        );
      }
      if (ceil > pceil)
        add(
          `${at(i)}.ceil`,
          `ceil ${formatRate(ceil)} is above its parent "${parent.name}"'s ceil ${formatRate(pceil)}`,
        );
    }
  });
  // Guarantees must fit: the children's rates add up to at most the parent's (or the link).
  const groups = new Map<string | undefined, number[]>();
  classes.forEach((c, i) => groups.set(c.parent, [...(groups.get(c.parent) ?? []), i]));
  for (const [parent, members] of groups) {
    const sum = members.reduce((n, i) => n + classes[i]!.rate, 0);
    const pIdx = parent === undefined ? undefined : byName.get(parent);
    if (parent !== undefined && pIdx === undefined) continue;
    const cap = pIdx === undefined ? linkRate : classes[pIdx]!.rate;
    if (sum > cap) {
      const where =
        pIdx === undefined ? `the link rate ${formatRate(cap)}` : `"${parent}"'s rate ${formatRate(cap)}`;
      add(
        `${at(members.at(-1)!)}.rate`,
        `the guaranteed rates of ${members.map((i) => `"${classes[i]!.name}"`).join(", ")} add up to ${formatRate(sum)}, above ${where}`,
      );
    }
  }
}

function isContiguous(mask: number): boolean {
  const shifted = mask >>> shiftOf(mask);
  return (shifted & (shifted + 1)) === 0;
}
