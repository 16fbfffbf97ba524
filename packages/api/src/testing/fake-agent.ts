// A stand-in for the root agent, for tests, the e2e run and the benchmark: the same control
// API over a unix socket (status, protocols, the app catalogue, render, apply with trySeconds
// and a real revert timer, confirm, rollback, history, stats and its SSE stream, flows, the
// pattern tester), with policies validated by @sluice/policy like the real one. No kernel involved:
// the "rendered" tc lines and the traffic are made up but consistent with the policy.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { formatRate, ruleLabel, validatePolicy, type Policy, type PolicyInput } from "@sluice/policy";
import type {
  AgentStatus,
  AppCatalogue,
  Capabilities,
  CatalogueEntry,
  EntryStatus,
  HistorySummary,
  StatsSample,
} from "@sluice/agent-contract";
import { connectionApp, fakeAppSamples, loadFakeAppCatalogue, targetedIptLines } from "./fake-apps.ts";

export interface FakeEntry {
  id: number;
  at: string;
  user: string;
  policy: PolicyInput;
  status: EntryStatus;
  scripts: { tc: string; iptables: string; ip6tables: string };
  lastGood: boolean;
  tryUntil?: string;
  error?: { step: string; message: string };
}

const entry = (
  name: string,
  mark: number,
  title: string,
  quality: string,
  groups: string[],
  pattern: string,
  extra: Partial<CatalogueEntry> = {},
): CatalogueEntry => ({
  name,
  mark,
  priority: 0,
  title,
  quality,
  speed: "fast",
  groups,
  aliases: [],
  transports: ["tcp"],
  overmatch: false,
  undermatch: false,
  notes: [],
  pattern,
  ...extra,
});

export const FAKE_CATALOGUE: CatalogueEntry[] = [
  entry(
    "http",
    3,
    "HyperText Transfer Protocol",
    "great",
    ["document_retrieval", "ietf_draft_standard"],
    "http/(0\\.9|1\\.0|1\\.1) [1-5][0-9][0-9]",
  ),
  entry(
    "ssl",
    4,
    "Secure Sockets Layer / TLS",
    "veryGood",
    ["secure", "ietf_proposed_standard"],
    "^(.?.?\\x16\\x03.*\\x16\\x03|.?.?\\x01\\x03\\x01?.*\\x0b)",
    { aliases: ["tls"] },
  ),
  entry("ssh", 5, "Secure SHell", "great", ["remote_access", "secure"], "^ssh-[12]\\.[0-9]"),
  entry(
    "dns",
    6,
    "Domain Name System",
    "good",
    ["networking", "ietf_internet_standard"],
    "^.?.?.?.?[\\x01\\x02].?.?.?.?.?.?[\\x01-?][a-z0-9][\\x01-?a-z]*[\\x02-\\x06][a-z][a-z][fglmoprstuvz]?[aeop]?(um)?[\\x01-\\x10\\x1c]",
    { transports: ["tcp", "udp"] },
  ),
  entry("quic", 7, "QUIC", "good", ["web"], "^[\\xc0-\\xff]\\x00\\x00\\x00\\x01", { transports: ["udp"] }),
  entry(
    "rtp",
    8,
    "Real-time Transport Protocol",
    "ok",
    ["voip", "streaming_video"],
    '^\\x80[\\x01-"`-\\x7f\\x80-\\xa2\\xe0-\\xff]?..........*\\x80',
    { transports: ["udp"], overmatch: true },
  ),
  entry(
    "sip",
    9,
    "Session Initiation Protocol",
    "good",
    ["voip"],
    "^(invite|register|cancel) sip[\\x09-\\x0d -~]*sip/[0-2]\\.[0-9]",
    { transports: ["tcp", "udp"] },
  ),
  entry(
    "stun",
    10,
    "Simple Traversal of UDP Through NAT",
    "ok",
    ["networking"],
    "^[\\x01\\x02][\\x01\\x02]..\\x21\\x12\\xa4\\x42",
    { transports: ["udp"] },
  ),
  entry("ftp", 11, "File Transfer Protocol", "great", ["document_retrieval"], "^220[\\x09-\\x0d -~]*ftp"),
  entry("rsync", 12, "rsync", "great", ["document_retrieval"], "^@rsyncd: [0-9]"),
  entry(
    "smtp",
    13,
    "Simple Mail Transfer Protocol",
    "great",
    ["mail"],
    "^220[\\x09-\\x0d -~]* (e?smtp|simple mail)",
  ),
  entry(
    "bittorrent",
    14,
    "BitTorrent",
    "marginal",
    ["p2p", "file_sharing"],
    "^(\\x13bittorrent protocol|azver\\x01$|get /scrape\\?info_hash=)",
    { undermatch: true, transports: ["tcp", "udp"] },
  ),
  entry(
    "gnutella",
    15,
    "Gnutella",
    "marginal",
    ["p2p", "file_sharing"],
    "^(gnd[\\x01\\x02]?.?.?\\x01|gnutella connect/[012]\\.[0-9])",
  ),
  entry(
    "edonkey",
    16,
    "eDonkey2000",
    "poor",
    ["p2p", "file_sharing"],
    "^[\\xc5\\xd4\\xe3-\\xe5].?.?.?.?([\\x01\\x02\\x05\\x14\\x15\\x16\\x18\\x19\\x1a\\x1b\\x1c\\x20\\x21\\x32\\x33\\x34\\x35\\x36\\x38\\x40\\x41\\x42\\x43\\x46\\x47\\x48\\x49\\x4a\\x4b\\x4c\\x4d\\x4e\\x4f\\x50\\x51\\x52\\x53\\x54\\x55\\x56\\x57\\x58[\\x60\\x81\\x82\\x90\\x91\\x93\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9e\\xa0\\xa1\\xa2\\xa3\\xa4]|\\x59................?[ -~]|\\x96....$)",
    { overmatch: true, transports: ["tcp", "udp"] },
  ),
];

