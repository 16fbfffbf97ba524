// The root agent: probes the kernel, loads the pattern set, re-applies the last good policy,
// runs the NFQUEUE data plane and the accounting sampler, and serves the control API.
// SIGTERM stops it cleanly: the rules stay, and --queue-bypass keeps traffic flowing.

import { getHeapStatistics } from "node:v8";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import pino, { type Logger } from "pino";
import { existsSync } from "node:fs";
import {
  loadPatternDirs,
  classifyPayloads,
  loadAppCatalogue,
  catalogueBeside,
  type AppCatalogue,
  type PatternSet,
} from "@sluice/classifier";
import { networkInterfaces } from "node:os";
import {
  markFields,
  metricsListenIssues,
  networkOfCidr,
  reservedProtocol,
  type PolicyInput,
} from "@sluice/policy";
import { DeviceNames } from "../devices/names.ts";
import { SystemExecutor, type Executor } from "../kernel/executor.ts";
import { probeCapabilities } from "../kernel/probe.ts";
import { capabilitySummary, chooseVariant, type Capabilities } from "../kernel/capabilities.ts";
import { Applier, ApplyError, type ProtocolCatalogue } from "../apply/applier.ts";
import { HistoryStore, type HistoryEntry } from "../apply/store.ts";
import { HostIdRegistry } from "../apply/host-ids.ts";
import { Accounting, type StatsSample } from "../stats/accounting.ts";
import { KernelCounters } from "../stats/kernel-counters.ts";
import type { KernelModel } from "../render/model.ts";
import { createApi, listenUnix, type ControlTarget } from "../api/server.ts";
import type {
  DevicesResponse,
  AgentStatus,
  AppCatalogue as AppCatalogueResponse,
  ApplyResponse,
  FlowsResponse,
  HistorySummary,
  ProtocolsResponse,
  RenderResponse,
  StatsResponse,
  TestPatternRequest,
  TestPatternResponse,
} from "@sluice/agent-contract";
import { DataPlane, type FlowDecidedEvent } from "../nfqueue/data-plane.ts";
import { listInterfaces, type NetInterface } from "../kernel/interfaces.ts";
import { CHAIN_FWD } from "../render/model.ts";
import { parseLateRuleCount } from "../stats/parse.ts";
import { HealthTracker, countersOf, type ClassificationHealth } from "./classification-health.ts";
import { ApplyOutcomes } from "../metrics/apply-outcomes.ts";
import { MetricsEndpoint, endpointConfig } from "../metrics/endpoint.ts";
import type { MetricsSnapshot } from "../metrics/exposition.ts";
import { systemClock, type Clock } from "./clock.ts";
import { QuotaBook, parseNftQuotas } from "./quota-book.ts";
import { MediaExpectations } from "./rtsp-expectations.ts";
import { Scheduler } from "./scheduler.ts";
import { quotaObject } from "../render/quota-model.ts";
import { NFT_FAMILY, NFT_TABLE, UNINSPECTED_COUNTER } from "../render/nft.ts";

export interface AgentOptions {
  socket: string;
  dataDir: string;
  protocolDirs: string[];
  /** Policy file applied on first boot when there is no last good policy. */
  initialPolicy?: string;
  /** Run without the NFQUEUE data plane (render/apply only). */
  noDataPlane?: boolean;
  exec?: Executor;
  /** What the kernel can do, instead of probing it (tests on a fake kernel). */
  capabilities?: Capabilities;
  /** The application catalogue file; default the one beside the protocols; null: none. */
  appCatalogue?: string | null;
  /** Accounting sample interval (ms), default 1000; 0: only when asked (tests). */
  sampleMs?: number;
  /** The box's network interfaces; default read from sysfs (tests: the fake kernel's). */
  interfaces?: () => NetInterface[];
  logLevel?: string;
  /** dnsmasq's lease file (device names, device rules by MAC); null: none. */
  leasesFile?: string | null;
  /** A DNS server asked for device names by address (PTR); null/absent: no reverse DNS. */
  reverseDns?: string | null;
  /** The clock schedules and quota periods follow (tests: a ManualClock). */
  clock?: Clock;
}

