// Live accounting, sampled every second: per class (tc counters), per protocol (nftables
// named counters, or the SLUICE_ACCT chain's counters without nftables, and conntrack
// marks), per application and category (the same, and the app field of conntrack marks),
// top talkers (conntrack bytes).
//
// The counters are read in process over netlink (kernel-counters.ts): no process per
// sample. The conntrack table is the one part whose cost grows with the number of
// connections, so it is dumped (streamed, never held as text) at most as often as keeps
// its cost under a fixed share of a core (DUMP_BUDGET), and only bounded results are kept:
// per-protocol and per-app connection counts, per-client totals, and the top connections
// by rate. Without netlink (tests, odd hosts) the same is read from tc/nft/iptables/conntrack.
// Rates come from deltas between samples; a ring keeps the recent samples.

import { markFields } from "@sluice/policy";
import type { Executor } from "../kernel/executor.ts";
import type { KernelModel } from "../render/model.ts";
import { CHAIN_ACCT, CHAIN_APPS } from "../render/model.ts";
import { NFT_DECIDED_MAP, NFT_FAMILY, NFT_TABLE, appCounter, protocolCounter } from "../render/nft.ts";
import type { KernelCounters } from "./kernel-counters.ts";
import type { CtEntry } from "./ctnetlink.ts";
import { IdBytes } from "./id-bytes.ts";
import {
  parseAcctChain,
  parseConntrackLine,
  parseNftCounters,
  parseNftElementCounters,
  parseTcClassStats,
  type ClassCounters,
  type NftCounter,
  type NftElementCounter,
} from "./parse.ts";

/** Before any policy is in place, marks are read with the default fields. */
const DEFAULT_FIELDS = markFields();

export interface ClassSample {
  device: string;
  direction: "upload" | "download";
  classid: string;
  name: string;
  leaf: boolean;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  backlogBytes: number;
  backlogPackets: number;
  rateBps: number;
  rate: number;
  ceil: number;
}

export interface ProtocolSample {
  protocol: string;
  bytes: number;
  packets: number;
  rateBps: number;
  connections: number;
}

export interface AppSample {
  app: string;
  title: string;
  category: string;
  bytes: number;
  packets: number;
  rateBps: number;
  connections: number;
}

export interface CategorySample {
  category: string;
  title: string;
  bytes: number;
  rateBps: number;
  connections: number;
}

export interface ConnectionSample {
  l4: string;
  client: string;
  server: string;
  protocol: string;
  /** The catalogue application and category (from the mark's app field), or null. */
  app: string | null;
  category: string | null;
  /** The server's name, when the data plane saw it (SNI, Host, DNS) for this connection. */
  hostname: string | null;
  /** The client device's name (DHCP lease, reverse DNS), when known. */
  clientName?: string | null;
  mark: number;
  bytes: number;
  rateBps: number;
  state: string | null;
}

export interface HostSample {
  host: string;
  /** The device's name (DHCP lease, reverse DNS), when known. */
  name?: string | null;
  rateBps: number;
  bytes: number;
  connections: number;
}

export interface StatsSample {
  t: number;
  classes: ClassSample[];
  protocols: ProtocolSample[];
  apps: AppSample[];
  categories: CategorySample[];
  hosts: HostSample[];
  connections: ConnectionSample[];
  totals: { uploadBps: number; downloadBps: number; drops: number; connections: number };
  /** How the connection figures were read: when, and how long the conntrack dump took. */
  conntrack?: { at: number; ms: number; entries: number };
}

export interface AccountingDeps {
  exec: Executor;
  model: () => KernelModel | null;
  /** l7 mark (unshifted) → protocol name. */
  protocolOf: (l7mark: number) => string;
  /** The application catalogue (names, titles, categories of the app ids in marks). */
  apps?: AppDirectory | null;
  /** The host name the data plane saw for a connection ("ip:port" client and server). */
  hostnameOf?: (client: string, server: string) => string | null;
  /** A LAN device's name (DHCP lease, reverse DNS), or null. */
  deviceNameOf?: (address: string) => string | null;
  ipv6: boolean;
  ringSize?: number;
  /** Netlink readers (null or absent: run the tools instead). */
  kernel?: KernelCounters | null;
  /** Connections kept for the flows view (the highest rates); default 2000. */
  maxConnections?: number;
}

