"use client";
// The policy as the editors hold it: rates as the admin types them ("5mbit"), rules as a
// target kind (protocol, app, category or hostname) and its value, with an `enabled` flag.
// Validated as you type with @sluice/policy's validatePolicy, the same check
// the server runs on save; issues carry paths like "classes.upload[2].ceil".

import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  formatRate,
  kernelFeaturesOf,
  kernelIssues,
  ruleTarget,
  type KernelFeatures,
  validatePolicy,
  type PolicyIssue,
  type RuleTargetKind,
  type TargetRule,
  type ValidationContext,
} from "@sluice/policy";
import type { RouterOutputs } from "@sluice/api/client";
import { errorIssues, useTRPC } from "./trpc";
import { humanIssues } from "./issue-words";

type Loaded = RouterOutputs["policy"]["getPolicy"]["policy"];
type LoadedClass = Loaded["classes"]["upload"][number];
export type LeafKind = LoadedClass["leaf"];

export interface DraftClass {
  name: string;
  /** The name it was loaded with (absent: added in the editor); a rename carries its rules. */
  was?: string | undefined;
  parent?: string | undefined;
  rate: string;
  ceil: string;
  priority: number;
  default: boolean;
  leaf: LeafKind;
  /** "host": shared among LAN hosts first; absent: among flows (the leaf's own). */
  fairness?: "host" | "flow" | undefined;
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
  interfaces: {
    wan: { device: string; rate: string };
    lan: { device: string; rate: string; networks?: string[] };
  };
  classes: Record<Direction, DraftClass[]>;
  rules: DraftRule[];
}

const rateText = (v: number | string | undefined) =>
  v === undefined ? "" : typeof v === "number" ? formatRate(v).toLowerCase() : v;

