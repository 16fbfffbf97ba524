// Policy → typed kernel model. Everything the renderers print is decided here, as data:
// class ids, leaf qdiscs, which mark goes to which class on which device, the iptables
// rules. The renderers only turn this model into text.

import {
  DIRECTIONS,
  MARK_UNKNOWN,
  MARK_UNSET,
  RuleResolver,
  controlProtocolsOf,
  markField,
  protocolMark,
  ruleTarget,
  type Direction,
  type MarkFieldMask,
  type Policy,
  type PolicyClass,
} from "@sluice/policy";
import type { HelperType, LeafKind, Variant } from "../kernel/capabilities.ts";
import { HELPER_SPECS, RELATED_BY_HELPER, type HelperSpec } from "./helpers.ts";
import { addHostClasses, type DeviceHosts, type HostInputs } from "./hosts-model.ts";
import type { ModelQuota } from "./quota-model.ts";

export { MARK_UNSET, MARK_UNKNOWN };
export const CHAIN_PRE = "SLUICE_PRE";
export const CHAIN_POST = "SLUICE_POST";
export const CHAIN_FWD = "SLUICE_FWD";
export const CHAIN_OUT = "SLUICE_OUT";
export const CHAIN_ACCT = "SLUICE_ACCT";
export const CHAIN_APPS = "SLUICE_APPS";
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
  /** hostKey: the leaf (SFQ) hashes by this address, not by flow (host fairness). */
  leaf: { kind: LeafKind; handle: string; fallbackFrom?: string; hostKey?: "dst" | "nfct-src" } | null;
}

/** Which part of the mark a route (or an accounting rule) looks at. */
export type MarkField = "protocol" | "app" | "host";

export interface MarkRoute {
  field: MarkField;
  /** The field's value, unshifted: the l7 mark (1 unset, 2 unknown, 3+ protocols), the
   * catalogue app id, or the 1-based position of the hostname rule. */
  value: number;
  /** What the route is for: "ssh", "app youtube", "category video (youtube)", "hostname *.x". */
  label: string;
  classid: string;
  className: string;
}

/** One mark field: its mask and shift. */
export type FieldMask = MarkFieldMask;

/** What the model needs of the application catalogue. */
export interface AppIndex {
  apps: readonly { id: number; name: string; category: string }[];
}

export interface DeviceTree {
  device: string;
  direction: Direction;
  linkRate: number;
  defaultClassid: string;
  classes: TcClass[];
  routes: MarkRoute[];
  /** Device classes and classes shared among hosts (render/hosts-model.ts), if any. */
  hosts?: DeviceHosts;
}

