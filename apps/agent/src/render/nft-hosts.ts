// nftables rules for LAN hosts (render/hosts-model.ts): per shaped device, a chain that
// runs after the mark routes (and for packets without Sluice's mark) and, in order, sends a
// device rule's addresses to the device's class, puts packets no route picked into a
// bucketed default class, and picks the bucket of a class shared among hosts from the low
// bits of the host's address. Postrouting at mangle priority runs before NAT, so upload
// still carries the LAN address.

import type { DeviceTree } from "./model.ts";
import type { NftMap, NftRule } from "./nft.ts";
import { HOST_BUCKETS } from "./hosts-model.ts";

export interface HostChain {
  name: string;
  maps: NftMap[];
  rules: NftRule[];
}

const hex = (n: number) => n.toString(16);

export function buildHostChain(d: DeviceTree, index: number): HostChain | null {
  const h = d.hosts;
  if (!h) return null;
  const name = `hosts${index}`;
  const maps: NftMap[] = [];
  const rules: NftRule[] = [];
  const k = h.key;
  for (const dev of h.devices) {
    if (dev.match.v4.length)
      rules.push({
        text: `ip ${k} { ${dev.match.v4.join(", ")} } meta priority set ${dev.classid} accept`,
        refs: [],
      });
    if (dev.match.v6.length)
      rules.push({
        text: `ip6 ${k} { ${dev.match.v6.join(", ")} } meta priority set ${dev.classid} accept`,
        refs: [],
      });
  }
  if (h.defaultBucketed) {
    const { classid, routed } = h.defaultBucketed;
    rules.push({
      text: routed.length
        ? `meta priority != { ${routed.join(", ")} } meta priority set ${classid}`
        : `meta priority set ${classid}`,
      refs: [],
    });
  }
  const mask = HOST_BUCKETS - 1;
  for (const b of h.bucketed) {
    const base = `${name}_${b.classid.split(":")[1]}`;
    maps.push(
      {
        name: `${base}_4`,
        type: "ipv4_addr",
        data: "classid",
        elements: b.buckets.map((c, i) => ({ key: `0.0.0.${i}`, value: c })),
      },
      {
        name: `${base}_6`,
        type: "ipv6_addr",
        data: "classid",
        elements: b.buckets.map((c, i) => ({ key: `::${i ? hex(i) : ""}`, value: c })),
      },
    );
    rules.push(
      {
        text: `meta priority ${b.classid} meta priority set ip ${k} & 0.0.0.${mask} map @${base}_4`,
        refs: [`@${base}_4`],
      },
      {
        text: `meta priority ${b.classid} meta priority set ip6 ${k} & ::${hex(mask)} map @${base}_6`,
        refs: [`@${base}_6`],
      },
    );
  }
  return { name, maps, rules };
}
