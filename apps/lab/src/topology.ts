// Builds and removes a lab's namespaces, links, addresses, routes, forwarding and NAT: one
// builder for the fixed lab (`sluice-lab up`, LAB in constants.ts) and for the throwaway
// labs of the data-plane tests and benchmarks (netns-lab.ts), described by a TopologySpec.
// Everything but `ip netns add/del` happens inside the lab namespaces; the host's own
// interfaces, sysctls and iptables tables are never touched.

import { LAB } from "./constants.ts";
import { runSync } from "./exec.ts";

/** lan (clients) <-> box (the appliance, forwarding) <-> wan (servers). */
export interface TopologySpec {
  ns: { readonly lan: string; readonly box: string; readonly wan: string };
  /** Interface names, per namespace. */
  ifaces: {
    readonly box: { readonly lan: string; readonly wan: string };
    readonly lan: string;
    readonly wan: string;
  };
  v4: TopologyFamily;
  v6: TopologyFamily;
  /** Masquerade the LAN's IPv4 out of the box's WAN side (the WAN has no IPv4 route back). */
  nat: boolean;
  /** nf_conntrack_acct on in the box from the start (the agent sets it too). */
  conntrackAcct: boolean;
}

export interface TopologyFamily {
  readonly lanNet: string;
  readonly boxLan: string;
  readonly boxWan: string;
  readonly clients: readonly string[];
  readonly server: string;
  readonly prefixLen: number;
}

/** The fixed lab's topology (constants.ts). */
export const LAB_TOPOLOGY: TopologySpec = {
  ns: LAB.ns,
  ifaces: LAB.ifaces,
  v4: LAB.v4,
  v6: LAB.v6,
  nat: true,
  conntrackAcct: true,
};

const namespacesOf = (t: TopologySpec) => [t.ns.lan, t.ns.box, t.ns.wan];

/** Namespaces from `ip netns list` (names only). */
export function listNamespaces(): string[] {
  const r = runSync(["ip", "netns", "list"], { allowFail: true });
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter(Boolean);
}

/** The topology's namespaces that currently exist (default: the fixed lab's). */
export function labNamespaces(t: TopologySpec = LAB_TOPOLOGY): string[] {
  const have = new Set(listNamespaces());
  return namespacesOf(t).filter((ns) => have.has(ns));
}

function ipBatch(ns: string, lines: string[]): void {
  runSync(["ip", "-n", ns, "-batch", "-"], { input: lines.join("\n") + "\n" });
}

function inBox(t: TopologySpec, argv: string[], input?: string): void {
  runSync(["ip", "netns", "exec", t.ns.box, ...argv], input === undefined ? {} : { input });
}

export interface TopologyOptions {
  /** Cap the WAN → box direction (a tbf on the WAN namespace's interface), in Mbit/s. */
  rateMbit?: number;
}