/** Where the appliance's dnsmasq keeps its leases (Debian's default). */
export const DEFAULT_LEASES_FILE = "/var/lib/misc/dnsmasq.leases";

/** The networks of an interface's addresses ("10.77.1.0/24"), link-local ones left out. */
function interfaceNetworks(device: string): string[] {
  return (networkInterfaces()[device] ?? [])
    .filter((a) => !a.address.toLowerCase().startsWith("fe80:") && a.cidr)
    .map((a) => networkOfCidr(a.cidr!))
    .filter((n): n is string => n !== null);
}

const VERSION = "0.1.0";

export class Agent implements ControlTarget {
  readonly log: Logger;
  readonly exec: Executor;
  readonly store: HistoryStore;
  readonly caps: Capabilities;
  readonly applier: Applier;
  readonly accounting: Accounting;
  private patterns: PatternSet;
  private catalogue: ProtocolCatalogue;
  /** The application catalogue beside the protocols (app and category rules, app ids). */
  readonly apps: AppCatalogue | null;
  private dataPlane: DataPlane | null = null;
  /** RTSP media expectations the data plane asks for (Sluice's own table, rtsp-expectations.ts). */
  readonly media: MediaExpectations;
  private dataPlaneError: string | null = null;
  /** The data plane's workers are loading (the control API answers meanwhile). */
  private dataPlaneStarting = false;
  private server: Server | null = null;
  private readonly decisions: FlowDecidedEvent[] = [];
  /** "client server" → host name of recently decided flows (for the flows view). */
  private readonly hostnames = new Map<string, string>();
  private readonly hostIds: HostIdRegistry;
  private readonly startedAt = Date.now();
  private model: KernelModel | null = null;
  private readonly opts: AgentOptions;
  private readonly health = new HealthTracker();
  readonly deviceNames: DeviceNames;
  private healthTimer: NodeJS.Timeout | null = null;
  private quotaTimer: NodeJS.Timeout | null = null;
  readonly book: QuotaBook;
  readonly scheduler: Scheduler;
  /** How applies, tries, confirms, rollbacks and reverts ended (metrics). */
  readonly outcomes = new ApplyOutcomes();
  /** The Prometheus/OpenMetrics endpoint (policy.metrics; off by default). */
  readonly metrics: MetricsEndpoint;
  /** The metrics endpoint following the last model change (awaited before an apply answers). */
  private metricsConfigured: Promise<void> = Promise.resolve();

