// The editable policy: classes and rules in their tables, the rest (name, interfaces, download
// mode, inspection, marks, metrics) in settings. read() gives the policy as @sluice/policy's schema
// parses it (rates in bit/s, defaults filled in), which is also a valid PolicyInput, so it
// can go to the agent as is. Rules can be disabled: they stay in the table but are left out of
// read(); readEditable() has them all, with `enabled`. A rule row sets exactly one of protocol,
// app, category and hostname (rows written before targeted rules have protocol set).

import {
  DEFAULT_MARKS,
  DEFAULT_METRICS,
  DIRECTIONS,
  PolicySchema,
  ruleTarget,
  validatePolicy,
  type Direction,
  type Policy,
  type PolicyClass,
  type PolicyInput,
  type PolicyIssue,
  type PolicyRule,
  type TargetRuleSchema,
} from "@sluice/policy";
import type { z } from "zod";
import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { InputJsonValue, TransactionClient } from "../generated/sqlite/internal/prismaNamespace.ts";
import type { KnownSettings } from "./settings.ts";
import { num } from "./util.ts";

export type EditableRule = PolicyRule & { enabled: boolean };
export type EditablePolicy = Omit<Policy, "rules"> & { rules: EditableRule[] };
export type EditableRuleInput = z.input<typeof TargetRuleSchema> & { enabled?: boolean };
/** A PolicyInput whose rules may carry `enabled: false`. */
export type EditablePolicyInput = Omit<PolicyInput, "rules"> & { rules?: EditableRuleInput[] };

export class PolicyValidationError extends Error {
  readonly issues: PolicyIssue[];
  constructor(issues: PolicyIssue[]) {
    super(
      `the policy is not valid: ${issues
        .slice(0, 5)
        .map((i) => `${i.path || "(policy)"}: ${i.message}`)
        .join("; ")}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ""}`,
    );
    this.name = "PolicyValidationError";
    this.issues = issues;
  }
}

export interface SavePolicyOptions {
  /** Also check the relations between fields (validatePolicy); default true. */
  semantic?: boolean;
  /** Protocol names (and aliases) the rules may use; see protocols.names(). Omit to skip. */
  protocols?: ReadonlySet<string>;
  /** Catalogue application names app rules may use (the agent's GET /v1/apps). Omit to skip. */
  apps?: ReadonlySet<string>;
  /** Catalogue category names category rules may use. Omit to skip. */
  categories?: ReadonlySet<string>;
}

type RuleRow = {
  protocol: string | null;
  app: string | null;
  category: string | null;
  hostname: string | null;
  className: string;
  comment: string | null;
};

/** A rule row as a policy rule; a row with no target (never written by save()) reads as unknown. */
function ruleOf(r: RuleRow): PolicyRule {
  const rest = { class: r.className, ...(r.comment !== null ? { comment: r.comment } : {}) };
  if (r.hostname !== null) return { hostname: r.hostname, ...rest };
  if (r.app !== null) return { app: r.app, ...rest };
  if (r.category !== null) return { category: r.category, ...rest };
  return { protocol: r.protocol ?? "unknown", ...rest };
}

/** The target columns of a rule: the one it targets set, the others null. */
function targetColumns(r: PolicyRule): Pick<RuleRow, "protocol" | "app" | "category" | "hostname"> {
  const t = ruleTarget(r);
  return {
    protocol: t.kind === "protocol" ? t.value : null,
    app: t.kind === "app" ? t.value : null,
    category: t.kind === "category" ? t.value : null,
    hostname: t.kind === "hostname" ? t.value : null,
  };
}

/** The settings keys the policy keeps outside its tables. */
export const POLICY_SETTING_KEYS = [
  "policy.name",
  "interfaces",
  "download",
  "inspection",
  "marks",
  "devices",
  "class.fairness",
  "policy.timeZone",
  "policy.schedules",
  "policy.quotas",
  "metrics",
] as const;

function fieldOf(rows: { key: string; value: unknown }[]): Partial<KnownSettings> {
  return Object.fromEntries(rows.map((r) => [r.key, r.value])) as Partial<KnownSettings>;
}

type Db = PrismaClient | TransactionClient;

