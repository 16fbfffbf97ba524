// Live accounting, sampled every second: per class (tc counters), per protocol (the
// SLUICE_ACCT chain's counters and conntrack marks), per application and category (the
// SLUICE_APPS chain and the app field of conntrack marks), top talkers (conntrack bytes).
// Rates come from deltas between samples; a ring keeps the recent samples.

import { markFields } from "@sluice/policy";
import type { Executor } from "../kernel/executor.ts";
import type { KernelModel } from "../render/model.ts";
import { CHAIN_ACCT, CHAIN_APPS } from "../render/model.ts";
import { parseAcctChain, parseConntrackLine, parseTcClassStats, type ConntrackEntry } from "./parse.ts";

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
  mark: number;
  bytes: number;
  rateBps: number;
  state: string | null;
}

export interface HostSample {
  host: string;
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
  ipv6: boolean;
  ringSize?: number;
}

/** What accounting needs of the application catalogue. */
export interface AppDirectory {
  appById(id: number): { name: string; title: string; category: string } | undefined;
  app(name: string): { name: string; title: string; category: string } | undefined;
  category(name: string): { name: string; title: string } | undefined;
}

const endpoint = (ip: string, port: number) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);

export class Accounting {
  private readonly d: AccountingDeps;
  private readonly ring: StatsSample[] = [];
  private prev: {
    t: number;
    classes: Map<string, number>;
    protocols: Map<string, number>;
    apps: Map<string, number>;
    conns: Map<string, number>;
  } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(s: StatsSample) => void>();
  private connections: ConnectionSample[] = [];

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

  /** Every tracked connection of the last sample (flows view). */
  allConnections(): ConnectionSample[] {
    return this.connections;
  }