export function toDraft(p: Loaded): Draft {
  const { classes, rules, interfaces, ...rest } = p;
  const cls = (c: LoadedClass): DraftClass => ({
    name: c.name,
    was: c.name,
    parent: c.parent,
    rate: rateText(c.rate),
    ceil: rateText(c.ceil),
    priority: c.priority,
    default: c.default,
    leaf: c.leaf,
    ...(c.fairness ? { fairness: c.fairness } : {}),
    description: c.description ?? "",
    quantum: c.quantum,
    burst: c.burst,
    cburst: c.cburst,
  });
  return {
    rest,
    interfaces: {
      wan: { device: interfaces.wan.device, rate: rateText(interfaces.wan.rate) },
      lan: {
        device: interfaces.lan.device,
        rate: rateText(interfaces.lan.rate),
        ...(interfaces.lan.networks ? { networks: interfaces.lan.networks } : {}),
      },
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
    ...(c.fairness && c.fairness !== "flow" ? { fairness: c.fairness } : {}),
    ...(c.description.trim() ? { description: c.description } : {}),
    ...(c.quantum !== undefined ? { quantum: c.quantum } : {}),
    ...(c.burst !== undefined ? { burst: c.burst } : {}),
    ...(c.cburst !== undefined ? { cburst: c.cburst } : {}),
  };
}

export interface Rename {
  from: string;
  to: string;
  /** Why the rules cannot follow (the old name still names a class elsewhere, …). */
  blocked?: string;
}

/**
 * Classes renamed in the editor, by their old name. A rename carries the rules of the old
 * name along, unless the old name still names a class in the other direction (the rules
 * would then split across two names) or the two directions renamed it differently.
 */
export function classRenames(d: Draft): Map<string, Rename> {
  const out = new Map<string, Rename>();
  const names = new Set([...d.classes.upload, ...d.classes.download].map((c) => c.name));
  for (const dir of ["upload", "download"] as const)
    for (const c of d.classes[dir]) {
      if (c.was === undefined || c.was === c.name) continue;
      const prev = out.get(c.was);
      const other = dir === "upload" ? "download" : "upload";
      if (prev && prev.to !== c.name)
        out.set(c.was, { ...prev, blocked: `upload and download renamed "${c.was}" differently` });
      else if (names.has(c.was))
        out.set(c.was, {
          from: c.was,
          to: c.name,
          blocked: `the ${other} class "${c.was}" keeps its name, so its rules cannot follow: rename it in ${other} too, or move the rules on the Rules page first`,
        });
      else if (!prev) out.set(c.was, { from: c.was, to: c.name });
    }
  return out;
}

/** The draft as the server's savePolicy takes it (rules keep `enabled`; renamed classes take their rules along). */
export function fromDraft(d: Draft) {
  const renames = classRenames(d);
  const classOf = (name: string) => {
    const r = renames.get(name);
    return r && !r.blocked ? r.to : name;
  };
  return {
    ...d.rest,
    interfaces: d.interfaces,
    classes: { upload: d.classes.upload.map(classInput), download: d.classes.download.map(classInput) },
    rules: d.rules.map((r) => ({
      [r.kind]: r.value,
      class: classOf(r.class),
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
  const blocked: PolicyIssue[] = [];
  for (const rn of classRenames(d).values()) {
    const users = d.rules.filter((x) => x.class === rn.from).length;
    if (!rn.blocked || !users) continue;
    for (const dir of ["upload", "download"] as const)
      d.classes[dir].forEach((c, i) => {
        if (c.was === rn.from && c.name !== rn.from)
          blocked.push({
            path: `classes.${dir}[${i}].name`,
            message: `"${rn.from}" is the class of ${users} rule${users > 1 ? "s" : ""}; ${rn.blocked}`,
          });
      });
  }
  if (r.ok) return blocked;
  return [...blocked, ...r.issues].map((i) => {
    const toRow = (_m: string, n: string) => `rules[${enabledIdx[Number(n)] ?? n}]`;
    const path = i.path.replace(/^rules\[(\d+)\]/, toRow);
    const message = i.message.replace(/\brules\[(\d+)\]/g, toRow);
    // a new rule's empty value: say what to do rather than zod's "too small"
    const rule = /^rules\[(\d+)\]\.(\w+)$/.exec(path);
    const target = rule ? d.rules[Number(rule[1])] : undefined;
    const empty = target !== undefined && rule![2] === target.kind && target.value.trim() === "";
    if (empty) return { path, message: EMPTY_VALUE[target.kind] };
    const cls = /^classes\.(upload|download)\[(\d+)\]\.name$/.exec(path);
    if (cls && d.classes[cls[1] as Direction][Number(cls[2])]?.name.trim() === "")
      return { path, message: "a class needs a name" };
    return { path, message };
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

export type PolicyDraftEditor = ReturnType<typeof usePolicyDraft>;

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
  // what the probed kernel can do (the agent's status): leaves it lacks are refused here
  const health = useQuery({ ...trpc.agent.getHealth.queryOptions(), refetchInterval: 5000, staleTime: 4000 });
  const caps = health.data?.status?.capabilities;
  const kernel = useMemo<KernelFeatures | null>(() => (caps ? kernelFeaturesOf(caps) : null), [caps]);
  const clientIssues = useMemo(
    () =>
      draft
        ? [...validateDraft(draft, context), ...(kernel ? kernelIssues(fromDraft(draft), kernel) : [])]
        : [],
    [draft, context, kernel],
  );
  const save = useMutation(
    trpc.policy.savePolicy.mutationOptions({
      onSuccess: () => {
        void qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.deploy.previewApply.queryKey() });
      },
    }),
  );
  const serverIssues = errorIssues(save.error);
  const issues = useMemo(
    () => humanIssues(clientIssues.length ? clientIssues : serverIssues),
    [clientIssues, serverIssues],
  );
  const dirty = !!draft && JSON.stringify(draft) !== loadedKey;
  return {
    query: q,
    draft,
    setDraft,
    dirty,
    issues,
    protocolNames: names,
    kernel,
    status: health.data?.status ?? null,
    apps,
    save: () => draft && save.mutate({ policy: fromDraft(draft) as Record<string, unknown>, what }),
    saving: save,
    reset: () => loaded && setDraft(loaded),
  };
}