/** Simple JS stand-ins for the patterns (the pattern tester only). */
/* eslint-disable no-control-regex -- the patterns match binary protocol headers */
const TESTERS: [string, RegExp][] = [
  ["http", /^(get|post|head|put|delete|options) \S+ http\/1\.[01]|^http\/1\.[01] [1-5]\d\d/i],
  ["ssh", /^ssh-[12]\.\d/i],
  ["ssl", /^\x16\x03[\x00-\x04]/],
  ["ftp", /^220[^\n]*ftp/i],
  ["smtp", /^220[^\n]* (e?smtp|simple mail)/i],
  ["bittorrent", /^\x13bittorrent protocol/i],
  ["sip", /^(invite|register) sip/i],
  ["rsync", /^@rsyncd: \d/],
];
/* eslint-enable no-control-regex */

/** The CI kernel's capabilities: no sch_sfq and no cls_fw, so both fallbacks show. */
export const FAKE_CAPABILITIES: Capabilities = {
  qdiscs: { htb: true, sfq: false, fq_codel: false, cake: false, pfifo: true, ingress: true },
  classifiers: { fw: false, u32: true, matchall: false },
  actions: { connmark: false, mirred: true },
  links: { ifb: true },
  iptables: { NFQUEUE: true, CONNMARK: true, CLASSIFY: true, connbytes: true, mark: true, comment: true },
  ip6tables: { NFQUEUE: true, CONNMARK: true, CLASSIFY: true, connbytes: true, mark: true, comment: true },
  probedAt: "2026-01-01T00:00:00.000Z",
  kernel: "6.1.0-fake",
};

export interface FakeAgentOptions {
  socket: string;
  /** A policy installed at start (entry #1, "first boot"). */
  initialPolicy?: PolicyInput;
  /** Sample interval for the stats (ms); default 1000; 0 turns sampling off. */
  sampleMs?: number;
  catalogue?: CatalogueEntry[];
  /** GET /v1/apps; default the repository's catalogue; null: an agent without one (404). */
  apps?: AppCatalogue | null;
}

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
}

