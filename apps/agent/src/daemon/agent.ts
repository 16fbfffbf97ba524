// The root agent: probes the kernel, loads the pattern set, re-applies the last good policy,
// runs the NFQUEUE data plane and the accounting sampler, and serves the control API.
// SIGTERM stops it cleanly: the rules stay, and --queue-bypass keeps traffic flowing.

import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import pino, { type Logger } from "pino";
import { loadPatternDirs, classifyPayloads, type PatternSet } from "@sluice/classifier";
import type { PolicyInput } from "@sluice/policy";
import { SystemExecutor, type Executor } from "../kernel/executor.ts";
import { probeCapabilities } from "../kernel/probe.ts";
import { capabilitySummary, chooseVariant, type Capabilities } from "../kernel/capabilities.ts";
import { Applier, ApplyError, type ProtocolCatalogue } from "../apply/applier.ts";
import { HistoryStore } from "../apply/store.ts";
import { Accounting } from "../stats/accounting.ts";
import type { KernelModel } from "../render/model.ts";
import { createApi, listenUnix } from "../api/server.ts";
import { DataPlane, type FlowDecidedEvent } from "../nfqueue/data-plane.ts";

export interface AgentOptions {
  socket: string;
  dataDir: string;
  protocolDirs: string[];
  /** Policy file applied on first boot when there is no last good policy. */
  initialPolicy?: string;
  /** Run without the NFQUEUE data plane (render/apply only). */
  noDataPlane?: boolean;
  exec?: Executor;
  logLevel?: string;
}

const VERSION = "0.1.0";

export class Agent {
  readonly log: Logger;
  readonly exec: Executor;
  readonly store: HistoryStore;
  readonly caps: Capabilities;
  readonly applier: Applier;
  readonly accounting: Accounting;
  private patterns: PatternSet;
  private catalogue: ProtocolCatalogue;
  private dataPlane: DataPlane | null = null;
  private dataPlaneError: string | null = null;
  private server: Server | null = null;
  private readonly decisions: FlowDecidedEvent[] = [];
  private readonly startedAt = Date.now();
  private model: KernelModel | null = null;
  private readonly opts: AgentOptions;

  private constructor(
    opts: AgentOptions,
    log: Logger,
    exec: Executor,
    caps: Capabilities,
    patterns: PatternSet,
  ) {
    this.opts = opts;
    this.log = log;
    this.exec = exec;
    this.caps = caps;
    this.patterns = patterns;
    this.catalogue = catalogueOf(patterns);
    this.store = new HistoryStore(opts.dataDir);
    this.applier = new Applier({
      exec,
      store: this.store,
      caps,
      protocols: () => this.catalogue,
      log: (msg, data) => log.info(data ?? {}, msg),
    });
    this.accounting = new Accounting({
      exec,
      model: () => this.model,
      protocolOf: (m) => this.protocolName(m),
      ipv6: caps.ip6tables.mark,
    });
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const log = pino({
      level: opts.logLevel ?? process.env.SLUICE_LOG ?? "info",
      base: { svc: "sluice-agent" },
    });
    const exec = opts.exec ?? new SystemExecutor();
    const caps = await probeCapabilities(exec);
    const variant = chooseVariant(caps);
    for (const line of capabilitySummary(caps, variant)) log.info(line);
    const patterns = loadPatternDirs(opts.protocolDirs);
    log.info({ loaded: patterns.size, skipped: patterns.skipped.length }, "pattern set loaded");
    for (const s of patterns.skipped)
      log.warn({ file: s.file, line: s.line }, `pattern skipped: ${s.reason}`);
    const agent = new Agent(opts, log, exec, caps, patterns);
    await agent.boot();
    return agent;
  }

  private async boot(): Promise<void> {
    // Connections tracked before accounting is on have no counters: connbytes would never
    // match them and they would never be classified. Turn it on before any rule loads.
    const acct = await this.exec.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"]);
    if (acct.code !== 0) this.log.warn(`could not enable conntrack accounting: ${acct.stderr.trim()}`);
    try {
      const good = await this.applier.restoreLastGood();
      if (good) this.log.info({ id: good.id }, "last good policy in place");
      else if (this.opts.initialPolicy) {
        const policy = JSON.parse(readFileSync(this.opts.initialPolicy, "utf8")) as PolicyInput;
        const { entry } = await this.applier.apply(policy, { user: "first boot" });
        this.log.info({ id: entry.id, file: this.opts.initialPolicy }, "initial policy applied");
      } else this.log.warn("no policy yet: apply one with `sluice apply` or the dashboard");
    } catch (e) {
      this.log.error({ err: e }, "could not install a policy at boot; traffic passes unshaped");
    }
    this.refreshModel();
    if (!this.opts.noDataPlane) await this.startDataPlane();
    this.accounting.start(1000);
    this.server = createApi(this);
    await listenUnix(this.server, this.opts.socket);
    this.log.info({ socket: this.opts.socket }, "control API listening");
  }