  private constructor(
    opts: AgentOptions,
    log: Logger,
    exec: Executor,
    caps: Capabilities,
    patterns: PatternSet,
    apps: AppCatalogue | null,
  ) {
    this.opts = opts;
    this.apps = apps;
    this.log = log;
    this.exec = exec;
    this.caps = caps;
    this.patterns = patterns;
    this.catalogue = catalogueOf(patterns);
    this.store = new HistoryStore(opts.dataDir);
    this.hostIds = new HostIdRegistry(opts.dataDir);
    this.deviceNames = new DeviceNames({
      leasesFile: opts.leasesFile === undefined ? DEFAULT_LEASES_FILE : opts.leasesFile,
      reverseDns: opts.reverseDns ?? null,
    });
    this.applier = new Applier({
      exec,
      store: this.store,
      caps,
      protocols: () => this.catalogue,
      apps: () => this.apps,
      log: (msg, data) => log.info(data ?? {}, msg),
      reverted: () => {
        this.outcomes.record("revert", "ok");
        this.refreshModel();
        void this.scheduler.kick();
      },
      hostIds: (globs, max) => this.hostIds.ids(globs, max),
      // A fake kernel (tests) has no addresses to check device rules against.
      ...(opts.exec ? {} : { lanNetworks: interfaceNetworks }),
      hostInputs: () => ({ macAddresses: this.deviceNames.macAddresses() }),
      inForce: (policy) => this.scheduler.inForce(policy),
    });
    this.media = new MediaExpectations(exec, { onError: (msg) => log.warn(msg) });
    this.book = new QuotaBook(opts.dataDir);
    this.scheduler = new Scheduler({
      clock: opts.clock ?? systemClock,
      applier: this.applier,
      store: this.store,
      book: this.book,
      log: (msg, data) => log.info(data ?? {}, msg),
      syncQuotas: () => this.syncQuotas(),
      applied: () => this.refreshModel(),
    });
    this.accounting = new Accounting({
      exec,
      model: () => this.model,
      protocolOf: (m) => this.protocolName(m),
      apps,
      hostnameOf: (client, server) => this.hostnames.get(`${client} ${server}`) ?? null,
      deviceNameOf: (address) => this.deviceNames.nameOf(address),
      ipv6: caps.ip6tables.mark,
      // In process over netlink (no process per sample); the tools where it can't be opened.
      kernel: opts.exec ? null : KernelCounters.open(),
    });
    this.metrics = new MetricsEndpoint(
      () => this.metricsSnapshot(),
      (level, msg) => log[level](msg),
    );
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const log = pino({
      level: opts.logLevel ?? process.env.SLUICE_LOG ?? "info",
      base: { svc: "sluice-agent" },
    });
    const exec = opts.exec ?? new SystemExecutor();
    // The probe's commands run in their own processes: the pattern set and the app catalogue
    // load meanwhile (on a small or emulated box both take seconds).
    const probing = opts.capabilities ? Promise.resolve(opts.capabilities) : probeCapabilities(exec);
    probing.catch(() => undefined); // awaited below; not "unhandled" if loading throws first
    const patterns = loadPatternDirs(opts.protocolDirs);
    for (const s of patterns.skipped)
      log.warn({ file: s.file, line: s.line }, `pattern skipped: ${s.reason}`);
    const cataloguePath =
      opts.appCatalogue === undefined ? catalogueBeside(opts.protocolDirs[0] ?? "") : opts.appCatalogue;
    let apps: AppCatalogue | null = null;
    if (cataloguePath === null) log.info("no application catalogue (none asked for)");
    else if (existsSync(cataloguePath)) {
      try {
        apps = loadAppCatalogue(cataloguePath);
        log.info({ apps: apps.size, categories: apps.categories.length }, "application catalogue loaded");
      } catch (e) {
        log.error({ err: e }, "application catalogue not loaded: app and category rules do nothing");
      }
    } else log.warn(`no application catalogue at ${cataloguePath}: app and category rules do nothing`);
    const caps = await probing;
    const variant = chooseVariant(caps);
    for (const line of capabilitySummary(caps, variant)) log.info(line);
    log.info({ loaded: patterns.size, skipped: patterns.skipped.length }, "pattern set loaded");
    const agent = new Agent(opts, log, exec, caps, patterns, apps);
    await agent.boot();
    return agent;
  }

