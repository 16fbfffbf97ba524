// Throwaway labs for the data-plane tests and benchmarks: the same three-namespace topology
// as the fixed lab (topology.ts: client -> router -> server over veth pairs, IPv4
// 10.199.<n>.x/24 and IPv6 fd99:<n>::x/64, forwarding on in the router), routed without
// NAT and with conntrack accounting left to the rules, named `sltest-nfq-<pid>-<tag>-{c,r,s}`
// so that labs of dead processes can be recognised and removed. Commands go through the
// lab's exec.ts (the agent's Executor); rules are fed to iptables-restore on stdin; the
// rules a test installs are the ones the agent renders (rendered-rules.ts).

import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { parseConntrackLine, type ConntrackEntry } from "@sluice/agent/src/stats/parse.ts";
import { execInNsSync, runSync, type CommandResult } from "./exec.ts";
import { buildTopology, destroyTopology, listNamespaces, type TopologySpec } from "./topology.ts";

export type { ConntrackEntry };

export const LAB_PREFIX = "sltest-nfq-";

/** Why a lab can't be built here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["ip", "iptables-restore", "ip6tables-restore", "conntrack"]) {
    if (runSync(["sh", "-c", 'command -v "$1"', "sh", tool], { allowFail: true }).code !== 0)
      return `${tool} not installed`;
  }
  const probe = `${LAB_PREFIX}${process.pid}-probe`;
  const r = runSync(["ip", "netns", "add", probe], { allowFail: true });
  if (r.code !== 0) return `cannot create network namespaces: ${r.stderr.trim()}`;
  runSync(["ip", "netns", "del", probe], { allowFail: true });
  return null;
}

export function netnsExists(name: string): boolean {
  return listNamespaces().includes(name);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes lab namespaces left behind by processes that no longer exist. */
export function removeStaleLabs(): string[] {
  const removed: string[] = [];
  for (const name of listNamespaces()) {
    const m = new RegExp(`^${LAB_PREFIX}(\\d+)-`).exec(name);
    if (m && !pidAlive(Number(m[1]))) {
      runSync(["ip", "netns", "del", name], { allowFail: true });
      removed.push(name);
    }
  }
  return removed;
}

export interface LabAddresses {
  client4: string;
  router4Client: string;
  router4Server: string;
  server4: string;
  client6: string;
  router6Client: string;
  router6Server: string;
  server6: string;
}

/** The router's interfaces: `r0` faces the client (LAN), `r1` the server (WAN). */
export const ROUTER_LAN = "r0";
export const ROUTER_WAN = "r1";

export class NetnsLab {
  readonly client: string;
  readonly router: string;
  readonly server: string;
  readonly addr: LabAddresses;
  readonly topology: TopologySpec;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(tag: string, net: number) {
    const base = `${LAB_PREFIX}${process.pid}-${tag}`;
    this.client = `${base}-c`;
    this.router = `${base}-r`;
    this.server = `${base}-s`;
    const a = 2 * net; // client side 10.199.a.0/24, server side 10.199.(a+1).0/24
    this.addr = {
      client4: `10.199.${a}.2`,
      router4Client: `10.199.${a}.1`,
      router4Server: `10.199.${a + 1}.1`,
      server4: `10.199.${a + 1}.2`,
      client6: `fd99:${a}::2`,
      router6Client: `fd99:${a}::1`,
      router6Server: `fd99:${a + 1}::1`,
      server6: `fd99:${a + 1}::2`,
    };
    const { addr } = this;
    this.topology = {
      ns: { lan: this.client, box: this.router, wan: this.server },
      ifaces: { box: { lan: ROUTER_LAN, wan: ROUTER_WAN }, lan: "c0", wan: "s0" },
      v4: {
        lanNet: `10.199.${a}.0/24`,
        boxLan: addr.router4Client,
        boxWan: addr.router4Server,
        clients: [addr.client4],
        server: addr.server4,
        prefixLen: 24,
      },
      v6: {
        lanNet: `fd99:${a}::/64`,
        boxLan: addr.router6Client,
        boxWan: addr.router6Server,
        clients: [addr.client6],
        server: addr.server6,
        prefixLen: 64,
      },
      nat: false,
      conntrackAcct: false,
    };
  }

  /**
   * Builds the lab. `net` (0..126) picks the address block so that labs built at the same
   * time don't share addresses (they are in separate namespaces anyway).
   */
  static create(tag: string, net = 50): NetnsLab {
    const lab = new NetnsLab(tag, net);
    try {
      buildTopology(lab.topology);
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  sysctl(ns: string, key: string, value: string): void {
    this.mustExec(ns, "sysctl", ["-q", "-w", `${key}=${value}`]);
  }

  /** Runs a command in a namespace and waits for it (a non-zero exit is returned, not thrown). */
  exec(ns: string, cmd: string, args: string[], input?: string): CommandResult {
    return execInNsSync(ns, [cmd, ...args], {
      allowFail: true,
      timeoutMs: 120_000,
      ...(input === undefined ? {} : { input }),
    });
  }

  /** Runs a command in a namespace; its stdout, or CommandError on a non-zero exit. */
  mustExec(ns: string, cmd: string, args: string[], input?: string): string {
    return execInNsSync(ns, [cmd, ...args], { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) })
      .stdout;
  }

  /** Starts a command in a namespace (killed by `destroy` if still running). */
  spawn(ns: string, cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...options,
    });
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Loads iptables-restore text (with --noflush) into a namespace, IPv4 and/or IPv6. */
  restoreRules(ns: string, rules: string, families: (4 | 6)[] = [4, 6]): void {
    for (const f of families)
      this.mustExec(ns, f === 4 ? "iptables-restore" : "ip6tables-restore", ["--noflush"], rules);
  }

  /** The router's TCP and UDP conntrack entries, read by the agent's own parser. */
  conntrack(family: 4 | 6 = 4): ConntrackEntry[] {
    const out = this.mustExec(this.router, "conntrack", ["-L", "-f", family === 4 ? "ipv4" : "ipv6"]);
    return out.split("\n").flatMap((l) => parseConntrackLine(l) ?? []);
  }

  /** Tears everything down (idempotent): children killed, namespaces deleted. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) child.kill("SIGKILL");
    destroyTopology(this.topology);
  }
}
