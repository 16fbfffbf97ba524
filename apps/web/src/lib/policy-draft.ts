"use client";
// The policy as the editors hold it: rates as the admin types them ("5mbit"), rules as a
// target kind (protocol, app, category or hostname) and its value, with an `enabled` flag.
// Validated as you type with @sluice/policy's validatePolicy, the same check
// the server runs on save; issues carry paths like "classes.upload[2].ceil".

import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  formatRate,
  ruleTarget,
  validatePolicy,
  type PolicyIssue,
  type RuleTargetKind,
  type TargetRule,
  type ValidationContext,
} from "@sluice/policy";
import type { RouterOutputs } from "@sluice/api/client";
import { errorIssues, useTRPC } from "./trpc";

type Loaded = RouterOutputs["policy"]["getPolicy"]["policy"];
type LoadedClass = Loaded["classes"]["upload"][number];
export type LeafKind = LoadedClass["leaf"];

export interface DraftClass {
  name: string;
  parent?: string | undefined;
  rate: string;
  ceil: string;
  priority: number;
  default: boolean;
  leaf: LeafKind;
  description: string;
  quantum?: number | undefined;
  burst?: number | undefined;
  cburst?: number | undefined;
}

export interface DraftRule {
  /** Which key the rule targets; the value is a protocol, app or category name, or a host glob. */
  kind: RuleTargetKind;
  value: string;
  class: string;
  comment: string;
  enabled: boolean;
}

export type Direction = "upload" | "download";

export interface Draft {
  rest: Omit<Loaded, "classes" | "rules" | "interfaces">;
  interfaces: { wan: { device: string; rate: string }; lan: { device: string; rate: string } };
  classes: Record<Direction, DraftClass[]>;
  rules: DraftRule[];
}

const rateText = (v: number | string | undefined) =>
  v === undefined ? "" : typeof v === "number" ? formatRate(v).toLowerCase() : v;

export function toDraft(p: Loaded): Draft {
  const { classes, rules, interfaces, ...rest } = p;
  const cls = (c: LoadedClass): DraftClass => ({
    name: c.name,
    parent: c.parent,
    rate: rateText(c.rate),
    ceil: rateText(c.ceil),
    priority: c.priority,
    default: c.default,
    leaf: c.leaf,
    description: c.description ?? "",
    quantum: c.quantum,
    burst: c.burst,
    cburst: c.cburst,
  });
  return {
    rest,
    interfaces: {
      wan: { device: interfaces.wan.device, rate: rateText(interfaces.wan.rate) },
      lan: { device: interfaces.lan.device, rate: rateText(interfaces.lan.rate) },
    },
    classes: { upload: classes.upload.map(cls), download: classes.download.map(cls) },
    rules: rules.map((r) => ({
      ...ruleTarget(r as TargetRule),
      class: r.class,
      comment: r.comment ?? "",
      enabled: r.enabled,
    })),
  };
}

/** A new rule of a kind (value to pick). */
export const newRule = (kind: RuleTargetKind, cls: string, value = ""): DraftRule => ({
  kind,
  value,
  class: cls,
  comment: "",
  enabled: true,
});

function classInput(c: DraftClass) {
  return {
    name: c.name,
    ...(c.parent ? { parent: c.parent } : {}),
    rate: c.rate,
    ...(c.ceil.trim() ? { ceil: c.ceil } : {}),
    priority: c.priority,
    default: c.default,
    leaf: c.leaf,
    ...(c.description.trim() ? { description: c.description } : {}),
    ...(c.quantum !== undefined ? { quantum: c.quantum } : {}),
    ...(c.burst !== undefined ? { burst: c.burst } : {}),
    ...(c.cburst !== undefined ? { cburst: c.cburst } : {}),
  };
}

/** The draft as the server's savePolicy takes it (rules keep `enabled`). */
export function fromDraft(d: Draft) {
  return {
    ...d.rest,
    interfaces: d.interfaces,
    classes: { upload: d.classes.upload.map(classInput), download: d.classes.download.map(classInput) },
    rules: d.rules.map((r) => ({
      [r.kind]: r.value,
      class: r.class,
      ...(r.comment.trim() ? { comment: r.comment } : {}),
      enabled: r.enabled,
    })),
  };
}

/** validatePolicy over the enabled rules, with rule paths mapped back to the editor's rows. */
export function validateDraft(d: Draft, names: ValidationContext): PolicyIssue[] {
  const input = fromDraft(d);
  const enabledIdx = d.rules.map((r, i) => (r.enabled ? i : -1)).filter((i) => i >= 0);
  const r = validatePolicy(
    { ...input, rules: input.rules.filter((x) => x.enabled).map(({ enabled: _, ...x }) => x) },
    names,
  );
  if (r.ok) return [];
  return r.issues.map((i) => {
    const path = i.path.replace(/^rules\[(\d+)\]/, (_m, n: string) => `rules[${enabledIdx[Number(n)] ?? n}]`);
    // a new rule's empty value: say what to do rather than zod's "too small"
    const rule = /^rules\[(\d+)\]\.(\w+)$/.exec(path);
    const target = rule ? d.rules[Number(rule[1])] : undefined;
    const empty = target !== undefined && rule![2] === target.kind && target.value.trim() === "";
    return empty ? { path, message: EMPTY_VALUE[target.kind] } : { ...i, path };
  });
}

const EMPTY_VALUE: Record<RuleTargetKind, string> = {
  protocol: "pick a protocol",
  app: "pick an application",
  category: "pick a category",
  hostname: "type a host name or glob, e.g. *.example.com",
};

export function issueAt(issues: PolicyIssue[], path: string): string | undefined {
  const hits = issues.filter((i) => i.path === path).map((i) => i.message);
  return hits.length ? hits.join("; ") : undefined;
}

/** Loads the policy, keeps the editor's draft, validates it as it changes, saves it. */
export function usePolicyDraft(what: string) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.policy.getPolicy.queryOptions());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [baseKey, setBaseKey] = useState<string | null>(null);
  const loaded = useMemo(() => (q.data ? toDraft(q.data.policy) : null), [q.data]);
  const loadedKey = loaded ? JSON.stringify(loaded) : null;
  // a fresh load (or a save) resets the draft
  if (loaded && loadedKey !== baseKey) {
    setBaseKey(loadedKey);
    setDraft(loaded);
  }
  const apps = useQuery(trpc.protocols.listApps.queryOptions());
  const names = useMemo(() => (q.data?.protocolNames ? new Set(q.data.protocolNames) : null), [q.data]);
  // app and category names are checked once the agent's catalogue is known
  const context = useMemo<ValidationContext>(() => {
    const c = apps.data?.apps.length ? apps.data : null;
    return {
      ...(names ? { protocols: names } : {}),
      ...(c
        ? { apps: new Set(c.apps.map((a) => a.name)), categories: new Set(c.categories.map((x) => x.name)) }
        : {}),
    };
  }, [names, apps.data]);
  const clientIssues = useMemo(() => (draft ? validateDraft(draft, context) : []), [draft, context]);
  const save = useMutation(
    trpc.policy.savePolicy.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() }),
    }),
  );
  const serverIssues = errorIssues(save.error);
  const dirty = !!draft && JSON.stringify(draft) !== loadedKey;
  return {
    query: q,
    draft,
    setDraft,
    dirty,
    issues: clientIssues.length ? clientIssues : serverIssues,
    protocolNames: names,
    apps,
    save: () => draft && save.mutate({ policy: fromDraft(draft) as Record<string, unknown>, what }),
    saving: save,
    reset: () => loaded && setDraft(loaded),
  };
}