function tcLines(p: Policy): string[] {
  const out: string[] = [];
  const dev = { upload: p.interfaces.wan.device, download: p.interfaces.lan.device };
  for (const dir of ["upload", "download"] as const) {
    const link = dir === "upload" ? p.interfaces.wan.rate : p.interfaces.lan.rate;
    out.push(`qdisc add dev ${dev[dir]} root handle 1: htb default 99 r2q 10`);
    out.push(
      `class add dev ${dev[dir]} parent 1: classid 1:1 htb rate ${formatRate(link)} ceil ${formatRate(link)}`,
    );
    p.classes[dir].forEach((c, i) => {
      const parent = c.parent ? `1:${10 + p.classes[dir].findIndex((x) => x.name === c.parent)}` : "1:1";
      out.push(
        `class add dev ${dev[dir]} parent ${parent} classid 1:${10 + i} htb rate ${formatRate(c.rate)} ceil ${formatRate(c.ceil ?? c.rate)} prio ${c.priority} # ${c.name}`,
      );
      out.push(`qdisc add dev ${dev[dir]} parent 1:${10 + i} handle ${10 + i}: pfifo limit 1000`);
    });
  }
  return out;
}

function iptLines(p: Policy, marks: Map<string, number>, apps: AppCatalogue | null): string[] {
  const classId = (cls: string) =>
    `1:${
      10 +
      Math.max(
        0,
        p.classes.upload.findIndex((c) => c.name === cls),
      )
    }`;
  const protocolLines = p.rules.flatMap((r) => {
    if (!("protocol" in r)) return [];
    const m = r.protocol === "unset" ? 1 : r.protocol === "unknown" ? 2 : (marks.get(r.protocol) ?? 0);
    return [
      `-A SLUICE_POST -m mark --mark 0x${(m << 8).toString(16)}/0xff00 -j CLASSIFY --set-class ${classId(r.class)} -m comment --comment "${r.protocol} -> ${r.class}"`,
    ];
  });
  // CLASSIFY: the last match wins, so the more specific kinds come after the protocol lines
  return [...protocolLines, ...targetedIptLines(p, apps, classId)];
}

function diffLines(a: string[], b: string[]): string[] {
  const sa = new Set(a);
  const sb = new Set(b);
  return [
    ...a.filter((l) => !sb.has(l)).map((l) => `- ${l}`),
    ...b.filter((l) => !sa.has(l)).map((l) => `+ ${l}`),
  ];
}

function policyChanges(before: Policy | null, after: Policy): string[] {
  if (!before) return ["first policy on this box"];
  const out: string[] = [];
  for (const role of ["wan", "lan"] as const) {
    const x = before.interfaces[role];
    const y = after.interfaces[role];
    if (x.device !== y.device) out.push(`${role} interface: ${x.device} → ${y.device}`);
    if (x.rate !== y.rate) out.push(`${role} link rate: ${formatRate(x.rate)} → ${formatRate(y.rate)}`);
  }
  for (const dir of ["upload", "download"] as const) {
    const old = new Map(before.classes[dir].map((c) => [c.name, c]));
    for (const c of after.classes[dir]) {
      const o = old.get(c.name);
      if (!o) {
        out.push(
          `${dir}: new class "${c.name}" rate ${formatRate(c.rate)} ceil ${formatRate(c.ceil ?? c.rate)}`,
        );
        continue;
      }
      const f: string[] = [];
      if (o.rate !== c.rate) f.push(`rate ${formatRate(o.rate)} → ${formatRate(c.rate)}`);
      if ((o.ceil ?? o.rate) !== (c.ceil ?? c.rate))
        f.push(`ceil ${formatRate(o.ceil ?? o.rate)} → ${formatRate(c.ceil ?? c.rate)}`);
      if (o.priority !== c.priority) f.push(`priority ${o.priority} → ${c.priority}`);
      if (f.length) out.push(`${dir} class "${c.name}": ${f.join(", ")}`);
    }
    for (const name of old.keys())
      if (!after.classes[dir].some((c) => c.name === name)) out.push(`${dir}: class "${name}" removed`);
  }
  const oldRules = new Map(before.rules.map((r) => [ruleLabel(r), r.class]));
  for (const r of after.rules) {
    const o = oldRules.get(ruleLabel(r));
    if (o === undefined) out.push(`rule: ${ruleLabel(r)} → ${r.class} (new)`);
    else if (o !== r.class) out.push(`rule: ${ruleLabel(r)} → ${r.class} (was ${o})`);
  }
  for (const p of oldRules.keys())
    if (!after.rules.some((r) => ruleLabel(r) === p))
      out.push(`rule for ${p} removed (goes to the default class)`);
  return out.length ? out : ["no change"];
}

