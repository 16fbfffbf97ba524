// What the box's kernel can do, checked against a policy: a leaf qdisc the probed kernel
// lacks, or download shaping on an IFB without act_connmark/act_mirred/ifb, would be
// replaced or ignored by the agent. Refused (or flagged) where the admin sets them.

import type { PolicyIssue } from "./validate.ts";
import { hostIssues, listedObjects, type HostFeatures } from "./kernel-fit-hosts.ts";

/** The parts of the agent's capability probe this check needs. */
export interface KernelFeatures {
  qdiscs: Partial<Record<string, boolean>>;
  /** act_connmark, act_mirred and ifb links: download can be shaped on an IFB. */
  ifb?: boolean | undefined;
  /** Per-host fairness and device rules (kernel-fit-hosts.ts); omit to skip the check. */
  hosts?: HostFeatures | undefined;
}

interface ClassLike {
  name?: unknown;
  leaf?: unknown;
  fairness?: unknown;
}

interface PolicyLike {
  classes?: { upload?: unknown; download?: unknown } | undefined;
  download?: unknown;
  devices?: unknown;
}

/** Leaf qdiscs a class may name; "auto" lets the agent pick the best the kernel has. */
export const FAIR_LEAVES = ["sfq", "fq_codel", "cake"] as const;

/** The fair-queueing leaves the kernel has (empty: flows in a class share one FIFO). */
export function fairLeaves(k: KernelFeatures): string[] {
  return FAIR_LEAVES.filter((q) => k.qdiscs[q] === true);
}

export function kernelIssues(p: PolicyLike, k: KernelFeatures): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const have = ["auto", ...fairLeaves(k), ...(k.qdiscs.pfifo === false ? [] : ["pfifo"])];
  for (const dir of ["upload", "download"] as const)
    listedObjects<ClassLike>(p.classes?.[dir]).forEach(([c, i]) => {
      const leaf = typeof c.leaf === "string" ? c.leaf : "auto";
      if (leaf === "auto" || k.qdiscs[leaf] !== false) return;
      issues.push({
        path: `classes.${dir}[${i}].leaf`,
        message: `this box's kernel has no ${leaf} (sch_${leaf} missing): the agent would not use it; pick one of ${have.join(", ")}`,
      });
    });
  if (p.download === "ifb" && k.ifb === false)
    issues.push({
      path: "download",
      message:
        "this box's kernel cannot shape download on an IFB (act_connmark, act_mirred or ifb missing): shape it on the LAN interface",
    });
  if (k.hosts) issues.push(...hostIssues(p, k.hosts));
  return issues;
}

/** The parts of the agent's probed capabilities (its status) that decide the features above. */
export interface ProbedKernel {
  qdiscs: Record<string, boolean>;
  actions: { connmark: boolean; mirred: boolean };
  links: { ifb: boolean };
  classifiers: { flow: boolean };
  nftables: boolean;
}

/** What the policy check needs from the agent's capability probe. */
export function kernelFeaturesOf(c: ProbedKernel): KernelFeatures {
  return {
    qdiscs: c.qdiscs,
    ifb: c.actions.connmark && c.actions.mirred && c.links.ifb,
    hosts: { sfqFlow: c.qdiscs.sfq === true && c.classifiers.flow, nftables: c.nftables },
  };
}
