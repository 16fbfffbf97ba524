// A kernel in memory, behind the Executor interface: it keeps what `tc -batch`,
// `iptables-restore --noflush` and `nft -f` installed and answers `tc … show`,
// `iptables-save`, `nft -j list …` and the accounting reads from it, so the real Agent (its diff, validation, apply, verify and
// rollback) runs without root and without touching the machine. Every command is recorded.
// It checks what a kernel would refuse (a missing device or parent, a second root qdisc, a
// rule or chain that is not there) and each restore is atomic, like the real one. `failWhen`
// injects a failure.

import type { CommandResult, Executor, RunOptions } from "../kernel/executor.ts";
import { FakeNft, NftRefused } from "./fake-nft.ts";

interface Qdisc {
  kind: string;
  handle: string;
  /** "root", "ingress" or the parent class id. */
  parent: string;
  args: string[];
}

interface TcClass {
  classid: string;
  parent: string;
  rate: number;
  ceil: number;
  prio: number;
  bytes: number;
  packets: number;
}

interface TcFilter {
  parent: string;
  prio: string;
  spec: string[];
}

interface Device {
  qdiscs: Qdisc[];
  classes: TcClass[];
  filters: TcFilter[];
}

type Table = Map<string, string[]>;

const BUILTIN = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

const emptyTable = (): Table => new Map(BUILTIN.map((c) => [c, []]));
const cloneTable = (t: Table): Table => new Map([...t].map(([k, v]) => [k, [...v]]));

class Refused extends Error {}

/** "20000000bit" → 20000000; tc also takes kbit/mbit. */
function parseRate(text: string): number {
  const m = /^([\d.]+)(bit|kbit|mbit|gbit)$/i.exec(text);
  if (!m) throw new Refused(`Error: invalid rate "${text}"`);
  return Number(m[1]) * { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m[2]!.toLowerCase() as "bit"];
}

/** As tc prints a rate: 20Mbit, 512Kbit, 1500bit. */
function showRate(bps: number): string {
  if (bps >= 1e6 && bps % 1e4 === 0) return `${bps / 1e6}Mbit`;
  if (bps >= 1e3 && bps % 10 === 0) return `${bps / 1e3}Kbit`;
  return `${bps}bit`;
}

/** A value after a keyword in tc's argument list. */
function after(args: readonly string[], key: string): string | undefined {
  const i = args.indexOf(key);
  return i >= 0 ? args[i + 1] : undefined;
}

export interface FakeKernelOptions {
  /** Network devices that exist (default wan0 and lan0). */
  links?: string[];
}

export class FakeKernel implements Executor {
  readonly links: Set<string>;
  readonly devices = new Map<string, Device>();
  readonly tables: Record<4 | 6, Table> = { 4: emptyTable(), 6: emptyTable() };
  /** Every command run, in order, with its stdin. */
  readonly log: { argv: string[]; input?: string; code: number }[] = [];
  /** The nftables tables (`nft -f` scripts, `nft -j list` answers). */
  readonly nft = new FakeNft();
  /** `conntrack -L` lines per family, as the real tool prints them. */
  readonly conntrack: Record<4 | 6, string[]> = { 4: [], 6: [] };
  /** Byte and packet counters of rules, by family, chain and the rule's comment. */
  private readonly ruleCounters = new Map<string, { bytes: number; packets: number }>();
  private failures: { when: (argv: string[], input: string | undefined) => boolean; stderr: string }[] = [];

  constructor(opts: FakeKernelOptions = {}) {
    this.links = new Set(opts.links ?? ["wan0", "lan0"]);
  }

  /** The next command matching `when` fails with `stderr` (exit 1) without changing anything. */
  failWhen(when: (argv: string[], input: string | undefined) => boolean, stderr = "injected failure"): void {
    this.failures.push({ when, stderr });
  }