export interface KernelModel {
  policyName: string;
  variant: Variant;
  /** The protocol field (policy marks.mask). */
  mask: number;
  shift: number;
  /** The application and hostname-rule fields. */
  app: FieldMask;
  host: FieldMask;
  /** Every bit Sluice owns in the mark (saved to and restored from the connection). */
  ownMask: number;
  /** Hostname rules in order, with the id the data plane writes into the host field on a
   * match (stable per glob, see apply/host-ids.ts; by default the 1-based position). */
  hostRules: { glob: string; id: number }[];
  window: { packets: number };
  queues: { first: number; last: number };
  /** Download via IFB: the WAN device whose ingress is redirected to IFB_DEVICE. */
  ifbFrom: string | null;
  devices: DeviceTree[];
  /** Related connections (render/helpers.ts): the helpers assigned, and the protocol field
   * value the connections each helper expects get. */
  related: {
    helpers: HelperSpec[];
    relabel: { helper: HelperType; protocol: string; l7mark: number }[];
    /** RTSP media followed by Sluice's own expectation table (render/rtsp-media.ts): the
     * control protocol's and the media's l7 marks, or null (no nftables, or no marks). */
    rtspMedia: { control: number; media: number } | null;
  };
  /** Per-protocol accounting rules, in mark order. */
  accounting: { l7mark: number; protocol: string }[];
  /** Per-application accounting rules (SLUICE_APPS), in id order. */
  appAccounting: { id: number; app: string }[];
  warnings: string[];
  /** Data allowances (render/quota-model.ts), filled in by renderPolicy. */
  quotas?: ModelQuota[];
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
  apps: AppIndex | null = null,
  hostIds: ReadonlyMap<string, number> | null = null,
  hostInputs: HostInputs = {},
): KernelModel {
  const { mask, shift } = markField(policy.marks.mask);
  const app = markField(policy.marks.appMask);
  const host = markField(policy.marks.hostMask);
  const warnings: string[] = [];
  const devices: DeviceTree[] = [];
  const ifb = policy.download === "ifb";
  const hostRules: { glob: string; id: number }[] = [];
  for (const r of policy.rules)
    if ("hostname" in r)
      hostRules.push({ glob: r.hostname, id: hostIds?.get(r.hostname) ?? hostRules.length + 1 });
  const resolver = new RuleResolver(policy.rules);
  const maxApp = app.mask >>> app.shift;
  const knownApps = (apps?.apps ?? []).filter((a) => {
    if (a.id <= maxApp) return true;
    warnings.push(`app "${a.name}" has id ${a.id}, beyond marks.appMask: widen it to route or count it`);
    return false;
  });
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
    const hosts = addHostClasses(
      policy,
      direction,
      classes,
      variant,
      ifb && direction === "download",
      hostInputs,
      warnings,
    );
    const def = src.find((c) => c.default)!;
    // A rule whose class exists only in the other direction does nothing here: the flow
    // falls through to the less specific rules (and finally the default class).
    const target = (className: string) => classes.find((c) => c.name === className);
    const routes: MarkRoute[] = [];
    const route = (field: MarkField, value: number, label: string, className: string) => {
      const t = target(className);
      if (t) routes.push({ field, value, label, classid: t.classid, className: t.name });
    };
    // Hostname rules: the data plane tells which one matched (host field = the rule's id).
    for (const h of hostRules) {
      const r = policy.rules.find((x) => "hostname" in x && x.hostname === h.glob)!;
      route("host", h.id, `hostname ${h.glob}`, r.class);
    }
    // App and category rules become one route per application: its own rule, else its
    // category's. Ids are stable, so a new apply re-routes live connections at once.
    if (!apps && policy.rules.some((r) => "app" in r || "category" in r))
      warnings.push("no application catalogue loaded: app and category rules do nothing");
    for (const a of knownApps) {
      const r = resolver.resolve(
        { app: a.name, category: a.category },
        { kinds: ["app", "category"], usable: (c) => target(c) !== undefined },
      );
      if (r?.kind === "app") route("app", a.id, `app ${a.name}`, r.className);
      else if (r) route("app", a.id, `category ${a.category} (${a.name})`, r.className);
    }
    for (const r of policy.rules) {
      const t = ruleTarget(r);
      if (t.kind !== "protocol") continue;
      const l7mark = protocolMark(t.value, protocolMarks);
      if (l7mark === undefined) {
        warnings.push(`rule for "${t.value}": no such protocol in the pattern set; ignored`);
        continue;
      }
      route("protocol", l7mark, t.value, r.class);
    }
    // A related protocol without a route of its own follows its control protocol's (rtp:
    // sip's, else rtsp's).
    for (const [related, l7mark] of protocolMarks) {
      if (routes.some((x) => x.field === "protocol" && x.value === l7mark)) continue;
      for (const control of controlProtocolsOf(related)) {
        const controlMark = protocolMarks.get(control);
        const via = routes.find((x) => x.field === "protocol" && x.value === controlMark);
        if (controlMark === undefined || !via) continue;
        route("protocol", l7mark, `${related} (follows ${control})`, via.className);
        break;
      }
    }
    if (hosts?.defaultBucketed) hosts.defaultBucketed.routed = [...new Set(routes.map((r) => r.classid))];
    const defBuckets = hosts?.bucketed.find((b) => b.name === def.name);
    devices.push({
      device,
      direction,
      linkRate,
      // A bucketed default class is an inner class: HTB's default must be a leaf.
      defaultClassid: defBuckets ? defBuckets.buckets[0]! : classid(minors.get(def.name)!),
      classes,
      routes,
      ...(hosts ? { hosts } : {}),
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
  const helpers = HELPER_SPECS.filter((h) => variant.helpers.includes(h.type));
  const relabel: KernelModel["related"]["relabel"] = [];
  for (const helper of variant.helpers) {
    const protocol = RELATED_BY_HELPER[helper];
    const l7mark = protocolMarks.get(protocol);
    if (l7mark === undefined || l7mark > maxMark)
      warnings.push(
        `protocol "${protocol}" has no usable mark: connections expected by the ${helper} helper keep their control connection's protocol`,
      );
    else relabel.push({ helper, protocol, l7mark });
  }
  let rtspMedia: KernelModel["related"]["rtspMedia"] = null;
  if (variant.rtspMedia) {
    const control = protocolMarks.get("rtsp");
    const media = protocolMarks.get("rtp");
    if (control === undefined || media === undefined || control > maxMark || media > maxMark)
      warnings.push('protocols "rtsp" and "rtp" need usable marks: RTSP media is classified on its own');
    else rtspMedia = { control, media };
  }
  return {
    policyName: policy.name,
    variant,
    mask,
    shift,
    app,
    host,
    ownMask: (mask | app.mask | host.mask) >>> 0,
    hostRules,
    window: { packets: policy.inspection.packets },
    queues: {
      first: policy.inspection.queueBase,
      last: policy.inspection.queueBase + policy.inspection.queues - 1,
    },
    ifbFrom: ifb ? policy.interfaces.wan.device : null,
    devices,
    related: { helpers, relabel, rtspMedia },
    accounting: accounting.filter((a) => a.l7mark <= maxMark),
    appAccounting: [...knownApps].sort((a, b) => a.id - b.id).map((a) => ({ id: a.id, app: a.name })),
    warnings,
  };
}

export function markValue(m: KernelModel, l7mark: number): string {
  return `0x${((l7mark << m.shift) >>> 0).toString(16)}/0x${m.mask.toString(16)}`;
}

/** The mask and shift of a mark field. */
export function fieldMask(m: KernelModel, field: MarkField): FieldMask {
  return field === "protocol" ? { mask: m.mask, shift: m.shift } : m[field];
}

/** "value/mask" of a field's value, as iptables and tc's fw filter print it. */
export function fieldValue(m: KernelModel, field: MarkField, value: number): string {
  const f = fieldMask(m, field);
  return `0x${((value << f.shift) >>> 0).toString(16)}/0x${(f.mask >>> 0).toString(16)}`;
}
