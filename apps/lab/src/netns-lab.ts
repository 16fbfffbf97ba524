// A three-namespace lab for the data-plane tests and benchmark: client -> router -> server
// over veth pairs, IPv4 10.199.<n>.x/24 and IPv6 fd99:<n>::x/64, forwarding on in the
// router. Every command is run with an argument vector (no shell); rules are fed to
// iptables-restore on stdin. Namespaces are named `sltest-nfq-<pid>-<tag>-{c,r,s}` so that
// labs of dead processes can be recognised and removed.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";

export const LAB_PREFIX = "sltest-nfq-";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string): RunResult {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { code: -1, stdout: "", stderr: r.error.message };
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function must(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Why a lab can't be built here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["ip", "iptables-restore", "ip6tables-restore", "conntrack"]) {
    if (run("sh", ["-c", 'command -v "$1"', "sh", tool]).code !== 0) return `${tool} not installed`;
  }
  const probe = `${LAB_PREFIX}${process.pid}-probe`;
  const r = run("ip", ["netns", "add", probe]);
  if (r.code !== 0) return `cannot create network namespaces: ${r.stderr.trim()}`;
  run("ip", ["netns", "del", probe]);
  return null;
}

export function netnsExists(name: string): boolean {
  return run("ip", ["netns", "list"])
    .stdout.split("\n")
    .some((l) => l.split(" ")[0] === name);
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
  for (const line of run("ip", ["netns", "list"]).stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = new RegExp(`^${LAB_PREFIX}(\\d+)-`).exec(name);
    if (m && !pidAlive(Number(m[1]))) {
      run("ip", ["netns", "del", name]);
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

export class NetnsLab {
  readonly client: string;
  readonly router: string;
  readonly server: string;
  readonly addr: LabAddresses;
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
  }

  /**
   * Builds the lab. `net` (0..126) picks the address block so that labs built at the same
   * time don't share addresses (they are in separate namespaces anyway).
   */
  static create(tag: string, net = 50): NetnsLab {
    const lab = new NetnsLab(tag, net);
    try {
      lab.build();
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  private build(): void {
    const { client: c, router: r, server: s, addr } = this;
    for (const ns of [c, r, s]) must("ip", ["netns", "add", ns]);
    must("ip", ["link", "add", "c0", "netns", c, "type", "veth", "peer", "name", "r0", "netns", r]);
    must("ip", ["link", "add", "s0", "netns", s, "type", "veth", "peer", "name", "r1", "netns", r]);
    const plen = (ip: string) => (ip.includes(":") ? "/64" : "/24");
    const addrs: [string, string, string[]][] = [
      [c, "c0", [addr.client4, addr.client6]],
      [r, "r0", [addr.router4Client, addr.router6Client]],
      [r, "r1", [addr.router4Server, addr.router6Server]],
      [s, "s0", [addr.server4, addr.server6]],
    ];
    for (const [ns, dev, ips] of addrs) {
      for (const ip of ips) {
        const extra = ip.includes(":") ? ["nodad"] : [];
        must("ip", ["-n", ns, "addr", "add", ip + plen(ip), "dev", dev, ...extra]);
      }
      must("ip", ["-n", ns, "link", "set", dev, "up"]);
    }
    for (const ns of [c, r, s]) must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    must("ip", ["-n", c, "route", "add", "default", "via", addr.router4Client]);
    must("ip", ["-n", c, "-6", "route", "add", "default", "via", addr.router6Client]);
    must("ip", ["-n", s, "route", "add", "default", "via", addr.router4Server]);
    must("ip", ["-n", s, "-6", "route", "add", "default", "via", addr.router6Server]);
    this.sysctl(r, "net.ipv4.ip_forward", "1");
    this.sysctl(r, "net.ipv6.conf.all.forwarding", "1");
  }

  sysctl(ns: string, key: string, value: string): void {
    must("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", `${key}=${value}`]);
  }

  /** Runs a command in a namespace and waits for it. */
  exec(ns: string, cmd: string, args: string[], input?: string): RunResult {
    return run("ip", ["netns", "exec", ns, cmd, ...args], input);
  }

  mustExec(ns: string, cmd: string, args: string[], input?: string): string {
    return must("ip", ["netns", "exec", ns, cmd, ...args], input);
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

  /** The router's conntrack table. */
  conntrack(family: 4 | 6 = 4): ConntrackEntry[] {
    const r = this.exec(this.router, "conntrack", ["-L", "-f", family === 4 ? "ipv4" : "ipv6"]);
    if (r.code !== 0) throw new Error(`conntrack -L failed: ${r.stderr}`);
    return parseConntrack(r.stdout);
  }

  /** Tears everything down (idempotent): children killed, namespaces deleted. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) child.kill("SIGKILL");
    for (const ns of [this.client, this.router, this.server]) {
      for (let attempt = 0; attempt < 5; attempt++) {
        if (run("ip", ["netns", "del", ns]).code === 0 || !netnsExists(ns)) break;
        spawnSync("sleep", ["0.2"]);
      }
    }
  }
}

export interface ConntrackEntry {
  l4: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  mark: number;
  packets: number | null;
  raw: string;
}

/** Parses `conntrack -L` lines (original direction's tuple, the mark, packets if accounted). */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split("\n")) {
    const l4 = /^(?:ipv[46]\s+\d+\s+)?(tcp|udp|icmp|icmpv6|\w+)\s/.exec(line)?.[1];
    if (!l4 || line.startsWith("conntrack")) continue;
    const first = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1];
    const src = first("src");
    const dst = first("dst");
    if (!src || !dst) continue;
    const pk = first("packets");
    out.push({
      l4,
      src,
      dst,
      sport: Number(first("sport") ?? 0),
      dport: Number(first("dport") ?? 0),
      mark: Number(first("mark") ?? 0),
      packets: pk === undefined ? null : Number(pk),
      raw: line,
    });
  }
  return out;
}

export interface SluiceRuleOptions {
  /** --queue-balance range. */
  firstQueue: number;
  lastQueue: number;
  /** Mark mask and the value of "unset" inside it (1 << shift). */
  mask: number;
  unset: number;
  /** Packets (both directions) that may be queued per connection (l7-filter window). */
  windowPackets: number;
  /**
   * "reference": the layout as first specified (restore; queue if 0; queue if unset; save
   * every marked packet). "lean": the same behaviour with less work per packet once a
   * connection is classified: one queue rule matching 0 and unset at once (they differ in
   * the field's lowest bit only), and POSTROUTING only enters the save chain while the
   * connection's mark is still 0/unset, so a classified connection's packets skip it.
   */
  layout?: "reference" | "lean";
}

/**
 * The mangle rules that feed the data plane (iptables-restore --noflush text): restore the
 * connection's mark, queue the first packets of connections that are unclassified (0) or
 * still being inspected (unset), and save a classified mark back to the connection.
 */
export function sluiceMangleRules(o: SluiceRuleOptions): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const mask = hex(o.mask);
  const queue =
    o.firstQueue === o.lastQueue
      ? `--queue-num ${o.firstQueue}`
      : `--queue-balance ${o.firstQueue}:${o.lastQueue}`;
  const window = `-m connbytes --connbytes 0:${o.windowPackets} --connbytes-dir both --connbytes-mode packets`;
  const restore = `-A SLUICE_PRE -j CONNMARK --restore-mark --nfmask ${mask} --ctmask ${mask}`;
  const save = `-j CONNMARK --save-mark --nfmask ${mask} --ctmask ${mask}`;
  if ((o.layout ?? "reference") === "lean") {
    if (o.unset !== (o.mask & -o.mask))
      throw new RangeError("the lean layout needs unset = the mask's lowest bit");
    // Matches field values 0 and 1 (unset): the mask without the field's lowest bit.
    const zeroOrUnset = hex((o.mask & ~o.unset) >>> 0);
    return [
      "*mangle",
      ":SLUICE_PRE - [0:0]",
      ":SLUICE_POST - [0:0]",
      "-A PREROUTING -j SLUICE_PRE",
      `-A POSTROUTING -m connmark --mark 0x0/${zeroOrUnset} -j SLUICE_POST`,
      restore,
      `-A SLUICE_PRE -m mark --mark 0x0/${zeroOrUnset} ${window} -j NFQUEUE ${queue} --queue-bypass`,
      `-A SLUICE_POST -m mark ! --mark 0x0/${zeroOrUnset} ${save}`,
      "COMMIT",
      "",
    ].join("\n");
  }
  return [
    "*mangle",
    ":SLUICE_PRE - [0:0]",
    ":SLUICE_POST - [0:0]",
    "-A PREROUTING -j SLUICE_PRE",
    "-A POSTROUTING -j SLUICE_POST",
    restore,
    `-A SLUICE_PRE -m mark --mark 0x0/${mask} ${window} -j NFQUEUE ${queue} --queue-bypass`,
    `-A SLUICE_PRE -m mark --mark ${hex(o.unset)}/${mask} ${window} -j NFQUEUE ${queue} --queue-bypass`,
    `-A SLUICE_POST -m mark ! --mark 0x0/${mask} ${save}`,
    "COMMIT",
    "",
  ].join("\n");
}
