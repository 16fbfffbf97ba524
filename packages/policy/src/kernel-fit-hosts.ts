// What the kernel needs for per-host fairness and device rules, and how the agent does
// them: SFQ hashing by host (sch_sfq + cls_flow: `flow hash keys dst` / `nfct-src`), else
// per-host HTB bucket classes picked in nftables' postrouting (before NAT, so upload sees
// the LAN address); device rules are nftables rules. A download IFB is not on netfilter's
// path: there only the SFQ way works, and device rules cannot be matched.

import type { PolicyIssue } from "./validate.ts";

export interface HostFeatures {
  /** sch_sfq and cls_flow (SFQ hashes by host). */
  sfqFlow: boolean;
  /** nftables as the agent uses it (its filter variant). */
  nftables: boolean;
}

export type HostFairMethod = "sfq-flow" | "htb-buckets";

/** How a class shares among hosts on this kernel, or null when it cannot. */
export function hostFairMethod(f: HostFeatures, onIfb: boolean): HostFairMethod | null {
  if (f.sfqFlow) return "sfq-flow";
  if (f.nftables && !onIfb) return "htb-buckets";
  return null;
}

interface PolicyLike {
  classes?: { upload?: unknown; download?: unknown } | undefined;
  download?: unknown;
  devices?: unknown;
}

export function hostIssues(p: PolicyLike, f: HostFeatures): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const ifb = p.download === "ifb";
  for (const dir of ["upload", "download"] as const)
    listedObjects<{ fairness?: unknown }>(p.classes?.[dir]).forEach(([c, i]) => {
      if (c.fairness !== "host") return;
      const onIfb = dir === "download" && ifb;
      if (hostFairMethod(f, onIfb)) return;
      issues.push({
        path: `classes.${dir}[${i}].fairness`,
        message: onIfb
          ? "this box's kernel cannot share download on an IFB among hosts (it needs sch_sfq and cls_flow): use fairness flow, or shape download on the LAN interface"
          : "this box's kernel cannot share a class among hosts: it needs sch_sfq with cls_flow, or nftables; use fairness flow",
      });
    });
  listedObjects<{ download?: unknown }>(p.devices).forEach(([d, i]) => {
    if (!f.nftables)
      issues.push({
        path: `devices[${i}]`,
        message: "device rules need nftables, which this box lacks (the nft tool or nf_tables)",
      });
    else if (ifb && d.download !== undefined)
      issues.push({
        path: `devices[${i}].download`,
        message:
          "download shaped on an IFB is not seen by nftables: a device's download limit needs download: lan",
      });
  });
  return issues;
}

/**
 * The objects of a list with their indices. The kernel check runs before the schema has
 * seen the input (a save names both kinds of issue at once), so a list may be anything.
 */
export function listedObjects<T extends object>(list: unknown): [T, number][] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((x, i): [T, number][] => (x !== null && typeof x === "object" ? [[x as T, i]] : []));
}
