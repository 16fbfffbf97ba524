// The box's kernel as the lab tests assert on it: conntrack entries, tc class byte counters,
// nftables counters of Sluice's table.

import { LAB, execInNs } from "../../src/index.ts";
import { markFields } from "@sluice/policy";
import {
  parseConntrackLine,
  parseNftElementCounters,
  parseTcClassStats,
} from "@sluice/agent/src/stats/parse.ts";

/** The box's conntrack table: one family, and one transport when given. */
export async function conntrack(family: "ipv4" | "ipv6" = "ipv4", proto?: "tcp" | "udp") {
  const r = await execInNs(LAB.ns.box, ["conntrack", "-L", "-f", family, ...(proto ? ["-p", proto] : [])], {
    allowFail: true,
  });
  return r.stdout
    .split("\n")
    .map(parseConntrackLine)
    .filter((x) => x !== null);
}

/** Bytes sent per class id on a box device. */
export async function classBytes(dev: string): Promise<Map<string, number>> {
  const r = await execInNs(LAB.ns.box, ["tc", "-s", "class", "show", "dev", dev]);
  return new Map(parseTcClassStats(r.stdout).map((c) => [c.classid, c.bytes]));
}

/** Bytes counted by a named counter of Sluice's nftables table (`proto_8`, `uninspected`…). */
export async function nftCounterBytes(name: string): Promise<number> {
  const r = await execInNs(LAB.ns.box, ["nft", "-j", "list", "counter", "inet", "sluice", name]);
  return Number(/"bytes":\s*(\d+)/.exec(r.stdout)?.[1]);
}

/** Bytes of a protocol as the sampler adds them: its named counter (`proto_<n>`) and its
 * element counter in the decided map (a decided connection's packets, render/nft.ts). */
export async function protocolBytes(l7mark: number): Promise<number> {
  const named = await nftCounterBytes(`proto_${l7mark}`);
  const r = await execInNs(LAB.ns.box, ["nft", "-j", "list", "map", "inet", "sluice", "decided"], {
    allowFail: true,
  });
  const key = (l7mark << markFields().protocol.shift) >>> 0;
  const fast = r.code === 0 ? (parseNftElementCounters(r.stdout).find((e) => e.key === key)?.bytes ?? 0) : 0;
  return named + fast;
}
