// The lab's fixed topology: three network namespaces, two veth links, IPv4 + IPv6.
//
//   sluice-lan                 sluice-box                      sluice-wan
//   eth0 10.77.1.10-13  <->  lan0 10.77.1.1 | wan0 10.77.2.1  <->  eth0 10.77.2.2
//        fd77:1::10-13            fd77:1::1  | fd77:2::1              fd77:2::2
//
// The box forwards and masquerades 10.77.1.0/24 out of wan0 (IPv6 is routed, not NATed).

// SLUICE_LAB_PREFIX renames the namespaces and the state directory, so that two checkouts
// on one machine can each run their lab tests (default "sluice": sluice-lan, /run/sluice-lab).
const PREFIX = /^[a-z][a-z0-9]{0,11}$/.test(process.env.SLUICE_LAB_PREFIX ?? "")
  ? process.env.SLUICE_LAB_PREFIX!
  : "sluice";

export const LAB = {
  prefix: PREFIX,
  ns: { lan: `${PREFIX}-lan`, box: `${PREFIX}-box`, wan: `${PREFIX}-wan` },
  /** Interface names, per namespace. */
  ifaces: {
    box: { lan: "lan0", wan: "wan0" },
    lan: "eth0",
    wan: "eth0",
  },
  v4: {
    lanNet: "10.77.1.0/24",
    wanNet: "10.77.2.0/24",
    boxLan: "10.77.1.1",
    boxWan: "10.77.2.1",
    clients: ["10.77.1.10", "10.77.1.11", "10.77.1.12", "10.77.1.13"],
    server: "10.77.2.2",
    prefixLen: 24,
  },
  v6: {
    lanNet: "fd77:1::/64",
    wanNet: "fd77:2::/64",
    boxLan: "fd77:1::1",
    boxWan: "fd77:2::1",
    clients: ["fd77:1::10", "fd77:1::11", "fd77:1::12", "fd77:1::13"],
    server: "fd77:2::2",
    prefixLen: 64,
  },
  /** Server ports in sluice-wan (all on the server address, IPv4 and IPv6). */
  ports: {
    http: 80,
    https: 443,
    ssh: 22,
    dns: 53,
    bittorrent: 6881,
    rsync: 873,
    rtp: 5004,
  },
  /** The DNS zone the lab's server answers for (every name points at the server). */
  zone: "example.lab",
  /** Runtime state: pid files, logs, the TLS certificate, state.json. */
  stateDir: `/run/${PREFIX}-lab`,
} as const;

export type LabNsName = (typeof LAB.ns)[keyof typeof LAB.ns];

/** Names the lab's DNS server knows (relative to LAB.zone; "" is the apex). */
export const ZONE_NAMES = ["", "www", "video", "cdn", "api", "ssh", "bt", "backup", "voip", "ns"] as const;

export function zoneFqdn(label: string): string {
  return label ? `${label}.${LAB.zone}` : LAB.zone;
}

/** True when `addr` is inside the lab's address space (10.77.0.0/16 or fd77::/16). */
export function isLabAddress(addr: string): boolean {
  const a = addr.toLowerCase().replace(/^::ffff:/, "");
  return /^10\.77\.\d{1,3}\.\d{1,3}$/.test(a) || /^fd77:/.test(a);
}