  private async boot(): Promise<void> {
    // Connections tracked before accounting is on have no counters: connbytes would never
    // match them and they would never be classified. Turn it on before any rule loads.
    const acct = await this.exec.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"]);
    if (acct.code !== 0) this.log.warn(`could not enable conntrack accounting: ${acct.stderr.trim()}`);
    await this.syncQuotas(); // counts of a table still in place (an agent restart, not a reboot)
    try {
      const good = await this.applier.restoreLastGood().catch((e: unknown) => {
        this.outcomes.record("boot", "failed");
        throw e;
      });
      if (good) this.outcomes.record("boot", "ok");
      if (good) this.log.info({ id: good.id }, "last good policy in place");
      else if (this.opts.initialPolicy) {
        const policy = JSON.parse(readFileSync(this.opts.initialPolicy, "utf8")) as PolicyInput;
        const { entry } = await this.outcomes.track("boot", () =>
          this.applier.apply(policy, { user: "first boot" }),
        );
        this.log.info({ id: entry.id, file: this.opts.initialPolicy }, "initial policy applied");
      } else this.log.warn("no policy yet: apply one with `sluice apply` or the dashboard");
    } catch (e) {
      this.log.error({ err: e }, "could not install a policy at boot; traffic passes unshaped");
    }
    this.refreshModel();
    // A window or quota period that changed while the agent was stopped switches now.
    await this.scheduler.start();
    this.quotaTimer = setInterval(() => void this.syncQuotas(), 5000);
    this.quotaTimer.unref?.();
    if (this.opts.sampleMs !== 0) this.accounting.start(this.opts.sampleMs ?? 1000);
    this.healthTimer = setInterval(() => void this.sampleHealth().catch(() => undefined), 5000);
    this.healthTimer.unref?.();
    loopDelayMaxMs(); // starts watching the event loop
    // The policy is in place: the control API answers (status, the dashboard) while the data
    // plane's workers load the pattern set, the slowest part of the start on a small box
    // (traffic passes unclassified meanwhile, as it does when the agent is down).
    this.dataPlaneStarting = !this.opts.noDataPlane;
    this.server = createApi(this);
    await listenUnix(this.server, this.opts.socket);
    this.log.info({ socket: this.opts.socket }, "control API listening");
    await this.metricsConfigured;
    if (!this.opts.noDataPlane) await this.startDataPlane();
    void this.sampleHealth().catch(() => undefined);
  }

  private async startDataPlane(): Promise<void> {
    const good = this.store.lastGood();
    const policy = good ? this.applier.validate(good.policy) : null;
    const inspection = policy?.inspection ?? { packets: 10, bytes: 2048, queues: 2, queueBase: 0 };
    try {
      this.dataPlane = await DataPlane.start({
        queues: Array.from({ length: inspection.queues }, (_, i) => inspection.queueBase + i),
        protocolDirs: this.opts.protocolDirs,
        patternsLoaded: true, // by start(), from the same directories
        window: { packets: inspection.packets, bytes: inspection.bytes },
        ...this.routing(),
        // The flows view keeps the last 1000 decisions: more events per interval than that
        // are built, cloned and dropped for nothing at tens of thousands of new flows a second.
        eventsPerInterval: 250,
        onFlowDecided: (ev) => this.recordDecision(ev),
        onMediaExpected: (req) => this.media.expect(req.elements),
        onLog: (level, msg) => this.log[level](`nfqueue: ${msg}`),
      });
      this.dataPlaneError = null;
      // a policy applied while the workers loaded may have moved the mark fields
      this.dataPlane.setRouting(this.routing());
      this.log.info({ queues: inspection.queues }, "NFQUEUE data plane running");
    } catch (e) {
      this.dataPlaneError = (e as Error).message;
      this.log.error(
        { err: e },
        "NFQUEUE data plane failed to start; traffic passes unclassified (queue bypass)",
      );
    } finally {
      this.dataPlaneStarting = false;
    }
  }

  /** A flow the data plane decided: kept for the flows view, its host name for accounting. */
  recordDecision(ev: FlowDecidedEvent): void {
    this.decisions.push(ev);
    if (this.decisions.length > 1000) this.decisions.splice(0, this.decisions.length - 1000);
    if (ev.hostname) {
      this.hostnames.delete(`${ev.client} ${ev.server}`);
      this.hostnames.set(`${ev.client} ${ev.server}`, ev.hostname);
      if (this.hostnames.size > 20000) this.hostnames.delete(this.hostnames.keys().next().value!);
    }
  }

  /** The mark fields and hostname rules of the installed policy, for the data plane. */
  private routing() {
    const m = this.model;
    if (m)
      return {
        mask: m.mask,
        shift: m.shift,
        app: m.app,
        host: m.host,
        hostRules: m.hostRules,
        rtsp: m.related.rtspMedia,
      };
    const { protocol, app, host } = markFields();
    return { mask: protocol.mask, shift: protocol.shift, app, host, hostRules: [], rtsp: null };
  }

