// Quotas as kernel data: one nftables quota object per quota (allowance, and the amount
// already used this period so a re-apply or a reboot carries on from it), and per shaped
// device the match that counts the target's packets and, where the demotion class exists
// on that device, the class its packets go to once the allowance is spent.

import { formatIpPrefix, parseIpPrefix, quotaTarget, type Policy } from "@sluice/policy";
import { IFB_DEVICE, type DeviceTree } from "./model.ts";

export interface QuotaMatch {
  device: string;
  /** nft match text (address or class), built from parsed values only. */
  match: string;
  /** The demotion class on this device, or null (counted only). */
  demoteClassid: string | null;
}

export interface ModelQuota {
  name: string;
  /** The nftables quota object. */
  object: string;
  allowance: number;
  used: number;
  matches: QuotaMatch[];
}

export const quotaObject = (name: string) => `quota_${name}`;

export function buildQuotas(
  policy: Policy,
  devices: readonly DeviceTree[],
  used: (name: string) => number,
): ModelQuota[] {
  return policy.quotas.map((q) => {
    const t = quotaTarget(q);
    const matches: QuotaMatch[] = [];
    for (const d of devices) {
      if (d.device === IFB_DEVICE) continue;
      const demote = d.classes.find((c) => c.name === q.demoteTo)?.classid ?? null;
      let match: string | null = null;
      if (t.kind === "address") {
        const p = parseIpPrefix(t.value);
        if (!p) continue;
        // upload leaves by the WAN device (from the host), download by the LAN device (to it)
        const side = d.direction === "upload" ? "saddr" : "daddr";
        match = `${p.family === 4 ? "ip" : "ip6"} ${side} ${formatIpPrefix(p)}`;
      } else {
        const cls = d.classes.find((c) => c.name === t.value);
        if (cls) match = `meta priority ${cls.classid}`;
      }
      if (match) matches.push({ device: d.device, match, demoteClassid: demote });
    }
    return {
      name: q.name,
      object: quotaObject(q.name),
      allowance: q.allowance,
      used: Math.max(0, Math.floor(used(q.name))),
      matches,
    };
  });
}
