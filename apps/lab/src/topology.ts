// Builds and removes the lab's namespaces, links, addresses, routes, forwarding and NAT.
// Everything but `ip netns add/del` happens inside the lab namespaces; the host's own
// interfaces, sysctls and iptables tables are never touched.

import { LAB } from "./constants.ts";
import { run, runSync } from "./exec.ts";

const ALL_NS = [LAB.ns.lan, LAB.ns.box, LAB.ns.wan] as const;

/** Namespaces from `ip netns list` (names only). */
export function listNamespaces(): string[] {
  const r = runSync(["ip", "netns", "list"], { allowFail: true });
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter(Boolean);
}

/** The lab namespaces that currently exist. */
export function labNamespaces(): string[] {
  const have = new Set(listNamespaces());
  return ALL_NS.filter((ns) => have.has(ns));
}

function ipBatch(ns: string, lines: string[]): Promise<unknown> {
  return run(["ip", "-n", ns, "-batch", "-"], { input: lines.join("\n") + "\n" });
}

export interface TopologyOptions {
  /** Cap the WAN → box direction (a tbf on sluice-wan's eth0 egress), in Mbit/s. */
  rateMbit?: number;
}

/** Creates the three namespaces and everything in them. Assumes none of them exists. */
export async function buildTopology(opts: TopologyOptions = {}): Promise<void> {
  const { ns, ifaces, v4, v6 } = LAB;
  for (const n of ALL_NS) await run(["ip", "netns", "add", n]);
  await run(["ip", "-n", ns.box, "link", "add", ifaces.box.lan, "type", "veth", "peer", "name", ifaces.lan]);
  await run(["ip", "-n", ns.box, "link", "set", ifaces.lan, "netns", ns.lan]);
  // The second peer is also called eth0; create it as a temporary name, then move + rename.
  await run(["ip", "-n", ns.box, "link", "add", ifaces.box.wan, "type", "veth", "peer", "name", "wanpeer0"]);
  await run(["ip", "-n", ns.box, "link", "set", "wanpeer0", "netns", ns.wan]);
  await run(["ip", "-n", ns.wan, "link", "set", "wanpeer0", "name", ifaces.wan]);

  // GSO capped at one MTU: TCP then leaves each host as wire-sized segments, as from a
  // real NIC, so the box's classifier and HTB see 1500-byte packets, not 64 KB ones.
  const wire = (dev: string) => [`link set ${dev} gso_max_size 1500`, `link set ${dev} up`];
  const p4 = `/${v4.prefixLen}`;
  const p6 = `/${v6.prefixLen}`;

  await ipBatch(ns.box, [
    "link set lo up",
    ...wire(ifaces.box.lan),
    ...wire(ifaces.box.wan),
    `addr add ${v4.boxLan}${p4} dev ${ifaces.box.lan}`,
    `addr add ${v6.boxLan}${p6} dev ${ifaces.box.lan} nodad`,
    `addr add ${v4.boxWan}${p4} dev ${ifaces.box.wan}`,
    `addr add ${v6.boxWan}${p6} dev ${ifaces.box.wan} nodad`,
  ]);
  await ipBatch(ns.lan, [
    "link set lo up",
    ...wire(ifaces.lan),
    ...v4.clients.map((a) => `addr add ${a}${p4} dev ${ifaces.lan}`),
    ...v6.clients.map((a) => `addr add ${a}${p6} dev ${ifaces.lan} nodad`),
    `route add default via ${v4.boxLan}`,
    `route add default via ${v6.boxLan}`,
  ]);
  // No IPv4 route to the LAN from the WAN side: LAN traffic only reaches it masqueraded.
  await ipBatch(ns.wan, [
    "link set lo up",
    ...wire(ifaces.wan),
    `addr add ${v4.server}${p4} dev ${ifaces.wan}`,
    `addr add ${v6.server}${p6} dev ${ifaces.wan} nodad`,
    `route add ${v6.lanNet} via ${v6.boxWan}`,
  ]);

  // The box: forwarding, NAT (its own nat table, via iptables-restore --noflush on stdin),
  // conntrack for IPv6 too, accounting.
  await run(["ip", "netns", "exec", ns.box, "iptables-restore", "--noflush"], {
    input: [
      "*nat",
      ":POSTROUTING ACCEPT [0:0]",
      `-A POSTROUTING -s ${v4.lanNet} -o ${ifaces.box.wan} -j MASQUERADE`,
      "COMMIT",
      "",
    ].join("\n"),
  });
  // A conntrack match registers the netns's IPv6 conntrack hooks (an empty ip6 nat table
  // does not); it sits in a chain of its own that nothing jumps to, so it filters nothing.
  await run(["ip", "netns", "exec", ns.box, "ip6tables-restore", "--noflush"], {
    input: [
      "*raw",
      ":sluice-lab-ct - [0:0]",
      "-A sluice-lab-ct -m conntrack --ctstate NEW",
      "COMMIT",
      "",
    ].join("\n"),
  });
  await run([
    "ip",
    "netns",
    "exec",
    ns.box,
    "sysctl",
    "-q",
    "-w",
    "net.ipv4.ip_forward=1",
    "net.ipv6.conf.all.forwarding=1",
    "net.netfilter.nf_conntrack_acct=1",
  ]);

  if (opts.rateMbit) {
    const bytesPerSec = (opts.rateMbit * 1e6) / 8;
    const burst = Math.max(16 * 1024, Math.ceil(bytesPerSec / 100)); // >= 10 ms at rate
    await run([
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

/** Deletes whichever lab namespaces exist (their veths go with them). Safe to repeat. */
export function destroyTopology(): string[] {
  const errors: string[] = [];
  for (const n of labNamespaces()) {
    const r = runSync(["ip", "netns", "del", n], { allowFail: true });
    if (r.code !== 0) errors.push(`ip netns del ${n}: ${r.stderr.trim()}`);
  }
  return errors;
}
