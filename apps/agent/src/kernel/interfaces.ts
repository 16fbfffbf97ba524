// The box's network interfaces and their link speeds, from sysfs (of the agent's own network
// namespace), so the dashboard can warn about a WAN device that does not exist or a rate
// above what the link can carry. Virtual links (veth, ifb, lo) have no speed: null.

import { readFileSync, readdirSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";

export interface NetInterface {
  name: string;
  /** Link speed in Mbit/s as the driver reports it; null when unknown (virtual, down). */
  speedMbps: number | null;
  /** Its IPv4 and IPv6 addresses (link-local ones with "%name"). */
  addresses: string[];
}

export function listInterfaces(sys = "/sys/class/net"): NetInterface[] {
  let names: string[];
  try {
    names = readdirSync(sys);
  } catch {
    return [];
  }
  const addrs = networkInterfaces();
  return names.sort().map((name) => {
    let speedMbps: number | null = null;
    try {
      const v = Number(readFileSync(join(sys, name, "speed"), "utf8").trim());
      speedMbps = Number.isFinite(v) && v > 0 ? v : null;
    } catch {
      /* EINVAL for links without a speed */
    }
    const addresses = (addrs[name] ?? []).map((a) => (a.scopeid ? `${a.address}%${name}` : a.address));
    return { name, speedMbps, addresses };
  });
}