  /** Takes one sample now (after any sample in progress) and returns it. */
  tick(): Promise<StatsSample> {
    const run = this.chain.then(async () => {
      const s = await this.sample();
      this.ring.push(s);
      if (this.ring.length > (this.d.ringSize ?? 600)) this.ring.shift();
      for (const fn of this.listeners) fn(s);
      return s;
    });
    this.chain = run.catch(() => undefined);
    return run;
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
      const r = await this.d.exec.run(["tc", "-s", "class", "show", "dev", dev.device]);
      if (r.code !== 0) continue;
      for (const c of parseTcClassStats(r.stdout)) {
        const def = dev.classes.find((x) => x.classid === c.classid);
        const key = `${dev.device}/${c.classid}`;
        classBytes.set(key, c.bytes);
        classes.push({
          device: dev.device,
          direction: dev.direction,
          classid: c.classid,
          name: def?.name ?? (c.classid === "1:1" ? "link" : c.classid),
          leaf: !!def?.leaf,
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
    }

    const protoBytes = new Map<string, { bytes: number; packets: number }>();
    for (const bin of this.d.ipv6 ? ["iptables", "ip6tables"] : ["iptables"]) {
      const r = await this.d.exec.run([bin, "-w", "-t", "mangle", "-nvxL", CHAIN_ACCT]);
      if (r.code !== 0) continue;
      for (const a of parseAcctChain(r.stdout)) {
        const e = protoBytes.get(a.protocol) ?? { bytes: 0, packets: 0 };
        e.bytes += a.bytes;
        e.packets += a.packets;
        protoBytes.set(a.protocol, e);
      }
    }

    const appBytes = new Map<string, { bytes: number; packets: number }>();
    if (model?.appAccounting.length) {
      for (const bin of this.d.ipv6 ? ["iptables", "ip6tables"] : ["iptables"]) {
        const r = await this.d.exec.run([bin, "-w", "-t", "mangle", "-nvxL", CHAIN_APPS]);
        if (r.code !== 0) continue;
        for (const a of parseAcctChain(r.stdout, "sluice-app")) {
          const e = appBytes.get(a.protocol) ?? { bytes: 0, packets: 0 };
          e.bytes += a.bytes;
          e.packets += a.packets;
          appBytes.set(a.protocol, e);
        }
      }
    }

    const conns: ConnectionSample[] = [];
    const connBytes = new Map<string, number>();
    const ct = await this.d.exec.run(["conntrack", "-L", "-f", "ipv4"]);
    const ct6 = this.d.ipv6 ? await this.d.exec.run(["conntrack", "-L", "-f", "ipv6"]) : null;
    const shift = model?.shift ?? DEFAULT_FIELDS.protocol.shift;
    const mask = model?.mask ?? DEFAULT_FIELDS.protocol.mask;
    const appField = model?.app ?? DEFAULT_FIELDS.app;
    for (const line of `${ct.stdout}\n${ct6?.stdout ?? ""}`.split("\n")) {
      const e: ConntrackEntry | null = parseConntrackLine(line);
      if (!e) continue;
      const l7 = (e.mark & mask) >>> shift;
      const appId = (e.mark & appField.mask) >>> appField.shift;
      const app = appId ? this.d.apps?.appById(appId) : undefined;
      const key = `${e.l4} ${e.src}:${e.sport} ${e.dst}:${e.dport}`;
      connBytes.set(key, e.bytes);
      const client = endpoint(e.src, e.sport);
      const server = endpoint(e.dst, e.dport);
      conns.push({
        l4: e.l4,
        client,
        server,
        app: app?.name ?? null,
        category: app?.category ?? null,
        hostname: this.d.hostnameOf?.(client, server) ?? null,
        protocol: l7 === 0 ? "untouched" : this.d.protocolOf(l7),
        mark: l7,
        bytes: e.bytes,
        rateBps: rate(key, e.bytes, this.prev?.conns),
        state: e.state,
      });
    }
    conns.sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes);
    this.connections = conns;

    const connCount = new Map<string, number>();
    for (const c of conns) connCount.set(c.protocol, (connCount.get(c.protocol) ?? 0) + 1);
    const protocols: ProtocolSample[] = [...new Set([...protoBytes.keys(), ...connCount.keys()])]
      .map((p) => ({
        protocol: p,
        bytes: protoBytes.get(p)?.bytes ?? 0,
        packets: protoBytes.get(p)?.packets ?? 0,
        rateBps: rate(p, protoBytes.get(p)?.bytes ?? 0, this.prev?.protocols),
        connections: connCount.get(p) ?? 0,
      }))
      .filter((p) => p.bytes > 0 || p.connections > 0)
      .sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes);

    const appConns = new Map<string, number>();
    for (const c of conns) if (c.app) appConns.set(c.app, (appConns.get(c.app) ?? 0) + 1);
    const apps: AppSample[] = [...new Set([...appBytes.keys(), ...appConns.keys()])]
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
          connections: appConns.get(name) ?? 0,
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

    const hosts = new Map<string, HostSample>();
    for (const c of conns) {
      const host = c.client.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
      const h = hosts.get(host) ?? { host, rateBps: 0, bytes: 0, connections: 0 };
      h.rateBps += c.rateBps;
      h.bytes += c.bytes;
      h.connections++;
      hosts.set(host, h);
    }
    const leafRate = (dir: string) =>
      classes.filter((c) => c.direction === dir && c.classid === "1:1").reduce((n, c) => n + c.rateBps, 0);
    this.prev = {
      t,
      classes: classBytes,
      protocols: new Map([...protoBytes].map(([k, v]) => [k, v.bytes])),
      apps: new Map([...appBytes].map(([k, v]) => [k, v.bytes])),
      conns: connBytes,
    };
    return {
      t,
      classes,
      protocols,
      apps,
      categories: [...byCategory.values()].sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes),
      hosts: [...hosts.values()].sort((a, b) => b.rateBps - a.rateBps || b.bytes - a.bytes).slice(0, 20),
      connections: conns.slice(0, 50),
      totals: {
        uploadBps: leafRate("upload"),
        downloadBps: leafRate("download"),
        drops: classes.reduce((n, c) => n + (c.leaf ? c.drops : 0), 0),
        connections: conns.length,
      },
    };
  }
}
