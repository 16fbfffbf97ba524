// The box's kernel as the lab tests assert on it: conntrack entries, tc class byte counters.

import { LAB, execInNs } from "../../src/index.ts";
import { parseConntrackLine, parseTcClassStats } from "@sluice/agent/src/stats/parse.ts";

/** The box's IPv4 conntrack table. */
export async function conntrack() {
  const r = await execInNs(LAB.ns.box, ["conntrack", "-L", "-f", "ipv4"], { allowFail: true });
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