/** What accounting needs of the application catalogue. */
export interface AppDirectory {
  appById(id: number): { name: string; title: string; category: string } | undefined;
  app(name: string): { name: string; title: string; category: string } | undefined;
  category(name: string): { name: string; title: string } | undefined;
}

const endpoint = (ip: string, port: number) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);
/** Share of one core the conntrack dumps may take, on average. */
const DUMP_BUDGET = 0.05;

type Counted = Map<string, { bytes: number; packets: number }>;

/** What one pass over the conntrack table leaves behind: bounded, whatever its size. */
interface ConnView {
  at: number;
  ms: number;
  entries: number;
  top: ConnectionSample[];
  protocolConns: Map<string, number>;
  appConns: Map<string, number>;
  hosts: HostSample[];
}

export class Accounting {
  private readonly d: AccountingDeps;
  private readonly ring: StatsSample[] = [];
  private prev: {
    t: number;
    classes: Map<string, number>;
    protocols: Map<string, number>;
    apps: Map<string, number>;
  } | null = null;
  /**
   * Each connection's bytes at the last pass, for rates: by kernel id (typed arrays, see
   * id-bytes.ts), or by tuple where there is no id (the conntrack tool's text).
   */
  private connBytes = { ids: new IdBytes(), tuples: new Map<string, number>() };
  private connAt = 0;
  private view: ConnView | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(s: StatsSample) => void>();

  constructor(deps: AccountingDeps) {
    this.d = deps;
  }

