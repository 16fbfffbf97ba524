// The box's kernel as the lab tests assert on it: conntrack entries, tc class byte counters,
// nftables counters of Sluice's table.

import { LAB, execInNs } from "../../src/index.ts";
import { parseConntrackLine, parseTcClassStats } from "@sluice/agent/src/stats/parse.ts";

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
