// dnsmasq's lease file (the appliance's DHCP server): one lease a line,
//   <expiry epoch s, 0 = never> <MAC> <IPv4> <hostname or *> <client id or *>
// and, after a "duid <server DUID>" line, DHCPv6 leases:
//   <expiry> <IAID> <IPv6> <hostname or *> <client DUID>
// (no MAC there). Lines that do not parse are skipped: the file is dnsmasq's, not ours.

export interface Lease {
  /** Seconds since the epoch; 0: an infinite lease. */
  expires: number;
  /** Lowercase, colon-separated; null for DHCPv6 leases. */
  mac: string | null;
  address: string;
  hostname: string | null;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}(\.[A-Za-z0-9-]{1,63})*$/;

export function parseDnsmasqLeases(text: string): Lease[] {
  const out: Lease[] = [];
  let v6 = false;
  for (const raw of text.split("\n")) {
    const f = raw.trim().split(/\s+/);
    if (f[0] === "duid") {
      v6 = true;
      continue;
    }
    if (f.length < 4 || !/^\d+$/.test(f[0]!)) continue;
    const [expiry, id, address, host] = f as [string, string, string, string];
    if (v6 ? !address.includes(":") : !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) continue;
    if (!v6 && !MAC.test(id)) continue;
    out.push({
      expires: Number(expiry),
      mac: v6 ? null : id.toLowerCase(),
      address: address.toLowerCase(),
      // Only a plain host name: the name is shown in the dashboard and nowhere else.
      hostname: host !== "*" && HOSTNAME.test(host) ? host : null,
    });
  }
  return out;
}

/** Leases still valid at `now` (seconds). */
export function activeLeases(leases: readonly Lease[], now: number): Lease[] {
  return leases.filter((l) => l.expires === 0 || l.expires > now);
}