  /** The model of what is installed: the policy being tried, else the last good one. */
  private refreshModel(): void {
    const trying = this.applier.pendingTry;
    const good = (trying ? this.store.get(trying.entryId) : undefined) ?? this.store.lastGood();
    let policy = null;
    try {
      policy = good ? this.applier.validate(good.policy) : null;
      this.model = policy ? this.applier.render(policy).model : null;
    } catch {
      this.model = null;
    }
    // the metrics endpoint follows the policy in force, as the shaping does
    const cfg = endpointConfig(policy?.metrics, policy?.interfaces.lan.device);
    this.metricsConfigured = this.metrics
      .configure(cfg)
      .catch((e: unknown) => this.log.error({ err: e }, "metrics endpoint not reconfigured"));
    // Every apply replaces the table, and with it the media maps' elements: the live ones go back.
    void this.media.tableReplaced(Boolean(this.model?.related.rtspMedia));
    try {
      this.dataPlane?.setRouting(this.routing());
    } catch (e) {
      this.log.error({ err: e }, "the data plane kept its previous mark layout");
    }
  }

  /** Overload counters (queue, fail-open, late windows), every few seconds. */
  private async sampleHealth(): Promise<void> {
    if (!this.dataPlane) return;
    let late = 0;
    for (const bin of this.caps.ip6tables.mark ? ["iptables", "ip6tables"] : ["iptables"]) {
      const r = await this.exec.run([bin, "-w", "-t", "mangle", "-nvxL", CHAIN_FWD]);
      if (r.code === 0) late += parseLateRuleCount(r.stdout);
    }
    const uninspected = await this.accounting.nftCounterPackets(UNINSPECTED_COUNTER).catch(() => 0);
    this.health.record(countersOf(this.dataPlane.stats().total, late, uninspected));
  }

  protocolName(l7mark: number): string {
    return (
      reservedProtocol(l7mark) ??
      this.patterns.patterns.find((p) => p.mark === l7mark)?.name ??
      `mark-${l7mark}`
    );
  }

  /** The box's interfaces (sysfs and their addresses; tests: the fake kernel's). */
  private interfaces(): NetInterface[] {
    return this.opts.interfaces ? this.opts.interfaces() : listInterfaces();
  }

  /**
   * Checks of a new policy against the box as it is now: the metrics address must be
   * loopback or the LAN interface's. Not on boot or rollback (the box may be coming up, and
   * the endpoint retries until the address is there).
   */
  private boxIssues(policy: unknown) {
    const p = policy as { interfaces?: { lan?: { device?: unknown } } } | null;
    const lan = p?.interfaces?.lan?.device;
    const addresses = this.interfaces().find((i) => i.name === lan)?.addresses ?? [];
    return metricsListenIssues((policy ?? {}) as Parameters<typeof metricsListenIssues>[0], addresses);
  }

  /** What the metrics endpoint shows, read when it is scraped. */
  metricsSnapshot(): MetricsSnapshot {
    const good = this.store.lastGood();
    return {
      version: VERSION,
      startedAt: this.startedAt,
      sample: this.accounting.latest(),
      dataPlane: this.dataPlane?.stats().total ?? null,
      health: this.classificationHealth(),
      protocolOf: (m) => this.protocolName(m),
      applies: this.outcomes.list(),
      quotas: this.scheduler.quotaStatus(),
      schedule: this.scheduler.scheduleStatus(),
      deviceClasses: (this.model?.devices ?? []).flatMap((d) =>
        (d.hosts?.devices ?? []).map((x) => ({ iface: d.device, classid: x.classid, device: x.name })),
      ),
      lastApplyAt: this.outcomes.lastAt,
      policy: good
        ? { id: good.id, name: (good.policy as { name?: string }).name ?? "policy", at: good.at }
        : null,
      trying: this.applier.pendingTry !== null,
    };
  }