  start(intervalMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick().catch(() => undefined), intervalMs);
    this.timer.unref?.();
    void this.tick().catch(() => undefined);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  onSample(fn: (s: StatsSample) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  latest(): StatsSample | null {
    return this.ring.at(-1) ?? null;
  }

  history(): StatsSample[] {
    return [...this.ring];
  }

  /** The busiest connections of the last conntrack pass (flows view), at most maxConnections. */
  allConnections(): ConnectionSample[] {
    return this.view?.top ?? [];
  }

  /** Connections in the conntrack table at the last pass. */
  connectionCount(): number {
    return this.view?.entries ?? 0;
  }

  /** Takes one sample now (after any sample in progress) and returns it. */
  tick(): Promise<StatsSample> {
    const run = this.chain.then(async () => {
      const s = await this.sample();
      // Only the latest sample keeps its per-connection and per-client lists: the history
      // is for the graphs, and stays small (and quick to send) whatever the table holds.
      const prev = this.ring.at(-1);
      if (prev) this.ring[this.ring.length - 1] = { ...prev, connections: [], hosts: [] };
      this.ring.push(s);
      if (this.ring.length > (this.d.ringSize ?? 600)) this.ring.shift();
      for (const fn of this.listeners) fn(s);
      return s;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async classCounters(device: string): Promise<ClassCounters[] | null> {
    if (this.d.kernel) return this.d.kernel.classes(device);
    const r = await this.d.exec.run(["tc", "-s", "class", "show", "dev", device]);
    return r.code === 0 ? parseTcClassStats(r.stdout) : null;
  }

  /** Packets of one named counter of Sluice's nftables table (0 when there is none). */
  async nftCounterPackets(name: string): Promise<number> {
    return (await this.nftCounters()).find((c) => c.name === name)?.packets ?? 0;
  }

  private async nftCounters(): Promise<NftCounter[]> {
    if (this.d.kernel) return this.d.kernel.nftCounters(NFT_TABLE);
    const r = await this.d.exec.run(["nft", "-j", "list", "counters", "table", NFT_FAMILY, NFT_TABLE]);
    return r.code === 0 ? parseNftCounters(r.stdout) : [];
  }

  /** The decided map's element counters (render/nft.ts): packets of decided connections
   * that left the post chain at its first lookup, per protocol mark. */
  private async nftDecided(): Promise<NftElementCounter[]> {
    if (this.d.kernel) return this.d.kernel.nftElementCounters(NFT_TABLE, NFT_DECIDED_MAP);
    const r = await this.d.exec.run(["nft", "-j", "list", "map", NFT_FAMILY, NFT_TABLE, NFT_DECIDED_MAP]);
    return r.code === 0 ? parseNftElementCounters(r.stdout) : [];
  }

  /**
   * Bytes and packets per protocol and per app: the nftables named counters (plus, per
   * protocol, the decided map's element counters), or the iptables accounting chains' rule
   * counters.
   */
  private async readCounters(model: KernelModel | null): Promise<{ protoBytes: Counted; appBytes: Counted }> {
    const protoBytes: Counted = new Map();
    const appBytes: Counted = new Map();
    const add = (m: Counted, k: string, b: number, p: number) => {
      const e = m.get(k) ?? { bytes: 0, packets: 0 };
      e.bytes += b;
      e.packets += p;
      m.set(k, e);
    };
    if (model?.variant.accounting === "nft") {
      const byName = new Map<string, string>();
      for (const a of model.accounting) byName.set(protocolCounter(a.l7mark), a.protocol);
      const appByName = new Map<string, string>();
      for (const a of model.appAccounting) appByName.set(appCounter(a.id), a.app);
      for (const c of await this.nftCounters()) {
        const p = byName.get(c.name);
        if (p !== undefined) add(protoBytes, p, c.bytes, c.packets);
        const a = appByName.get(c.name);
        if (a !== undefined) add(appBytes, a, c.bytes, c.packets);
      }
      // An element's key is its protocol's mark: the same protocol as its named counter's.
      for (const e of await this.nftDecided()) {
        const p = byName.get(protocolCounter(e.key >>> model.shift));
        if (p !== undefined) add(protoBytes, p, e.bytes, e.packets);
      }
      return { protoBytes, appBytes };
    }
    for (const bin of this.d.ipv6 ? ["iptables", "ip6tables"] : ["iptables"]) {
      const r = await this.d.exec.run([bin, "-w", "-t", "mangle", "-nvxL", CHAIN_ACCT]);
      if (r.code !== 0) continue;
      for (const a of parseAcctChain(r.stdout)) add(protoBytes, a.protocol, a.bytes, a.packets);
    }
    if (model?.appAccounting.length) {
      for (const bin of this.d.ipv6 ? ["iptables", "ip6tables"] : ["iptables"]) {
        const r = await this.d.exec.run([bin, "-w", "-t", "mangle", "-nvxL", CHAIN_APPS]);
        if (r.code !== 0) continue;
        for (const a of parseAcctChain(r.stdout, "sluice-app")) add(appBytes, a.protocol, a.bytes, a.packets);
      }
    }
    return { protoBytes, appBytes };
  }

  /** Streams the conntrack table once; keeps only bounded results (see ConnView). */
  private async passConntrack(model: KernelModel | null): Promise<ConnView> {
    const started = Date.now();
    const dt = this.connAt ? Math.max(0.001, (started - this.connAt) / 1000) : 0;
    const shift = model?.shift ?? DEFAULT_FIELDS.protocol.shift;
    const mask = model?.mask ?? DEFAULT_FIELDS.protocol.mask;
    const appField = model?.app ?? DEFAULT_FIELDS.app;
    const keep = this.d.maxConnections ?? 2000;
    const before = this.connBytes;
    const bytesNow = { ids: new IdBytes(before.ids.size), tuples: new Map<string, number>() };
    const protocolConns = new Map<string, number>();
    const appConns = new Map<string, number>();
    const hosts = new Map<string, HostSample>();
    const protoName = new Map<number, string>();
    let candidates: { e: CtEntry; rate: number; protocol: string; l7: number }[] = [];
    let floor = 0;
    let entries = 0;
    const onEntry = (e: CtEntry) => {
      entries++;
      const l7 = (e.mark & mask) >>> shift;
      let protocol = protoName.get(l7);
      if (protocol === undefined) {
        protocol = l7 === 0 ? "untouched" : this.d.protocolOf(l7);
        protoName.set(l7, protocol);
      }
      protocolConns.set(protocol, (protocolConns.get(protocol) ?? 0) + 1);
      const appId = (e.mark & appField.mask) >>> appField.shift;
      const app = appId ? this.d.apps?.appById(appId) : undefined;
      if (app) appConns.set(app.name, (appConns.get(app.name) ?? 0) + 1);
      let prior: number | undefined;
      if (e.id !== undefined) {
        bytesNow.ids = bytesNow.ids.set(e.id, e.bytes);
        prior = before.ids.get(e.id);
      } else {
        const key = `${e.l4} ${e.src} ${e.sport} ${e.dst} ${e.dport}`;
        bytesNow.tuples.set(key, e.bytes);
        prior = before.tuples.get(key);
      }
      const rate = prior === undefined || dt === 0 || e.bytes < prior ? 0 : ((e.bytes - prior) * 8) / dt;
      const h = hosts.get(e.src) ?? { host: e.src, rateBps: 0, bytes: 0, connections: 0 };
      h.rateBps += rate;
      h.bytes += e.bytes;
      h.connections++;
      hosts.set(e.src, h);
      // Top connections by rate (then bytes): a bounded buffer, trimmed when it doubles.
      if (candidates.length < keep || rate > floor) {
        candidates.push({ e, rate, protocol, l7 });
        if (candidates.length >= 2 * keep) {
          candidates.sort((a, b) => b.rate - a.rate || b.e.bytes - a.e.bytes);
          candidates = candidates.slice(0, keep);
          floor = candidates.at(-1)!.rate;
        }
      }
    };
    if (this.d.kernel) await this.d.kernel.conntrack(onEntry);
    else {
      for (const fam of this.d.ipv6 ? ["ipv4", "ipv6"] : ["ipv4"]) {
        const r = await this.d.exec.run(["conntrack", "-L", "-f", fam]);
        for (const line of r.stdout.split("\n")) {
          const c = parseConntrackLine(line);
          if (c) onEntry({ ...c, l4: c.l4 as "tcp" | "udp" });
        }
      }
    }
    this.connBytes = bytesNow;
    this.connAt = started;
    candidates.sort((a, b) => b.rate - a.rate || b.e.bytes - a.e.bytes);
    const top = candidates.slice(0, keep).map(({ e, rate, protocol, l7 }): ConnectionSample => {
      const appId = (e.mark & appField.mask) >>> appField.shift;
      const app = appId ? this.d.apps?.appById(appId) : undefined;
      const client = endpoint(e.src, e.sport);
      const server = endpoint(e.dst, e.dport);
      return {
        l4: e.l4,
        client,
        server,
        app: app?.name ?? null,
        category: app?.category ?? null,
        hostname: this.d.hostnameOf?.(client, server) ?? null,
        clientName: this.d.deviceNameOf?.(e.src) ?? null,
        protocol,
        mark: l7,
        bytes: e.bytes,
        rateBps: rate,
        state: e.state,
      };
    });
    return {
      at: started,
      ms: Date.now() - started,
      entries,
      top,
      protocolConns,
      appConns,
      hosts: [...hosts.values()]
        .sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes)
        .slice(0, 20)
        .map((h) => ({ ...h, name: this.d.deviceNameOf?.(h.host) ?? null })),
    };
  }

  private async sample(): Promise<StatsSample> {
    const t = Date.now();
    const model = this.d.model();
    const dt = this.prev ? Math.max(0.001, (t - this.prev.t) / 1000) : 0;
    const rate = (key: string, bytes: number, prevMap: Map<string, number> | undefined) => {
      const before = prevMap?.get(key);
      return before === undefined || dt === 0 || bytes < before ? 0 : ((bytes - before) * 8) / dt;
    };

    const classes: ClassSample[] = [];
    const classBytes = new Map<string, number>();
    for (const dev of model?.devices ?? []) {
      const list = await this.classCounters(dev.device);
      const bucketOf = new Map(
        (dev.hosts?.bucketed ?? []).flatMap((b) => b.buckets.map((id) => [id, b.classid])),
      );
      const inBuckets = new Map<string, { drops: number; backlogBytes: number; backlogPackets: number }>();
      for (const c of list ?? []) {
        // A class shared among hosts by buckets is shown as one class: its own bytes (HTB
        // counts them on the parent too) and its buckets' drops and backlog.
        const parent = bucketOf.get(c.classid);
        if (parent) {
          const sum = inBuckets.get(parent) ?? { drops: 0, backlogBytes: 0, backlogPackets: 0 };
          sum.drops += c.drops;
          sum.backlogBytes += c.backlogBytes;
          sum.backlogPackets += c.backlogPackets;
          inBuckets.set(parent, sum);
          continue;
        }
        const def = dev.classes.find((x) => x.classid === c.classid);
        const key = `${dev.device}/${c.classid}`;
        classBytes.set(key, c.bytes);
        classes.push({
          device: dev.device,
          direction: dev.direction,
          classid: c.classid,
          name: def?.name ?? (c.classid === "1:1" ? "link" : c.classid),
          leaf: !!def?.leaf || (bucketOf.size > 0 && [...bucketOf.values()].includes(c.classid)),
          bytes: c.bytes,
          packets: c.packets,
          drops: c.drops,
          overlimits: c.overlimits,
          backlogBytes: c.backlogBytes,
          backlogPackets: c.backlogPackets,
          rateBps: rate(key, c.bytes, this.prev?.classes),
          rate: def?.rate ?? dev.linkRate,
          ceil: def?.ceil ?? dev.linkRate,
        });
      }
      for (const s of classes)
        if (s.device === dev.device && inBuckets.has(s.classid)) Object.assign(s, inBuckets.get(s.classid));
    }

    const { protoBytes, appBytes } = await this.readCounters(model);

    // The conntrack pass: every second while it is cheap, less often as the table grows
    // (its average cost stays under DUMP_BUDGET of a core); samples in between reuse it.
    const last = this.view;
    if (!last || t - last.at >= Math.max(900, last.ms / DUMP_BUDGET))
      this.view = await this.passConntrack(model);
    const view = this.view!;

    const protocols: ProtocolSample[] = [...new Set([...protoBytes.keys(), ...view.protocolConns.keys()])]
      .map((p) => ({
        protocol: p,
        bytes: protoBytes.get(p)?.bytes ?? 0,
        packets: protoBytes.get(p)?.packets ?? 0,
        rateBps: rate(p, protoBytes.get(p)?.bytes ?? 0, this.prev?.protocols),
        connections: view.protocolConns.get(p) ?? 0,
      }))
      .filter((p) => p.bytes > 0 || p.connections > 0)
      .sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes);

    const apps: AppSample[] = [...new Set([...appBytes.keys(), ...view.appConns.keys()])]
      .map((name) => {
        const def = this.d.apps?.app(name);
        const b = appBytes.get(name);
        return {
          app: name,
          title: def?.title ?? name,
          category: def?.category ?? "other",
          bytes: b?.bytes ?? 0,
          packets: b?.packets ?? 0,
          rateBps: rate(name, b?.bytes ?? 0, this.prev?.apps),
          connections: view.appConns.get(name) ?? 0,
        };
      })
      .filter((a) => a.bytes > 0 || a.connections > 0)
      .sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes);
    const byCategory = new Map<string, CategorySample>();
    for (const a of apps) {
      const c = byCategory.get(a.category) ?? {
        category: a.category,
        title: this.d.apps?.category(a.category)?.title ?? a.category,
        bytes: 0,
        rateBps: 0,
        connections: 0,
      };
      c.bytes += a.bytes;
      c.rateBps += a.rateBps;
      c.connections += a.connections;
      byCategory.set(a.category, c);
    }

    const leafRate = (dir: string) =>
      classes.filter((c) => c.direction === dir && c.classid === "1:1").reduce((n, c) => n + c.rateBps, 0);
    this.prev = {
      t,
      classes: classBytes,
      protocols: new Map([...protoBytes].map(([k, v]) => [k, v.bytes])),
      apps: new Map([...appBytes].map(([k, v]) => [k, v.bytes])),
    };
    return {
      t,
      classes,
      protocols,
      apps,
      categories: [...byCategory.values()].sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes),
      hosts: view.hosts,
      connections: view.top.slice(0, 50),
      totals: {
        uploadBps: leafRate("upload"),
        downloadBps: leafRate("download"),
        drops: classes.reduce((n, c) => n + (c.leaf ? c.drops : 0), 0),
        connections: view.entries,
      },
      conntrack: { at: view.at, ms: view.ms, entries: view.entries },
    };
  }
}