async function readFrom(db: Db): Promise<EditablePolicy | null> {
  const [settingRows, classes, rules] = await Promise.all([
    db.setting.findMany({ where: { key: { in: [...POLICY_SETTING_KEYS] } } }),
    db.policyClass.findMany({ orderBy: [{ direction: "asc" }, { position: "asc" }] }),
    db.policyRule.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }] }),
  ]);
  const s = fieldOf(settingRows);
  if (!s.interfaces || classes.length === 0) return null;
  const tree: Record<Direction, PolicyClass[]> = { upload: [], download: [] };
  for (const c of classes) {
    const out: PolicyClass = {
      name: c.name,
      rate: num(c.rate),
      priority: c.priority,
      default: c.isDefault,
      leaf: c.leaf,
    };
    if (c.parentName !== null) out.parent = c.parentName;
    if (c.ceil !== null) out.ceil = num(c.ceil);
    if (c.quantum !== null) out.quantum = c.quantum;
    if (c.burst !== null) out.burst = c.burst;
    if (c.cburst !== null) out.cburst = c.cburst;
    if (c.description !== null) out.description = c.description;
    const fairness = s["class.fairness"]?.[c.direction]?.[c.name];
    if (fairness) out.fairness = fairness;
    tree[c.direction].push(out);
  }
  return {
    version: 1,
    name: s["policy.name"] ?? "policy",
    interfaces: s.interfaces,
    download: s.download ?? "lan",
    inspection: s.inspection ?? { packets: 10, bytes: 2048, queues: 2, queueBase: 0 },
    // marks saved before appMask/hostMask existed get their defaults
    marks: { ...DEFAULT_MARKS, ...s.marks },
    // saved before the metrics endpoint existed: off
    metrics: s.metrics ?? { ...DEFAULT_METRICS },
    classes: tree,
    rules: rules.map((r) => ({ ...ruleOf(r), enabled: r.enabled })),
    ...(s.devices?.length ? { devices: s.devices } : {}),
    timeZone: s["policy.timeZone"] ?? "UTC",
    schedules: s["policy.schedules"] ?? [],
    quotas: s["policy.quotas"] ?? [],
  };
}

/** The policy the agent gets: enabled rules only, without the `enabled` flags. */
export function toAgentPolicy(p: EditablePolicy): Policy {
  return { ...p, rules: p.rules.filter((r) => r.enabled).map(({ enabled: _, ...r }) => r) };
}

/** Classes of one direction ordered so that every parent comes before its children. */
function parentsFirst(list: PolicyClass[], dir: Direction, issues: PolicyIssue[]): [PolicyClass, number][] {
  const names = new Map<string, number>();
  list.forEach((c, i) => {
    if (names.has(c.name))
      issues.push({ path: `classes.${dir}[${i}].name`, message: `"${c.name}" is already used in ${dir}` });
    else names.set(c.name, i);
  });
  list.forEach((c, i) => {
    if (c.parent !== undefined && !names.has(c.parent))
      issues.push({ path: `classes.${dir}[${i}].parent`, message: `no ${dir} class "${c.parent}"` });
  });
  const out: [PolicyClass, number][] = [];
  const placed = new Set<string>();
  let pending = list.map((c, i) => [c, i] as [PolicyClass, number]);
  while (pending.length) {
    const ready = pending.filter(
      ([c]) => c.parent === undefined || placed.has(c.parent) || !names.has(c.parent),
    );
    if (!ready.length) {
      for (const [c, i] of pending)
        issues.push({ path: `classes.${dir}[${i}].parent`, message: `"${c.name}" is in a parent cycle` });
      break;
    }
    for (const e of ready) {
      out.push(e);
      placed.add(e[0].name);
    }
    pending = pending.filter((e) => !ready.includes(e));
  }
  return out;
}