  private classificationHealth(): ClassificationHealth {
    if (this.dataPlane) return this.health.current();
    return {
      ...this.health.current(),
      degraded: true,
      reasons: [
        this.dataPlaneStarting
          ? "the data plane is starting: traffic passes unclassified until it runs"
          : "the data plane is not running: traffic passes unclassified",
      ],
    };
  }

  status(): AgentStatus {
    const variant = chooseVariant(this.caps);
    const schedule = this.scheduler.scheduleStatus();
    const quotas = this.scheduler.quotaStatus();
    const good = this.store.lastGood();
    return {
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      capabilities: this.caps,
      variant,
      summary: capabilitySummary(this.caps, variant),
      patterns: { loaded: this.patterns.size, skipped: this.patterns.skipped },
      catalogue: this.apps ? { apps: this.apps.size, categories: this.apps.categories.length } : null,
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
        ? {
            running: true,
            ...this.dataPlane.stats().total,
            health: this.classificationHealth(),
            memory: agentMemory(),
            rtspMedia: this.media.stats(),
          }
        : this.dataPlaneStarting
          ? {
              running: false,
              starting: true,
              error: "starting (the workers are loading the pattern set)",
              health: this.classificationHealth(),
            }
          : { running: false, error: this.dataPlaneError ?? "disabled", health: this.classificationHealth() },
      interfaces: this.interfaces(),
      metrics: this.metrics.state(),
      devices:
        this.model?.devices.map((d) => ({
          device: d.device,
          direction: d.direction,
          linkRate: d.linkRate,
        })) ?? [],
      ...(schedule ? { schedule } : {}),
      ...(quotas.length ? { quotas } : {}),
    };
  }