  private async startDataPlane(): Promise<void> {
    const good = this.store.lastGood();
    const policy = good ? this.applier.validate(good.policy) : null;
    const inspection = policy?.inspection ?? { packets: 10, bytes: 2048, queues: 2, queueBase: 0 };
    const mask = policy?.marks.mask ?? 0xff00;
    try {
      this.dataPlane = await DataPlane.start({
        queues: Array.from({ length: inspection.queues }, (_, i) => inspection.queueBase + i),
        protocolDirs: this.opts.protocolDirs,
        window: { packets: inspection.packets, bytes: inspection.bytes },
        mask,
        shift: this.model?.shift ?? 8,
        onFlowDecided: (ev) => {
          this.decisions.push(ev);
          if (this.decisions.length > 1000) this.decisions.splice(0, this.decisions.length - 1000);
        },
        onLog: (level, msg) => this.log[level](`nfqueue: ${msg}`),
      });
      this.dataPlaneError = null;
      this.log.info({ queues: inspection.queues }, "NFQUEUE data plane running");
    } catch (e) {
      this.dataPlaneError = (e as Error).message;
      this.log.error(
        { err: e },
        "NFQUEUE data plane failed to start; traffic passes unclassified (queue bypass)",
      );
    }
  }

  private refreshModel(): void {
    const good = this.store.lastGood();
    try {
      this.model = good ? this.applier.render(this.applier.validate(good.policy)).model : null;
    } catch {
      this.model = null;
    }
  }

  protocolName(l7mark: number): string {
    if (l7mark === 1) return "unset";
    if (l7mark === 2) return "unknown";
    return this.patterns.patterns.find((p) => p.mark === l7mark)?.name ?? `mark-${l7mark}`;
  }

  status() {
    const variant = chooseVariant(this.caps);
    const good = this.store.lastGood();
    return {
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      capabilities: this.caps,
      variant,
      summary: capabilitySummary(this.caps, variant),
      patterns: { loaded: this.patterns.size, skipped: this.patterns.skipped },
      policy: good
        ? {
            id: good.id,
            name: (good.policy as { name?: string }).name ?? "policy",
            at: good.at,
            user: good.user,
          }
        : null,
      trying: this.applier.pendingTry,
      dataPlane: this.dataPlane
        ? { running: true, ...this.dataPlane.stats().total }
        : { running: false, error: this.dataPlaneError ?? "disabled" },
      devices:
        this.model?.devices.map((d) => ({
          device: d.device,
          direction: d.direction,
          linkRate: d.linkRate,
        })) ?? [],
    };
  }

  protocolCatalogue() {
    return this.patterns.patterns.map((p) => ({
      name: p.name,
      mark: p.mark,
      priority: p.priority,
      title: p.meta.title,
      quality: p.meta.quality,
      speed: p.meta.speed,
      groups: p.meta.groups,
      aliases: p.meta.aliases,
      transports: p.transports,
      overmatch: p.meta.overmatch,
      undermatch: p.meta.undermatch,
      wiki: p.meta.wiki,
      notes: p.meta.notes,
      pattern: p.l7,
    }));
  }

  async render(policy: unknown) {
    try {
      const dry = await this.applier.dryRun(policy);
      return { ok: true, header: dry.rendered.header, scripts: dry.scripts, diff: dry.diff };
    } catch (e) {
      if (e instanceof ApplyError && e.step === "validate")
        return { ok: false, issues: e.issues, error: e.message };
      throw e;
    }
  }

  async apply(policy: unknown, opts: { user?: string; trySeconds?: number }) {
    const result = await this.applier.apply(policy as PolicyInput, opts);
    this.refreshModel();
    return { entry: summarize(result.entry), diff: result.diff };
  }

  async confirm() {
    const e = await this.applier.confirm();
    this.refreshModel();
    return summarize(e);
  }

  async rollback(id: number | undefined, user: string) {
    const e = await this.applier.rollback(id, user);
    this.refreshModel();
    return summarize(e);
  }

  history() {
    return this.store.list().map(summarize);
  }

  recentDecisions(): FlowDecidedEvent[] {
    return [...this.decisions].reverse().slice(0, 200);
  }

  testPattern(input: {
    l4: "tcp" | "udp";
    text?: string | undefined;
    hex?: string | undefined;
    dir: "c2s" | "s2c";
  }) {
    const payload =
      input.hex !== undefined
        ? Buffer.from(input.hex.replace(/[^0-9a-f]/gi, ""), "hex")
        : Buffer.from(input.text ?? "", "latin1");
    const flow = classifyPayloads(this.patterns, input.l4, [{ dir: input.dir, payload }], {
      handshake: true,
    });
    const subject = payload.toString("latin1").replaceAll("\0", "");
    return {
      verdict: flow.protocol,
      matches: this.patterns
        .matchAll(subject, input.l4)
        .map((p) => ({ name: p.name, priority: p.priority, quality: p.meta.quality })),
      bytes: payload.length,
    };
  }

  async stop(): Promise<void> {
    this.accounting.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    if (this.dataPlane) await this.dataPlane.stop();
    this.log.info("agent stopped; rules stay in place, queue bypass keeps traffic flowing");
  }
}

function catalogueOf(set: PatternSet): ProtocolCatalogue {
  const marks = new Map(set.patterns.map((p) => [p.name, p.mark]));
  const names = new Set<string>();
  for (const p of set.patterns) {
    names.add(p.name);
    for (const a of p.meta.aliases) {
      names.add(a);
      if (!marks.has(a)) marks.set(a, p.mark);
    }
  }
  return { marks, names };
}

function summarize(e: {
  id: number;
  at: string;
  user: string;
  status: string;
  lastGood: boolean;
  error?: unknown;
  tryUntil?: string;
  policy: unknown;
}) {
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