export class FakeAgent {
  readonly socket: string;
  readonly calls: RecordedCall[] = [];
  readonly entries: FakeEntry[] = [];
  private nextId = 1;
  private server: Server;
  private trying: {
    entryId: number;
    previousGood: number | null;
    until: number;
    timer: NodeJS.Timeout;
  } | null = null;
  private readonly catalogue: CatalogueEntry[];
  private readonly marks: Map<string, number>;
  private readonly apps: AppCatalogue | null;
  private readonly ring: StatsSample[] = [];
  private sampler: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(s: StatsSample) => void>();
  private readonly counters = new Map<string, { bytes: number; packets: number; drops: number }>();
  private readonly started = Date.now();
  /** Makes the next apply fail at this step (after validation), like a kernel error. */
  failNextApply: { step: string; message: string } | null = null;

  private constructor(opts: FakeAgentOptions) {
    this.socket = opts.socket;
    this.catalogue = opts.catalogue ?? FAKE_CATALOGUE;
    this.apps = opts.apps === undefined ? loadFakeAppCatalogue() : opts.apps;
    this.marks = new Map<string, number>();
    for (const p of this.catalogue) {
      this.marks.set(p.name, p.mark);
      for (const a of p.aliases) this.marks.set(a, p.mark);
    }
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(opts: FakeAgentOptions): Promise<FakeAgent> {
    const a = new FakeAgent(opts);
    if (opts.initialPolicy) {
      const v = a.validate(opts.initialPolicy);
      if (!v.ok) throw new Error(`fake agent: the initial policy is invalid: ${JSON.stringify(v.issues)}`);
      a.add({ user: "first boot", policy: opts.initialPolicy, status: "applied", lastGood: true }, v.policy);
    }
    mkdirSync(dirname(opts.socket), { recursive: true });
    if (existsSync(opts.socket)) unlinkSync(opts.socket);
    await new Promise<void>((resolve, reject) => {
      a.server.once("error", reject);
      a.server.listen(opts.socket, () => resolve());
    });
    const every = opts.sampleMs ?? 1000;
    if (every > 0) {
      a.sample();
      a.sampler = setInterval(() => a.sample(), every);
      a.sampler.unref?.();
    }
    return a;
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    if (this.trying) clearTimeout(this.trying.timer);
    this.listeners.clear();
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  lastGood(): FakeEntry | undefined {
    return this.entries.find((e) => e.lastGood);
  }

  private names(): Set<string> {
    return new Set(this.marks.keys());
  }

  private validate(p: unknown) {
    return validatePolicy(p, {
      protocols: this.names(),
      ...(this.apps
        ? {
            apps: new Set(this.apps.apps.map((a) => a.name)),
            maxAppId: Math.max(0, ...this.apps.apps.map((a) => a.id)),
            categories: new Set(this.apps.categories.map((c) => c.name)),
          }
        : {}),
    });
  }

  private add(e: Omit<FakeEntry, "id" | "at" | "scripts">, policy: Policy): FakeEntry {
    const full: FakeEntry = {
      ...e,
      id: this.nextId++,
      at: new Date().toISOString(),
      scripts: {
        tc: tcLines(policy).join("\n"),
        iptables: iptLines(policy, this.marks, this.apps).join("\n"),
        ip6tables: iptLines(policy, this.marks, this.apps).join("\n"),
      },
    };
    this.entries.push(full);
    if (e.lastGood) this.markLastGood(full.id);
    return full;
  }

  private markLastGood(id: number): void {
    for (const e of this.entries) e.lastGood = e.id === id;
  }

  private summary(e: FakeEntry): HistorySummary {
    return {
      id: e.id,
      at: e.at,
      user: e.user,
      status: e.status,
      lastGood: e.lastGood,
      error: e.error,
      tryUntil: e.tryUntil,
      name: (e.policy as { name?: string }).name,
    };
  }

  private goodPolicy(): Policy | null {
    const g = this.lastGood();
    if (!g) return null;
    const v = this.validate(g.policy);
    return v.ok ? v.policy : null;
  }

  status(): AgentStatus {
    const g = this.lastGood();
    const p = this.goodPolicy();
    return {
      version: "0.1.0-fake",
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      capabilities: FAKE_CAPABILITIES,
      variant: {
        leaf: "pfifo",
        filter: "CLASSIFY",
        ipv6: true,
        notes: [
          "sch_sfq and fq_codel missing: leaves use pfifo (no per-flow fairness inside a class)",
          "cls_fw missing: marks map to classes with the iptables CLASSIFY target",
        ],
      },
      summary: ["kernel 6.1.0-fake (fake agent)"],
      patterns: { loaded: this.catalogue.length, skipped: [] },
      catalogue: this.apps ? { apps: this.apps.apps.length, categories: this.apps.categories.length } : null,
      policy: g
        ? { id: g.id, name: (g.policy as { name?: string }).name ?? "policy", at: g.at, user: g.user }
        : null,
      trying: this.trying
        ? { entryId: this.trying.entryId, until: new Date(this.trying.until).toISOString() }
        : null,
      dataPlane: { running: true, packets: 0, decided: 0 },
      devices: p
        ? [
            { device: p.interfaces.wan.device, direction: "upload", linkRate: p.interfaces.wan.rate },
            { device: p.interfaces.lan.device, direction: "download", linkRate: p.interfaces.lan.rate },
          ]
        : [],
    };
  }

  private render(policyIn: unknown) {
    const v = this.validate(policyIn);
    if (!v.ok)
      return {
        ok: false as const,
        issues: v.issues,
        error: `policy is invalid: ${v.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      };
    const good = this.goodPolicy();
    const tc = tcLines(v.policy);
    const ipt = iptLines(v.policy, this.marks, this.apps);
    return {
      ok: true as const,
      policy: v.policy,
      header: ["# rendered by the fake agent", "# variant: leaf=pfifo filter=CLASSIFY ipv6=classified"],
      scripts: { tc: tc.join("\n"), iptables: ipt.join("\n"), ip6tables: ipt.join("\n") },
      diff: {
        policy: { changes: policyChanges(good, v.policy) },
        tc: diffLines(good ? tcLines(good) : [], tc),
        iptables: diffLines(good ? iptLines(good, this.marks, this.apps) : [], ipt),
      },
    };
  }

  private apply(body: { policy?: unknown; trySeconds?: number; user?: string }) {
    const r = this.render(body.policy);
    if (!r.ok) return { status: 422, body: { error: r.error, step: "validate", issues: r.issues } };
    const user = body.user ?? "api";
    if (this.failNextApply) {
      const f = this.failNextApply;
      this.failNextApply = null;
      const e = this.add(
        { user, policy: body.policy as PolicyInput, status: "failed", lastGood: false, error: f },
        r.policy,
      );
      return {
        status: 500,
        body: {
          error: f.message,
          step: f.step,
          issues: [],
          restored: true,
          entry: e.id,
          stderr: "RTNETLINK answers: fake",
        },
      };
    }
    if (this.trying && body.trySeconds === undefined) {
      const t = this.entries.find((e) => e.id === this.trying!.entryId);
      if (t) t.status = "superseded";
      clearTimeout(this.trying.timer);
      this.trying = null;
    }
    if (body.trySeconds !== undefined) {
      if (this.trying) {
        const t = this.entries.find((e) => e.id === this.trying!.entryId);
        if (t) t.status = "superseded";
        clearTimeout(this.trying.timer);
      }
      const until = Date.now() + body.trySeconds * 1000;
      const e = this.add(
        {
          user,
          policy: body.policy as PolicyInput,
          status: "trying",
          lastGood: false,
          tryUntil: new Date(until).toISOString(),
        },
        r.policy,
      );
      const previousGood = this.lastGood()?.id ?? null;
      const timer = setTimeout(() => {
        if (this.trying?.entryId !== e.id) return;
        this.trying = null;
        e.status = "reverted";
      }, body.trySeconds * 1000);
      timer.unref?.();
      this.trying = { entryId: e.id, previousGood, until, timer };
      return { status: 200, body: { entry: this.summary(e), diff: r.diff } };
    }
    const e = this.add(
      { user, policy: body.policy as PolicyInput, status: "applied", lastGood: true },
      r.policy,
    );
    return { status: 200, body: { entry: this.summary(e), diff: r.diff } };
  }

  private confirm() {
    if (!this.trying)
      return { status: 422, body: { error: "no policy is being tried", step: "validate", issues: [] } };
    const e = this.entries.find((x) => x.id === this.trying!.entryId)!;
    clearTimeout(this.trying.timer);
    this.trying = null;
    e.status = "confirmed";
    this.markLastGood(e.id);
    return { status: 200, body: this.summary(e) };
  }

  private rollback(body: { id?: number; user?: string }) {
    const current = this.lastGood();
    const target =
      body.id !== undefined
        ? this.entries.find((e) => e.id === body.id)
        : [...this.entries]
            .reverse()
            .find(
              (e) =>
                (e.status === "applied" || e.status === "confirmed") &&
                !e.lastGood &&
                (!current || e.id < current.id),
            );
    if (!target)
      return {
        status: 422,
        body: {
          error:
            body.id !== undefined ? `no history entry ${body.id}` : "no earlier good policy to roll back to",
          step: "validate",
          issues: [],
        },
      };
    if (target.status === "failed")
      return {
        status: 422,
        body: {
          error: `entry ${target.id} failed when applied; pick a good one`,
          step: "validate",
          issues: [],
        },
      };
    const r = this.apply({
      policy: target.policy,
      user: `${body.user ?? "api"} (rollback to #${target.id})`,
    });
    return r.status === 200 ? { status: 200, body: (r.body as { entry: unknown }).entry } : r;
  }

  /** One stats sample: made-up traffic that follows the installed policy's classes. */
  sample(): StatsSample {
    const t = Date.now();
    const prev = this.ring.at(-1);
    const dt = prev ? (t - prev.t) / 1000 : 1;
    const p = this.goodPolicy();
    const classes: StatsSample["classes"] = [];
    const phase = t / 1000;
    for (const dir of ["upload", "download"] as const) {
      if (!p) break;
      const dev = dir === "upload" ? p.interfaces.wan.device : p.interfaces.lan.device;
      const link = dir === "upload" ? p.interfaces.wan.rate : p.interfaces.lan.rate;
      const parents = new Set(p.classes[dir].map((c) => c.parent).filter(Boolean));
      let total = 0;
      p.classes[dir].forEach((c, i) => {
        const leaf = !parents.has(c.name);
        const ceil = c.ceil ?? c.rate;
        const load = leaf
          ? 0.15 + 0.12 * (1 + Math.sin(phase / (7 + i * 3) + i + (dir === "upload" ? 0 : 1.7)))
          : 0;
        const rateBps = Math.round(Math.min(ceil, link) * load * (dir === "upload" ? 0.4 : 1));
        if (leaf) total += rateBps;
        const key = `${dir}/${c.name}`;
        const k = this.counters.get(key) ?? { bytes: 0, packets: 0, drops: 0 };
        k.bytes += Math.round((rateBps * dt) / 8);
        k.packets += Math.round((rateBps * dt) / 8 / 1200);
        if (leaf && load > 0.36) k.drops += Math.round((load - 0.36) * 400 * dt);
        this.counters.set(key, k);
        classes.push({
          device: dev,
          direction: dir,
          classid: `1:${10 + i}`,
          name: c.name,
          leaf,
          ...k,
          overlimits: 0,
          backlogBytes: 0,
          backlogPackets: 0,
          rateBps,
          rate: c.rate,
          ceil,
        });
      });
      const key = `${dir}/link`;
      const k = this.counters.get(key) ?? { bytes: 0, packets: 0, drops: 0 };
      k.bytes += Math.round((total * dt) / 8);
      this.counters.set(key, k);
      classes.push({
        device: dev,
        direction: dir,
        classid: "1:1",
        name: "link",
        leaf: false,
        ...k,
        overlimits: 0,
        backlogBytes: 0,
        backlogPackets: 0,
        rateBps: total,
        rate: link,
        ceil: link,
      });
    }
    const protoNames = ["ssl", "quic", "http", "bittorrent", "dns", "ssh", "unknown", "unset"];
    const protocols = protoNames.map((name, i) => {
      const rateBps = Math.round((3e6 * (1 + Math.sin(phase / (5 + i) + i))) / (i + 1));
      const key = `proto/${name}`;
      const k = this.counters.get(key) ?? { bytes: 0, packets: 0, drops: 0 };
      k.bytes += Math.round((rateBps * dt) / 8);
      k.packets += Math.round((rateBps * dt) / 8 / 1200);
      this.counters.set(key, k);
      return { protocol: name, bytes: k.bytes, packets: k.packets, rateBps, connections: 12 - i };
    });
    const connections = protoNames.slice(0, 6).flatMap((name, i) =>
      [0, 1].map((j) => ({
        l4: name === "quic" || name === "dns" ? "udp" : "tcp",
        client: `192.168.1.${10 + ((i + j) % 5)}:${40000 + i * 10 + j}`,
        server: `203.0.113.${20 + i}:${name === "ssh" ? 22 : name === "dns" ? 53 : name === "http" ? 80 : 443}`,
        protocol: name,
        mark: this.marks.get(name) ?? 2,
        bytes: (this.counters.get(`proto/${name}`)?.bytes ?? 0) >> (j + 1),
        rateBps: Math.round((protocols[i]!.rateBps / 2) * (j ? 0.4 : 0.6)),
        state: name === "quic" || name === "dns" ? null : "ESTABLISHED",
        ...connectionApp(name, this.apps),
      })),
    );
    connections.sort((a, b) => b.rateBps - a.rateBps);
    const hosts = new Map<string, { host: string; rateBps: number; bytes: number; connections: number }>();
    for (const c of connections) {
      const host = c.client.replace(/:\d+$/, "");
      const h = hosts.get(host) ?? { host, rateBps: 0, bytes: 0, connections: 0 };
      h.rateBps += c.rateBps;
      h.bytes += c.bytes;
      h.connections++;
      hosts.set(host, h);
    }
    const leafDrops = classes.filter((c) => c.leaf).reduce((n, c) => n + c.drops, 0);
    const s: StatsSample = {
      t,
      classes,
      protocols,
      hosts: [...hosts.values()].sort((a, b) => b.rateBps - a.rateBps),
      connections,
      ...fakeAppSamples(this.apps, phase, dt, this.counters),
      totals: {
        uploadBps: classes.find((c) => c.direction === "upload" && c.classid === "1:1")?.rateBps ?? 0,
        downloadBps: classes.find((c) => c.direction === "download" && c.classid === "1:1")?.rateBps ?? 0,
        drops: leafDrops,
        connections: connections.length,
      },
    };
    this.ring.push(s);
    if (this.ring.length > 600) this.ring.shift();
    for (const fn of this.listeners) fn(s);
    return s;
  }

  private testPattern(b: { l4?: string; text?: string; hex?: string }) {
    const payload =
      b.hex !== undefined
        ? Buffer.from(b.hex.replace(/[^0-9a-f]/gi, ""), "hex")
        : Buffer.from(b.text ?? "", "latin1");
    const subject = payload.toString("latin1").replaceAll("\0", "");
    const matches = TESTERS.filter(([, re]) => re.test(subject)).map(([name]) => {
      const c = this.catalogue.find((p) => p.name === name);
      return { name, priority: c?.priority ?? 0, quality: c?.quality };
    });
    return {
      verdict: matches[0]?.name ?? (payload.length ? "unknown" : "unset"),
      matches,
      bytes: payload.length,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://agent");
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      return send(res, 400, { error: "request body is not valid JSON" });
    }
    this.calls.push({ method: req.method ?? "GET", path: url.pathname, body });
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /v1/stats/stream") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      const latest = this.ring.at(-1);
      if (latest) res.write(`data: ${JSON.stringify(latest)}\n\n`);
      const fn = (s: StatsSample) => res.write(`data: ${JSON.stringify(s)}\n\n`);
      this.listeners.add(fn);
      req.on("close", () => this.listeners.delete(fn));
      return;
    }
    const hist = /^GET \/v1\/history\/(\d+)$/.exec(route);
    if (hist) {
      const e = this.entries.find((x) => x.id === Number(hist[1]));
      return e ? send(res, 200, e) : send(res, 404, { error: `no history entry ${hist[1]}` });
    }
    switch (route) {
      case "GET /v1/status":
        return send(res, 200, this.status());
      case "GET /v1/protocols":
        return send(res, 200, this.catalogue);
      case "GET /v1/apps":
        return this.apps ? send(res, 200, this.apps) : send(res, 404, { error: `no route ${route}` });
      case "POST /v1/render": {
        const r = this.render(body.policy);
        if (!r.ok) return send(res, 200, r);
        const { policy: _p, ...rest } = r;
        return send(res, 200, rest);
      }
      case "POST /v1/apply": {
        const r = this.apply(body as never);
        return send(res, r.status, r.body);
      }
      case "POST /v1/confirm": {
        const r = this.confirm();
        return send(res, r.status, r.body);
      }
      case "POST /v1/rollback": {
        const r = this.rollback(body as never);
        return send(res, r.status, r.body);
      }
      case "GET /v1/history":
        return send(
          res,
          200,
          [...this.entries].reverse().map((e) => this.summary(e)),
        );
      case "GET /v1/stats":
        return send(res, 200, { latest: this.ring.at(-1) ?? null, history: this.ring });
      case "GET /v1/flows": {
        const latest = this.ring.at(-1);
        return send(res, 200, {
          connections: latest?.connections ?? [],
          decided: (latest?.connections ?? []).slice(0, 5).map((c, i) => ({
            queue: 0,
            time: Math.floor(Date.now() / 1000) - i * 3,
            l4: c.l4,
            client: c.client,
            server: c.server,
            protocol: c.protocol,
            mark: c.mark,
            hostname: c.hostname,
            app: c.app,
            category: c.category,
            decidedAtPacket: 3 + i,
          })),
        });
      }
      case "POST /v1/test-pattern":
        return send(res, 200, this.testPattern(body as never));
      default:
        return send(res, 404, { error: `no route ${route}` });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
