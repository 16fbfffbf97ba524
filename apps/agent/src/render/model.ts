// Policy → typed kernel model. Everything the renderers print is decided here, as data:
// class ids, leaf qdiscs, which mark goes to which class on which device, the iptables
// rules. The renderers only turn this model into text.

import { DIRECTIONS, shiftOf, type Direction, type Policy, type PolicyClass } from "@sluice/policy";
import type { LeafKind, Variant } from "../kernel/capabilities.ts";

export const MARK_UNSET = 1;
export const MARK_UNKNOWN = 2;
export const CHAIN_PRE = "SLUICE_PRE";
export const CHAIN_POST = "SLUICE_POST";
export const CHAIN_ACCT = "SLUICE_ACCT";
export const IFB_DEVICE = "ifb-sluice";
/** Root qdisc handle major and the link class minor. */
export const ROOT_MAJOR = 1;
const FIRST_MINOR = 0x10;

export interface TcClass {
  name: string;
  classid: string;
  parent: string;
  rate: number;
  ceil: number;
  prio: number;
  quantum: number;
  burst?: number;
  cburst?: number;
  leaf: { kind: LeafKind; handle: string; fallbackFrom?: string } | null;
}

export interface MarkRoute {
  /** l7 mark (1 unset, 2 unknown, 3+ protocols) and the names that share it. */
  l7mark: number;
  protocol: string;
  classid: string;
  className: string;
}

export interface DeviceTree {
  device: string;
  direction: Direction;
  linkRate: number;
  defaultClassid: string;
  classes: TcClass[];
  routes: MarkRoute[];
}

export interface KernelModel {
  policyName: string;
  variant: Variant;
  mask: number;
  shift: number;
  window: { packets: number };
  queues: { first: number; last: number };
  /** Download via IFB: the WAN device whose ingress is redirected to IFB_DEVICE. */
  ifbFrom: string | null;
  devices: DeviceTree[];
  /** Per-protocol accounting rules, in mark order. */
  accounting: { l7mark: number; protocol: string }[];
  warnings: string[];
}

export const classid = (minor: number) => `${ROOT_MAJOR}:${minor.toString(16)}`;

/** Quantum: about a tenth of a second's worth at the class rate, within [MTU, 60000]. */
function quantumFor(c: PolicyClass): number {
  if (c.quantum) return c.quantum;
  return Math.max(1514, Math.min(60000, Math.round(c.rate / 8 / 10)));
}

export function buildModel(
  policy: Policy,
  protocolMarks: ReadonlyMap<string, number>,
  variant: Variant,
  leafAvailable: (k: LeafKind) => boolean,
): KernelModel {
  const mask = policy.marks.mask;
  const shift = shiftOf(mask);
  const warnings: string[] = [];
  const devices: DeviceTree[] = [];
  const ifb = policy.download === "ifb";
  for (const direction of DIRECTIONS) {
    const device =
      direction === "upload" ? policy.interfaces.wan.device : ifb ? IFB_DEVICE : policy.interfaces.lan.device;
    const linkRate = direction === "upload" || ifb ? policy.interfaces.wan.rate : policy.interfaces.lan.rate;
    const src = policy.classes[direction];
    const minors = new Map(src.map((c, i) => [c.name, FIRST_MINOR + i]));
    const parents = new Set(src.map((c) => c.parent).filter(Boolean));
    const classes: TcClass[] = src.map((c) => {
      const minor = minors.get(c.name)!;
      let leaf: TcClass["leaf"] = null;
      if (!parents.has(c.name)) {
        let kind: LeafKind = c.leaf === "auto" ? variant.leaf : c.leaf;
        let fallbackFrom: string | undefined;
        if (!leafAvailable(kind)) {
          fallbackFrom = kind;
          kind = variant.leaf;
          warnings.push(
            `${direction} class "${c.name}": ${fallbackFrom} is not available in this kernel, using ${kind}`,
          );
        }
        leaf = { kind, handle: `${minor.toString(16)}:`, ...(fallbackFrom ? { fallbackFrom } : {}) };
      }
      return {
        name: c.name,
        classid: classid(minor),
        parent: c.parent ? classid(minors.get(c.parent)!) : classid(1),
        rate: c.rate,
        ceil: c.ceil ?? c.rate,
        prio: c.priority,
        quantum: quantumFor(c),
        ...(c.burst ? { burst: c.burst } : {}),
        ...(c.cburst ? { cburst: c.cburst } : {}),
        leaf,
      };
    });
    const def = src.find((c) => c.default)!;
    const routes: MarkRoute[] = [];
    for (const r of policy.rules) {
      const target = classes.find((c) => c.name === r.class);
      if (!target) continue; // the class exists only in the other direction: default here
      const l7mark =
        r.protocol === "unset"
          ? MARK_UNSET
          : r.protocol === "unknown"
            ? MARK_UNKNOWN
            : protocolMarks.get(r.protocol);
      if (l7mark === undefined) {
        warnings.push(`rule for "${r.protocol}": no such protocol in the pattern set; ignored`);
        continue;
      }
      routes.push({ l7mark, protocol: r.protocol, classid: target.classid, className: target.name });
    }
    devices.push({
      device,
      direction,
      linkRate,
      defaultClassid: classid(minors.get(def.name)!),
      classes,
      routes,
    });
  }
  const maxMark = mask >>> shift;
  const accounting = [
    { l7mark: MARK_UNSET, protocol: "unset" },
    { l7mark: MARK_UNKNOWN, protocol: "unknown" },
    ...[...protocolMarks.entries()].map(([protocol, l7mark]) => ({ l7mark, protocol })),
  ]
    .filter((a, i, all) => all.findIndex((b) => b.l7mark === a.l7mark) === i)
    .sort((a, b) => a.l7mark - b.l7mark);
  for (const a of accounting) {
    if (a.l7mark > maxMark)
      warnings.push(
        `protocol "${a.protocol}" has mark ${a.l7mark}, beyond the mask 0x${mask.toString(16)}: widen marks.mask`,
      );
  }
  return {
    policyName: policy.name,
    variant,
    mask,
    shift,
    window: { packets: policy.inspection.packets },
    queues: {
      first: policy.inspection.queueBase,
      last: policy.inspection.queueBase + policy.inspection.queues - 1,
    },
    ifbFrom: ifb ? policy.interfaces.wan.device : null,
    devices,
    accounting: accounting.filter((a) => a.l7mark <= maxMark),
    warnings,
  };
}

export function markValue(m: KernelModel, l7mark: number): string {
  return `0x${((l7mark << m.shift) >>> 0).toString(16)}/0x${m.mask.toString(16)}`;
}
