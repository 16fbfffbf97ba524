// KernelModel → `tc -batch` input: per shaped device, an HTB root, the link class, the
// policy's classes, a leaf qdisc under every leaf class, and (fw variant, or a download
// IFB) one filter per mark route. Pure; golden-file tested.

import type { KernelModel, DeviceTree, TcClass } from "./model.ts";
import { classid, fieldValue, IFB_DEVICE, type MarkField } from "./model.ts";
import type { LeafKind } from "../kernel/capabilities.ts";

export interface TcScript {
  /** Devices whose root qdisc the script replaces (the applier clears them first). */
  devices: string[];
  /** `tc -batch` lines, no comments. */
  lines: string[];
}

export const FW_PRIO: Record<MarkField, number> = { host: 1, app: 2, protocol: 3 };

const bit = (bps: number) => `${bps}bit`;

export function leafOptions(kind: LeafKind): string[] {
  switch (kind) {
    case "sfq":
      return ["sfq", "perturb", "10"];
    case "fq_codel":
      return ["fq_codel"];
    case "cake":
      return ["cake", "unlimited", "besteffort"];
    case "pfifo":
      return ["pfifo", "limit", "1000"];
  }
}

function classLine(dev: string, c: TcClass): string {
  const parts = [
    "class",
    "add",
    "dev",
    dev,
    "parent",
    c.parent,
    "classid",
    c.classid,
    "htb",
    "rate",
    bit(c.rate),
    "ceil",
    bit(c.ceil),
    "prio",
    String(c.prio),
    "quantum",
    String(c.quantum),
  ];
  if (c.burst) parts.push("burst", String(c.burst));
  if (c.cburst) parts.push("cburst", String(c.cburst));
  return parts.join(" ");
}

function deviceLines(m: KernelModel, d: DeviceTree): string[] {
  const dev = d.device;
  const lines = [
    `qdisc add dev ${dev} root handle 1: htb default ${d.defaultClassid.split(":")[1]} r2q 10`,
    `class add dev ${dev} parent 1: classid ${classid(1)} htb rate ${bit(d.linkRate)} ceil ${bit(d.linkRate)} quantum 60000`,
  ];
  for (const c of d.classes) lines.push(classLine(dev, c));
  for (const c of d.classes) {
    if (c.leaf)
      lines.push(
        `qdisc add dev ${dev} parent ${c.classid} handle ${c.leaf.handle} ${leafOptions(c.leaf.kind).join(" ")}`,
      );
    // Host fairness on SFQ: its flows are the hosts (cls_flow hashes the address).
    if (c.leaf?.hostKey)
      lines.push(
        `filter add dev ${dev} parent ${c.leaf.handle} handle 1 protocol all flow hash keys ${c.leaf.hostKey} divisor 1024`,
      );
  }
  if (usesFwFilters(m, d.device)) {
    // One fw filter instance per mark field (an instance has one mask), the most specific
    // first: hostname rules, then applications (and categories), then protocols.
    for (const r of d.routes) {
      lines.push(
        `filter add dev ${dev} parent 1: protocol all prio ${FW_PRIO[r.field]} handle ${fieldValue(m, r.field, r.value)} fw classid ${r.classid}`,
      );
    }
  }
  return lines;
}

/**
 * Whether a device's classes are picked by tc fw filters: the fw variant, and a download
 * IFB (its packets never cross netfilter, so nft maps and CLASSIFY can't reach them).
 */
export function usesFwFilters(m: KernelModel, device: string): boolean {
  return m.variant.filter === "fw" || (device === IFB_DEVICE && m.variant.fw);
}

/** Interface names are the only text tc lines embed: the schema's form, or no script at all. */
function checkDevice(dev: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw new Error(`${JSON.stringify(dev)} is not an interface name`);
}

export function renderTc(m: KernelModel): TcScript {
  const lines: string[] = [];
  const devices: string[] = [];
  for (const dev of [m.ifbFrom ?? "lo", ...m.devices.map((d) => d.device)]) checkDevice(dev);
  if (m.ifbFrom) {
    // Download via IFB: WAN ingress → restore the connmark → redirect into the IFB device.
    devices.push(`${m.ifbFrom}@ingress`);
    lines.push(`qdisc add dev ${m.ifbFrom} handle ffff: ingress`);
    lines.push(
      `filter add dev ${m.ifbFrom} parent ffff: protocol all prio 1 matchall action connmark action mirred egress redirect dev ${IFB_DEVICE}`,
    );
  }
  for (const d of m.devices) {
    devices.push(d.device);
    lines.push(...deviceLines(m, d));
  }
  return { devices, lines };
}
