// LAN hosts in the kernel model: classes shared among hosts and per-device classes, added
// to one direction's class tree (render/model.ts calls this once per shaped device).
//
// Host fairness, by what the kernel has (variant.hostFair):
//   sfq-flow     the class keeps an SFQ leaf whose flow filter hashes the LAN host's
//                address (download: `dst`; upload: `nfct-src`, the address before NAT);
//   htb-buckets  the class becomes an inner class with HOST_BUCKETS leaf classes of equal
//                quantum; nftables (postrouting, before NAT) picks a bucket from the low
//                bits of the host's address, so HTB shares round-robin among hosts (two
//                hosts collide only when their addresses are HOST_BUCKETS apart).
// Device rules: a class per device and direction (under the link, or nested in `parent`),
// picked by address in nftables after the mark routes, so a device's limit wins.

import { deviceHosts, parseHostMatch, type Direction, type Policy } from "@sluice/policy";
import type { LeafKind, Variant } from "../kernel/capabilities.ts";
import type { TcClass } from "./model.ts";

export const HOST_BUCKETS = 64;
/** Device classes' minors start here (policy classes use 0x10 up to 0x10 + 199). */
const DEVICE_MINOR = 0x10 + 200;
/** Bucket classes of the policy class at index i: BUCKET_MINOR + i * 0x100 + bucket. */
const BUCKET_MINOR = 0x1000;

export interface AddressSet {
  v4: string[];
  v6: string[];
}

export interface DeviceRoute {
  name: string;
  classid: string;
  match: AddressSet;
}

export interface BucketedClass {
  name: string;
  classid: string;
  /** Bucket classids, bucket b takes hosts whose address ends in b (mod HOST_BUCKETS). */
  buckets: string[];
}

export interface DeviceHosts {
  /** The LAN host's address in this direction's packets (nftables payload name). */
  key: "saddr" | "daddr";
  devices: DeviceRoute[];
  bucketed: BucketedClass[];
  /** Set when the default class is bucketed: every classid the mark routes may pick (a
   * packet whose class is none of them goes to the default class's buckets). */
  defaultBucketed: { classid: string; routed: string[] } | null;
}

export interface HostInputs {
  /** MAC → addresses (from the DHCP leases): a device given by MAC matches these. */
  macAddresses?: ReadonlyMap<string, readonly string[]> | undefined;
}

const hex = (n: number) => n.toString(16);

/**
 * Adds bucket and device classes to `classes` (in place) and returns what nftables must
 * match, or null when this direction has neither.
 */
export function addHostClasses(
  policy: Policy,
  direction: Direction,
  classes: TcClass[],
  variant: Variant,
  onIfb: boolean,
  inputs: HostInputs,
  warnings: string[],
): DeviceHosts | null {
  const src = policy.classes[direction];
  const key = direction === "download" ? "daddr" : "saddr";
  const bucketed: BucketedClass[] = [];
  src.forEach((pc, i) => {
    if (pc.fairness !== "host") return;
    const c = classes.find((x) => x.name === pc.name)!;
    if (!c.leaf) return; // validation refuses fairness on a class with children
    const method = onIfb && variant.hostFair === "htb-buckets" ? "none" : variant.hostFair;
    if (method === "sfq-flow") {
      if (c.leaf.kind !== "sfq")
        warnings.push(`${direction} class "${c.name}": shared among hosts, so its leaf is sfq`);
      c.leaf = { kind: "sfq", handle: c.leaf.handle, hostKey: direction === "download" ? "dst" : "nfct-src" };
    } else if (method === "htb-buckets") {
      const leafKind: LeafKind = c.leaf.kind;
      c.leaf = null;
      const buckets: string[] = [];
      for (let b = 0; b < HOST_BUCKETS; b++) {
        const minor = BUCKET_MINOR + i * 0x100 + b;
        const id = `1:${hex(minor)}`;
        buckets.push(id);
        classes.push({
          name: `${c.name}#${b}`,
          classid: id,
          parent: c.classid,
          rate: Math.max(8000, Math.floor(c.rate / HOST_BUCKETS)),
          ceil: c.ceil,
          prio: c.prio,
          quantum: c.quantum,
          leaf: { kind: leafKind, handle: `${hex(minor)}:` },
        });
      }
      bucketed.push({ name: c.name, classid: c.classid, buckets });
    } else {
      warnings.push(
        `${direction} class "${c.name}": this kernel cannot share a class among hosts${onIfb ? " on an IFB" : ""}; it shares per flow`,
      );
    }
  });

  const devices: DeviceRoute[] = [];
  (policy.devices ?? []).forEach((d, j) => {
    const lim = d[direction];
    if (!lim) return;
    const match: AddressSet = { v4: [], v6: [] };
    for (const h of deviceHosts(d)) {
      if (h.kind !== "mac") {
        match[h.family === 4 ? "v4" : "v6"].push(h.text);
        continue;
      }
      const addrs = inputs.macAddresses?.get(h.text) ?? [];
      if (!addrs.length)
        warnings.push(`device "${d.name}": no address known for ${h.text} (not in the DHCP leases)`);
      // Only what parses as an address reaches the script (the lease file is not ours).
      for (const a of addrs) {
        const m = parseHostMatch(a);
        if (!("error" in m) && m.kind === "address") match[m.family === 4 ? "v4" : "v6"].push(m.text);
      }
    }
    const parent = d.parent === undefined ? undefined : classes.find((c) => c.name === d.parent);
    if (parent) parent.leaf = null;
    const minor = DEVICE_MINOR + j;
    const rate = lim.rate;
    classes.push({
      name: d.name,
      classid: `1:${hex(minor)}`,
      parent: parent?.classid ?? "1:1",
      rate,
      ceil: lim.ceil ?? rate,
      prio: 3,
      quantum: Math.max(1514, Math.min(60000, Math.round(rate / 8 / 10))),
      leaf: { kind: variant.leaf, handle: `${hex(minor)}:` },
    });
    devices.push({ name: d.name, classid: `1:${hex(minor)}`, match });
  });

  if (!bucketed.length && !devices.length) return null;
  const def = src.find((c) => c.default)!;
  const defBucketed = bucketed.find((b) => b.name === def.name);
  return {
    key,
    devices,
    bucketed,
    defaultBucketed: defBucketed ? { classid: defBucketed.classid, routed: [] } : null,
  };
}