/** Creates the three namespaces and everything in them. Assumes none of them exists. */
export function buildTopology(t: TopologySpec = LAB_TOPOLOGY, opts: TopologyOptions = {}): void {
  const { ns, ifaces, v4, v6 } = t;
  for (const n of namespacesOf(t)) runSync(["ip", "netns", "add", n]);
  // Each peer is created under a temporary name, then moved and renamed (both far ends
  // may have the same name, eth0 in the fixed lab).
  for (const [boxDev, far, farDev] of [
    [ifaces.box.lan, ns.lan, ifaces.lan],
    [ifaces.box.wan, ns.wan, ifaces.wan],
  ] as const) {
    runSync(["ip", "-n", ns.box, "link", "add", boxDev, "type", "veth", "peer", "name", `${boxDev}peer`]);
    runSync(["ip", "-n", ns.box, "link", "set", `${boxDev}peer`, "netns", far]);
    runSync(["ip", "-n", far, "link", "set", `${boxDev}peer`, "name", farDev]);
  }

  // GSO capped at one MTU: TCP then leaves each host as wire-sized segments, as from a
  // real NIC, so the box's classifier and HTB see 1500-byte packets, not 64 KB ones.
  const wire = (dev: string) => [`link set ${dev} gso_max_size 1500`, `link set ${dev} up`];
  const p4 = `/${v4.prefixLen}`;
  const p6 = `/${v6.prefixLen}`;

  ipBatch(ns.box, [
    "link set lo up",
    ...wire(ifaces.box.lan),
    ...wire(ifaces.box.wan),
    `addr add ${v4.boxLan}${p4} dev ${ifaces.box.lan}`,
    `addr add ${v6.boxLan}${p6} dev ${ifaces.box.lan} nodad`,
    `addr add ${v4.boxWan}${p4} dev ${ifaces.box.wan}`,
    `addr add ${v6.boxWan}${p6} dev ${ifaces.box.wan} nodad`,
  ]);
  ipBatch(ns.lan, [
    "link set lo up",
    ...wire(ifaces.lan),
    ...v4.clients.map((a) => `addr add ${a}${p4} dev ${ifaces.lan}`),
    ...v6.clients.map((a) => `addr add ${a}${p6} dev ${ifaces.lan} nodad`),
    `route add default via ${v4.boxLan}`,
    `route add default via ${v6.boxLan}`,
  ]);
  // With NAT, no IPv4 route to the LAN from the WAN side: LAN traffic only reaches it
  // masqueraded. IPv6 is always routed.
  ipBatch(ns.wan, [
    "link set lo up",
    ...wire(ifaces.wan),
    `addr add ${v4.server}${p4} dev ${ifaces.wan}`,
    `addr add ${v6.server}${p6} dev ${ifaces.wan} nodad`,
    ...(t.nat
      ? [`route add ${v6.lanNet} via ${v6.boxWan}`]
      : [`route add default via ${v4.boxWan}`, `route add default via ${v6.boxWan}`]),
  ]);

  // The box: forwarding, NAT (its own nat table, via iptables-restore --noflush on stdin),
  // conntrack for IPv6 too, accounting.
  if (t.nat)
    inBox(
      t,
      ["iptables-restore", "--noflush"],
      [
        "*nat",
        ":POSTROUTING ACCEPT [0:0]",
        `-A POSTROUTING -s ${v4.lanNet} -o ${ifaces.box.wan} -j MASQUERADE`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  // A conntrack match registers the netns's IPv6 conntrack hooks (an empty ip6 nat table
  // does not); it sits in a chain of its own that nothing jumps to, so it filters nothing.
  inBox(
    t,
    ["ip6tables-restore", "--noflush"],
    ["*raw", ":sluice-lab-ct - [0:0]", "-A sluice-lab-ct -m conntrack --ctstate NEW", "COMMIT", ""].join(
      "\n",
    ),
  );
  inBox(t, [
    "sysctl",
    "-q",
    "-w",
    "net.ipv4.ip_forward=1",
    "net.ipv6.conf.all.forwarding=1",
    ...(t.conntrackAcct ? ["net.netfilter.nf_conntrack_acct=1"] : []),
  ]);

  if (opts.rateMbit) {
    const bytesPerSec = (opts.rateMbit * 1e6) / 8;
    const burst = Math.max(16 * 1024, Math.ceil(bytesPerSec / 100)); // >= 10 ms at rate
    runSync([
      "ip",
      "netns",
      "exec",
      ns.wan,
      "tc",
      "qdisc",
      "replace",
      "dev",
      ifaces.wan,
      "root",
      "tbf",
      "rate",
      `${opts.rateMbit}mbit`,
      "burst",
      String(burst),
      "latency",
      "50ms",
    ]);
  }
}

/** Deletes whichever of the topology's namespaces exist (their veths go with them). Safe to repeat. */
export function destroyTopology(t: TopologySpec = LAB_TOPOLOGY): string[] {
  const errors: string[] = [];
  for (const n of labNamespaces(t)) {
    let r = runSync(["ip", "netns", "del", n], { allowFail: true });
    // A namespace can be busy for a moment after its last process exited.
    for (let attempt = 0; r.code !== 0 && attempt < 4 && labNamespaces(t).includes(n); attempt++) {
      runSync(["sleep", "0.2"]);
      r = runSync(["ip", "netns", "del", n], { allowFail: true });
    }
    if (r.code !== 0 && labNamespaces(t).includes(n)) errors.push(`ip netns del ${n}: ${r.stderr.trim()}`);
  }
  return errors;
}