  protocolCatalogue(): ProtocolsResponse {
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

  appCatalogue(): AppCatalogueResponse {
    return {
      apps: (this.apps?.apps ?? []).map((a) => ({
        id: a.id,
        name: a.name,
        title: a.title,
        category: a.category,
      })),
      categories: (this.apps?.categories ?? []).map((c) => ({ id: c.id, name: c.name, title: c.title })),
    };
  }

  async render(policy: unknown): Promise<RenderResponse> {
    try {
      const issues = this.boxIssues(policy);
      if (issues.length)
        return { ok: false, issues, error: issues.map((i) => `${i.path}: ${i.message}`).join("; ") };
      const dry = await this.applier.dryRun(policy);
      return { ok: true, header: dry.rendered.header, scripts: dry.scripts, diff: dry.diff };
    } catch (e) {
      if (e instanceof ApplyError && e.step === "validate")
        return { ok: false, issues: e.issues, error: e.message };
      throw e;
    }
  }

  async apply(policy: unknown, opts: { user?: string; trySeconds?: number }): Promise<ApplyResponse> {
    await this.syncQuotas(); // the new table starts from the counts so far
    const result = await this.outcomes.track(opts.trySeconds !== undefined ? "try" : "apply", async () => {
      const issues = this.boxIssues(policy);
      if (issues.length)
        throw new ApplyError(
          "validate",
          `policy is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
          { issues },
        );
      return this.applier.apply(policy as PolicyInput, opts);
    });
    this.refreshModel();
    void this.scheduler.kick();
    await this.metricsConfigured;
    return { entry: summarize(result.entry), diff: result.diff };
  }

  async confirm(): Promise<HistorySummary> {
    const e = await this.outcomes.track("confirm", () => this.applier.confirm());
    this.refreshModel();
    void this.scheduler.kick();
    await this.metricsConfigured;
    return summarize(e);
  }

  async rollback(id: number | undefined, user: string): Promise<HistorySummary> {
    await this.syncQuotas();
    const e = await this.outcomes.track("rollback", () => this.applier.rollback(id, user));
    this.refreshModel();
    void this.scheduler.kick();
    await this.metricsConfigured;
    return summarize(e);
  }

  /**
   * Reads the kernel's quota objects into the quota book (the bytes each target used in the
   * period the installed policy was applied for) and saves it.
   */
  async syncQuotas(): Promise<void> {
    const good = this.store.lastGood();
    const periods = good?.quotaPeriods;
    if (!this.caps.nftables || !periods || !Object.keys(periods).length) return;
    try {
      const r = await this.exec.run(["nft", "-j", "list", "quotas", "table", NFT_FAMILY, NFT_TABLE]);
      if (r.code !== 0) return;
      const used = parseNftQuotas(r.stdout);
      for (const [name, period] of Object.entries(periods)) {
        const bytes = used.get(quotaObject(name));
        if (bytes !== undefined) this.book.record(name, period, bytes);
      }
      this.book.save();
    } catch (e) {
      this.log.warn({ err: e }, "quota counts not saved");
    }
  }

  history(): HistorySummary[] {
    return this.store.list().map(summarize);
  }

  historyEntry(id: number): HistoryEntry | undefined {
    return this.store.get(id);
  }

  stats(): StatsResponse {
    return { latest: this.accounting.latest(), history: this.accounting.history() };
  }

  flows(): FlowsResponse {
    return {
      // The busiest connections (bounded), and how many the table holds in all.
      connections: this.accounting.allConnections(),
      total: this.accounting.connectionCount(),
      decided: this.recentDecisions(),
    };
  }

  devices(): DevicesResponse {
    return {
      devices: this.deviceNames.list(),
      leasesFile: this.opts.leasesFile === undefined ? DEFAULT_LEASES_FILE : this.opts.leasesFile,
      reverseDns: this.opts.reverseDns ?? null,
    };
  }

  latestSample() {
    return this.accounting.latest();
  }

  onSample(fn: (sample: StatsSample) => void): () => void {
    return this.accounting.onSample(fn);
  }

  recentDecisions(): FlowDecidedEvent[] {
    return [...this.decisions].reverse().slice(0, 200);
  }

  testPattern(input: TestPatternRequest): TestPatternResponse {
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
    this.scheduler.stop();
    if (this.quotaTimer) clearInterval(this.quotaTimer);
    await this.syncQuotas();
    this.accounting.stop();
    // open stats streams (the dashboard's) would keep close() waiting for ever
    this.server?.closeAllConnections();
    if (this.healthTimer) clearInterval(this.healthTimer);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    await this.metrics.stop();
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

function summarize(e: HistoryEntry): HistorySummary {
  return {
    id: e.id,
    at: e.at,
    user: e.user,
    status: e.status,
    lastGood: e.lastGood,
    error: e.error,
    tryUntil: e.tryUntil,
    name: (e.policy as { name?: string }).name,
    ...(e.note ? { note: e.note } : {}),
  };
}

/**
 * The longest the main thread was busy without a turn of its event loop (ms) over the last
 * 10-20 s: every API answer (`sluice stats`, status) can wait that long.
 */
let loopDelay: ReturnType<typeof monitorEventLoopDelay> | null = null;
let loopWindow = { at: 0, previousMax: 0 };
function loopDelayMaxMs(): number {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    loopWindow = { at: Date.now(), previousMax: 0 };
  }
  if (Date.now() - loopWindow.at >= 10_000) {
    loopWindow = { at: Date.now(), previousMax: loopDelay.max / 1e6 };
    loopDelay.reset();
  }
  return Math.round(Math.max(loopWindow.previousMax, loopDelay.max / 1e6));
}

/** The agent's resident set and its main thread's V8 heap (bytes), for status. */
function agentMemory(): { rss: number; mainHeapUsed: number; mainHeapTotal: number; loopDelayMaxMs: number } {
  const h = getHeapStatistics();
  return {
    rss: process.memoryUsage.rss(),
    mainHeapUsed: h.used_heap_size,
    mainHeapTotal: h.total_heap_size,
    loopDelayMaxMs: loopDelayMaxMs(),
  };
}