export function policyRepo(prisma: PrismaClient) {
  const repo = {
    /** The policy to send to the agent (enabled rules only), or null before the first save. */
    async read(): Promise<Policy | null> {
      const p = await readFrom(prisma);
      return p ? toAgentPolicy(p) : null;
    },

    /** The policy with every rule, each with `enabled`, for the editor. */
    readEditable: (): Promise<EditablePolicy | null> => readFrom(prisma),

    async exists(): Promise<boolean> {
      return (await prisma.policyClass.count()) > 0;
    },

    /**
     * Validates and stores a policy, replacing the classes, the rules and the policy settings
     * in one transaction. Throws PolicyValidationError (issues with field paths that index
     * the rules as given, disabled ones included). Returns what read() now returns.
     */
    async save(input: EditablePolicyInput, opts: SavePolicyOptions = {}): Promise<Policy> {
      // anything but a list of objects goes to the schema as it is, which says what is wrong
      const given: unknown = input.rules ?? [];
      const list = Array.isArray(given) ? (given as unknown[]) : [];
      const isObject = (r: unknown): r is Record<string, unknown> => typeof r === "object" && r !== null;
      const enabled = list.map((r) => !isObject(r) || r.enabled !== false);
      const rules = Array.isArray(given)
        ? list.map((r) => {
            if (!isObject(r)) return r;
            const { enabled: _, ...rest } = r;
            return rest;
          })
        : given;
      const parsed = PolicySchema.safeParse({ ...input, rules });
      if (!parsed.success) {
        throw new PolicyValidationError(
          parsed.error.issues.map((i) => ({
            path: i.path
              .map((k, n) => (typeof k === "number" ? `[${k}]` : n ? `.${String(k)}` : String(k)))
              .join(""),
            message: i.message,
          })),
        );
      }
      const policy = parsed.data;
      const issues: PolicyIssue[] = [];
      if (opts.semantic ?? true) {
        const agentRules = policy.rules.filter((_, i) => enabled[i]);
        const editableIndex = policy.rules.map((_, i) => i).filter((i) => enabled[i]);
        const r = validatePolicy(
          { ...policy, rules: agentRules },
          {
            ...(opts.protocols ? { protocols: opts.protocols } : {}),
            ...(opts.apps ? { apps: opts.apps } : {}),
            ...(opts.categories ? { categories: opts.categories } : {}),
          },
        );
        if (!r.ok)
          for (const i of r.issues)
            issues.push({
              ...i,
              path: i.path.replace(/^rules\[(\d+)\]/, (_, n: string) => `rules[${editableIndex[Number(n)]}]`),
            });
      }
      const ordered = DIRECTIONS.map((dir) => [dir, parentsFirst(policy.classes[dir], dir, issues)] as const);
      if (issues.length) {
        const seen = new Set<string>();
        throw new PolicyValidationError(
          issues.filter((i) => {
            const k = `${i.path}\0${i.message}`;
            return seen.has(k) ? false : (seen.add(k), true);
          }),
        );
      }

      const settings: Pick<KnownSettings, (typeof POLICY_SETTING_KEYS)[number]> = {
        "policy.name": policy.name,
        interfaces: policy.interfaces,
        download: policy.download,
        inspection: policy.inspection,
        marks: policy.marks,
        devices: policy.devices ?? [],
        // a class's fairness by direction and name (the classes table predates it)
        "class.fairness": Object.fromEntries(
          DIRECTIONS.map((dir) => [
            dir,
            Object.fromEntries(
              policy.classes[dir].flatMap((c) => (c.fairness ? [[c.name, c.fairness]] : [])),
            ),
          ]),
        ) as KnownSettings["class.fairness"],
        "policy.timeZone": policy.timeZone,
        "policy.schedules": policy.schedules,
        "policy.quotas": policy.quotas,
        metrics: policy.metrics,
      };
      const write = () =>
        prisma.$transaction(
          async (tx) => {
            await tx.policyRule.deleteMany({});
            await tx.policyClass.deleteMany({});
            for (const [dir, list] of ordered) {
              await tx.policyClass.createMany({
                data: list.map(([c, position]) => ({
                  direction: dir,
                  name: c.name,
                  parentName: c.parent ?? null,
                  rate: BigInt(c.rate),
                  ceil: c.ceil === undefined ? null : BigInt(c.ceil),
                  priority: c.priority,
                  quantum: c.quantum ?? null,
                  burst: c.burst ?? null,
                  cburst: c.cburst ?? null,
                  isDefault: c.default,
                  leaf: c.leaf,
                  description: c.description ?? null,
                  position,
                })),
              });
            }
            if (policy.rules.length)
              await tx.policyRule.createMany({
                data: policy.rules.map((r, position) => ({
                  position,
                  ...targetColumns(r),
                  className: r.class,
                  comment: r.comment ?? null,
                  enabled: enabled[position] ?? true,
                })),
              });
            for (const [key, v] of Object.entries(settings)) {
              const value = v as InputJsonValue;
              await tx.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
            }
          },
          { isolationLevel: "Serializable", timeout: 30_000 },
        );
      try {
        await write();
      } catch (e) {
        // PostgreSQL: a concurrent save won; try once more on top of it
        if ((e as { code?: string }).code !== "P2034") throw e;
        await write();
      }
      return toAgentPolicy({
        ...policy,
        rules: policy.rules.map((r, i) => ({ ...r, enabled: enabled[i] ?? true })),
      });
    },
  };
  return repo;
}

export type PolicyRepo = ReturnType<typeof policyRepo>;