  /** Counts traffic on a class, as the qdisc would (shows in `tc -s class show`). */
  count(device: string, classid: string, bytes: number, packets = Math.ceil(bytes / 1500)): void {
    const c = this.devices.get(device)?.classes.find((x) => x.classid === classid);
    if (!c) throw new Error(`fake kernel: no class ${classid} on ${device}`);
    c.bytes += bytes;
    c.packets += packets;
  }

  /** Counts traffic on the rule of `chain` commented `comment` (shows in `iptables -nvxL`). */
  countRule(
    family: 4 | 6,
    chain: string,
    comment: string,
    bytes: number,
    packets = Math.ceil(bytes / 1200),
  ): void {
    const key = `${family} ${chain} ${comment}`;
    const c = this.ruleCounters.get(key) ?? { bytes: 0, packets: 0 };
    c.bytes += Math.round(bytes);
    c.packets += packets;
    this.ruleCounters.set(key, c);
  }

  /** The commands run so far whose argv starts with `prefix`. */
  ran(...prefix: string[]): { argv: string[]; input?: string; code: number }[] {
    return this.log.filter((l) => prefix.every((p, i) => l.argv[i] === p));
  }

  async run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const r = this.answer(argv, opts.input);
    this.log.push({ argv, ...(opts.input !== undefined ? { input: opts.input } : {}), code: r.code });
    return r;
  }

  private answer(argv: string[], input: string | undefined): CommandResult {
    const ok = (stdout = ""): CommandResult => ({ argv, code: 0, stdout, stderr: "" });
    const fail = (stderr: string, code = 1): CommandResult => ({ argv, code, stdout: "", stderr });
    const f = this.failures.findIndex((x) => x.when(argv, input));
    if (f >= 0) {
      const { stderr } = this.failures.splice(f, 1)[0]!;
      return fail(stderr);
    }
    try {
      const [cmd, ...a] = argv;
      switch (cmd) {
        case "sysctl":
          return ok();
        case "ip":
          return ok(this.ip(a));
        case "tc":
          return ok(this.tc(a, input));
        case "iptables-save":
          return ok(this.save(4));
        case "ip6tables-save":
          return ok(this.save(6));
        case "iptables-restore":
          this.restore(4, input ?? "");
          return ok();
        case "ip6tables-restore":
          this.restore(6, input ?? "");
          return ok();
        case "iptables":
          return ok(this.list(4, a));
        case "ip6tables":
          return ok(this.list(6, a));
        case "nft":
          return ok(this.nft.run(a, input));
        case "conntrack":
          return ok(this.conntrack[a.includes("ipv6") ? 6 : 4].map((l) => `${l}\n`).join(""));
        default:
          return fail(`fake kernel: ${cmd}: command not found`, 127);
      }
    } catch (e) {
      if (e instanceof Refused) return fail(e.message, 2);
      if (e instanceof NftRefused) return fail(e.message, 1);
      throw e;
    }
  }

  private device(name: string): Device {
    if (!this.links.has(name)) throw new Refused(`Cannot find device "${name}"`);
    let d = this.devices.get(name);
    if (!d) this.devices.set(name, (d = { qdiscs: [], classes: [], filters: [] }));
    return d;
  }

  private ip(a: string[]): string {
    // ip link add NAME type ifb | ip link set NAME up | ip link del NAME
    if (a[0] !== "link") throw new Refused(`fake kernel: ip ${a.join(" ")} not supported`);
    const name = a[2]!;
    if (a[1] === "add") {
      if (this.links.has(name)) throw new Refused("RTNETLINK answers: File exists");
      this.links.add(name);
    } else if (a[1] === "del") {
      if (!this.links.delete(name)) throw new Refused(`Cannot find device "${name}"`);
      this.devices.delete(name);
    } else if (a[1] === "set") {
      if (!this.links.has(name)) throw new Refused(`Cannot find device "${name}"`);
    } else throw new Refused(`fake kernel: ip link ${a[1]} not supported`);
    return "";
  }

  private tc(a: string[], input: string | undefined): string {
    if (a[0] === "-force" && a[1] === "-batch") {
      // each line on its own (what -force does), the outputs one after the other; this fake
      // refuses the whole batch if a line fails (real tc prints the others' output too)
      const lines = (input ?? "").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
      const failed: string[] = [];
      const out = lines.map((l, i) => {
        try {
          return this.tcCommand(l.trim().split(/\s+/));
        } catch (e) {
          if (!(e instanceof Refused)) throw e;
          failed.push(`${e.message}\nCommand failed -:${i + 1}`);
          return "";
        }
      });
      if (failed.length) throw new Refused(failed.join("\n"));
      return out.join("");
    }
    if (a[0] === "-batch") {
      // one transaction per batch, as far as this fake goes: all lines or none
      const saved = structuredClone([...this.devices]);
      const lines = (input ?? "").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
      try {
        lines.forEach((l, i) => {
          try {
            this.tcCommand(l.trim().split(/\s+/));
          } catch (e) {
            throw e instanceof Refused ? new Refused(`${e.message}\nCommand failed -:${i + 1}`) : e;
          }
        });
      } catch (e) {
        this.devices.clear();
        for (const [k, v] of saved) this.devices.set(k, v);
        throw e;
      }
      return "";
    }
    const stats = a[0] === "-s";
    return this.tcCommand(stats ? a.slice(1) : a, stats);
  }

  private tcCommand(a: string[], stats = false): string {
    const [object, verb] = a;
    const dev = after(a, "dev");
    if (!dev) throw new Refused("fake kernel: tc without dev");
    const d = this.device(dev);
    if (verb === "show") {
      if (object === "qdisc") return this.showQdiscs(d);
      if (object === "class") return this.showClasses(d, stats);
      if (object === "filter") return this.showFilters(d);
    }
    if (object === "qdisc" && verb === "add") return this.addQdisc(d, a);
    if (object === "qdisc" && verb === "del") {
      const which = a.includes("ingress") ? "ingress" : a.includes("root") ? "root" : null;
      if (!which) throw new Refused("fake kernel: qdisc del needs root or ingress");
      const q = d.qdiscs.find((x) => x.parent === which);
      if (!q) throw new Refused("Error: Cannot delete qdisc with handle of zero.");
      if (which === "ingress") {
        d.qdiscs = d.qdiscs.filter((x) => x !== q);
        d.filters = d.filters.filter((x) => x.parent !== q.handle);
      } else {
        d.qdiscs = d.qdiscs.filter((x) => x.parent === "ingress");
        const ingress = d.qdiscs[0]?.handle;
        d.classes = [];
        d.filters = d.filters.filter((x) => x.parent === ingress);
      }
      return "";
    }
    if (object === "class" && verb === "add") {
      const classid = after(a, "classid")!;
      const parent = after(a, "parent")!;
      const major = `${parent.split(":")[0]}:`;
      if (!d.qdiscs.some((q) => q.handle === major && q.kind === "htb"))
        throw new Refused("Error: Specified qdisc kind is unknown or parent is not an htb qdisc.");
      if (parent !== major && !d.classes.some((c) => c.classid === parent))
        throw new Refused(`Error: parent class ${parent} not found.`);
      if (d.classes.some((c) => c.classid === classid)) throw new Refused("RTNETLINK answers: File exists");
      const rate = parseRate(after(a, "rate")!);
      d.classes.push({
        classid,
        parent,
        rate,
        ceil: after(a, "ceil") ? parseRate(after(a, "ceil")!) : rate,
        prio: Number(after(a, "prio") ?? 0),
        bytes: 0,
        packets: 0,
      });
      return "";
    }
    if (object === "filter" && verb === "add") {
      const parent = after(a, "parent")!;
      if (!d.qdiscs.some((q) => q.handle === parent))
        throw new Refused("Error: Parent Qdisc doesn't exists.");
      const prio = after(a, "prio") ?? "0";
      d.filters.push({ parent, prio, spec: a.slice(a.indexOf(prio, a.indexOf("prio")) + 1) });
      return "";
    }
    throw new Refused(`fake kernel: tc ${a.join(" ")} not supported`);
  }

  private addQdisc(d: Device, a: string[]): string {
    const handle = after(a, "handle") ?? "0:";
    const parent = a.includes("root") ? "root" : a.includes("ingress") ? "ingress" : after(a, "parent")!;
    const kindAt = a.indexOf(handle, a.indexOf("handle")) + 1;
    const kind = a.includes("ingress") ? "ingress" : a[kindAt]!;
    if ((parent === "root" || parent === "ingress") && d.qdiscs.some((q) => q.parent === parent))
      throw new Refused("Error: Exclusivity flag on, cannot modify.");
    if (parent !== "root" && parent !== "ingress") {
      if (!d.classes.some((c) => c.classid === parent))
        throw new Refused("Error: Failed to find qdisc with specified classid.");
      if (d.qdiscs.some((q) => q.handle === handle))
        throw new Refused("Error: Exclusivity flag on, cannot modify.");
    }
    d.qdiscs.push({ kind, handle, parent, args: kind === "ingress" ? [] : a.slice(kindAt + 1) });
    return "";
  }

  private showQdiscs(d: Device): string {
    if (!d.qdiscs.some((q) => q.parent === "root"))
      d = { ...d, qdiscs: [{ kind: "noqueue", handle: "0:", parent: "root", args: [] }, ...d.qdiscs] };
    return d.qdiscs
      .map((q) => {
        if (q.parent === "root") {
          const def = after(q.args, "default");
          const opts =
            q.kind === "htb"
              ? ` r2q ${after(q.args, "r2q") ?? 10} default 0x${def ?? 0} direct_packets_stat 0 direct_qlen 1000`
              : "";
          return `qdisc ${q.kind} ${q.handle} root refcnt 2${opts}\n`;
        }
        if (q.parent === "ingress") return `qdisc ingress ffff: parent ffff:fff1 ----------------\n`;
        const args = q.kind === "pfifo" ? [`limit ${after(q.args, "limit") ?? 1000}p`] : q.args;
        return `qdisc ${q.kind} ${q.handle} parent ${q.parent} ${args.join(" ")}`.trimEnd() + "\n";
      })
      .join("");
  }

  private showClasses(d: Device, stats: boolean): string {
    return d.classes
      .map((c) => {
        const root = !d.classes.some((p) => p.classid === c.parent);
        const leaf = d.qdiscs.find((q) => q.parent === c.classid);
        const head =
          `class htb ${c.classid} ${root ? "root" : `parent ${c.parent}`}${leaf ? ` leaf ${leaf.handle}` : ""} ` +
          `${root ? "" : `prio ${c.prio} `}rate ${showRate(c.rate)} ceil ${showRate(c.ceil)} burst 1600b cburst 1600b`;
        if (!stats) return `${head}\n`;
        return (
          `${head}\n Sent ${c.bytes} bytes ${c.packets} pkt (dropped 0, overlimits 0 requeues 0)\n` +
          ` backlog 0b 0p requeues 0\n lended: 0 borrowed: 0 giants: 0\n tokens: 0 ctokens: 0\n\n`
        );
      })
      .join("");
  }

  private showFilters(d: Device): string {
    return d.filters
      .map((f) => `filter parent ${f.parent} protocol all pref ${f.prio} ${f.spec.join(" ")}\n`)
      .join("");
  }

  private save(family: 4 | 6): string {
    const t = this.tables[family];
    const user = [...t.keys()].filter((c) => !BUILTIN.includes(c)).sort();
    const out = [`# Generated by ${family === 4 ? "iptables" : "ip6tables"}-save (fake kernel)`, "*mangle"];
    for (const c of BUILTIN) out.push(`:${c} ACCEPT [0:0]`);
    for (const c of user) out.push(`:${c} - [0:0]`);
    for (const c of [...BUILTIN, ...user].sort()) for (const r of t.get(c)!) out.push(`-A ${c} ${r}`);
    out.push("COMMIT", "# Completed", "");
    return out.join("\n");
  }

  /** `iptables -w -t mangle -nvxL CHAIN`: each rule's counters (see countRule) and comment. */
  private list(family: 4 | 6, a: string[]): string {
    const chain = after(a, "-nvxL");
    const rules = chain ? this.tables[family].get(chain) : undefined;
    if (!rules) throw new Refused(`iptables: No chain/target/match by that name.`);
    const out = [
      `Chain ${chain} (1 references)`,
      "    pkts      bytes target     prot opt in     out     source               destination",
    ];
    for (const r of rules) {
      const m = /--comment "((?:[^"\\]|\\.)*)"|--comment (\S+)/.exec(r);
      const comment = m ? (m[1] ?? m[2]!) : null;
      const n = comment ? this.ruleCounters.get(`${family} ${chain} ${comment}`) : undefined;
      out.push(
        `${String(n?.packets ?? 0).padStart(8)} ${String(n?.bytes ?? 0).padStart(8)}            all  --  *      *       0.0.0.0/0            0.0.0.0/0           ${comment ? ` /* ${comment} */` : ""}`,
      );
    }
    return out.join("\n") + "\n";
  }

  /** `iptables-restore --noflush`: the whole input applies, or nothing does. */
  private restore(family: 4 | 6, input: string): void {
    const t = cloneTable(this.tables[family]);
    const lines = input.split("\n");
    let table: string | null = null;
    lines.forEach((raw, i) => {
      const line = raw.trim();
      const refuse = (why: string) => {
        throw new Refused(`iptables-restore: line ${i + 1} failed: ${why}`);
      };
      if (!line || line.startsWith("#")) return;
      if (line.startsWith("*")) return void (table = line.slice(1));
      if (table !== "mangle") refuse(`only the mangle table is faked (line: ${line})`);
      if (line === "COMMIT") return void (table = null);
      if (line.startsWith(":")) {
        const name = line.slice(1).split(" ")[0]!;
        // declaring a user chain creates it, or flushes it under --noflush
        if (!BUILTIN.includes(name)) t.set(name, []);
        return;
      }
      const m = /^(-[AIDXF]) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return refuse(`cannot parse "${line}"`);
      const [, verb, chain, rest = ""] = m as unknown as [string, string, string, string | undefined];
      const rules = t.get(chain);
      if (!rules) return refuse(`chain ${chain} does not exist`);
      const target = /-j (\S+)/.exec(rest)?.[1];
      if (target?.startsWith("SLUICE_") && !t.has(target)) return refuse(`Couldn't load target \`${target}'`);
      if (verb === "-A") rules.push(rest);
      else if (verb === "-I") {
        const n = /^(\d+) (.*)$/.exec(rest);
        if (n) rules.splice(Number(n[1]) - 1, 0, n[2]!);
        else rules.unshift(rest);
      } else if (verb === "-D") {
        const at = rules.indexOf(rest);
        if (at < 0) return refuse("Bad rule (does a matching rule exist in that chain?)");
        rules.splice(at, 1);
      } else if (verb === "-F") rules.length = 0;
      else if (verb === "-X") {
        if (BUILTIN.includes(chain)) return refuse(`cannot delete built-in chain ${chain}`);
        if ([...t.values()].some((rs) => rs.some((r) => r.endsWith(`-j ${chain}`))))
          return refuse(`chain ${chain} is still referenced`);
        t.delete(chain);
      }
    });
    if (table !== null) throw new Refused("iptables-restore: COMMIT expected at line " + lines.length);
    this.tables[family] = t;
  }
}
