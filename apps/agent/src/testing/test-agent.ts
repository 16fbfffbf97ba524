// The real Agent for tests, the dashboard's e2e run and its benchmark: started without the
// NFQUEUE data plane, on a FakeKernel instead of the machine's, on the repository's pattern
// set and catalogue. Its API, validation, diff, apply, verify, try and rollback are the
// agent's own; only the kernel is in memory. `sample()` puts made-up traffic into the fake
// kernel (class counters, the nftables counters or accounting chains, conntrack) and takes
// one accounting sample from it, so stats, flows and the live graphs follow the installed
// policy.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { markFields, type PolicyInput } from "@sluice/policy";
import type { StatsSample } from "@sluice/agent-contract";
import { Agent } from "../daemon/agent.ts";
import { MINIMAL_CAPABILITIES, type Capabilities } from "../kernel/capabilities.ts";
import type { HistoryEntry } from "../apply/store.ts";
import { NFT_DECIDED_MAP, NFT_FAMILY, NFT_TABLE, appCounter, protocolCounter } from "../render/nft.ts";
import { FakeKernel } from "./fake-kernel.ts";
import type { Clock } from "../daemon/clock.ts";

/** Sluice's own pattern set (apps/agent/src/testing → ../../../../protocols). */
export const REPO_PROTOCOLS = resolve(fileURLToPath(new URL("../../../../protocols", import.meta.url)));

export interface TestAgentOptions {
  socket: string;
  /** A policy applied at start (entry #1, "first boot"), through the real apply. */
  initialPolicy?: PolicyInput;
  /** Sample interval for the stats (ms); default 1000; 0: only on `sample()`. */
  sampleMs?: number;
  /** false: an agent without an application catalogue (GET /v1/apps answers 404). */
  appCatalogue?: boolean;
  /** What the fake kernel can do; default this CI kernel's (pfifo leaves, nftables maps). */
  capabilities?: Capabilities;
  /** Network devices the fake kernel has (default wan0, lan0, eth0, eth1). */
  links?: string[];
  /**
   * The interfaces and link speeds the status reports (default: lo, the links; wan0 at
   * 100 Mbit/s with 198.51.100.2, lan0 at 1 Gbit/s with 192.168.1.1 and fe80::1); their names are also the fake kernel's devices, so tc
   * refuses a policy naming any other device, as the kernel does.
   */
  interfaces?: { name: string; speedMbps: number | null; addresses?: string[] }[];
  dataDir?: string;
  /** A dnsmasq lease file for device names (default none: not the host's own). */
  leasesFile?: string | null;
  /** The clock schedules and quota periods follow (a ManualClock moves past boundaries). */
  clock?: Clock;
}

/** Made-up connections: protocol, app and host name the data plane would have found. */
const FAKE_FLOWS = [
  {
    protocol: "ssl",
    l4: "tcp",
    port: 443,
    app: "youtube",
    hostname: "rr4---sn-fake.googlevideo.com",
    share: 0.35,
  },
  {
    protocol: "quic",
    l4: "udp",
    port: 443,
    app: "netflix",
    hostname: "ipv4-c001-fake.1.oca.nflxvideo.net",
    share: 0.25,
  },
  {
    protocol: "http",
    l4: "tcp",
    port: 80,
    app: "windows-update",
    hostname: "download.windowsupdate.com",
    share: 0.15,
  },
  { protocol: "bittorrent", l4: "tcp", port: 51413, app: null, hostname: null, share: 0.1 },
  { protocol: "dns", l4: "udp", port: 53, app: null, hostname: null, share: 0.05 },
  { protocol: "ssh", l4: "tcp", port: 22, app: null, hostname: null, share: 0.05 },
] as const;

/** Applications with traffic counted but no connection listed (per-app graphs and roll-ups). */
const APP_ONLY = ["steam", "zoom", "dropbox"];

export class TestAgent {
  readonly agent: Agent;
  readonly kernel: FakeKernel;
  readonly socket: string;
  private lastT = Date.now();
  private bytes = new Map<string, number>();
  private sampler: NodeJS.Timeout | null = null;
  private readonly decided = new Set<string>();

  private constructor(agent: Agent, kernel: FakeKernel, socket: string) {
    this.agent = agent;
    this.kernel = kernel;
    this.socket = socket;
  }

  static async start(opts: TestAgentOptions): Promise<TestAgent> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "sluice-test-agent-"));
    let initialPolicy: string | undefined;
    if (opts.initialPolicy) {
      initialPolicy = join(dataDir, "initial-policy.json");
      writeFileSync(initialPolicy, JSON.stringify(opts.initialPolicy));
    }
    const speeds: Record<string, number> = { wan0: 100, lan0: 1000 };
    const addresses: Record<string, string[]> = {
      wan0: ["198.51.100.2"],
      lan0: ["192.168.1.1", "fe80::1%lan0"],
    };
    const given: NonNullable<TestAgentOptions["interfaces"]> = opts.interfaces ?? [
      { name: "lo", speedMbps: null, addresses: ["127.0.0.1", "::1"] },
      ...(opts.links ?? ["wan0", "lan0", "eth0", "eth1"]).map((name) => ({
        name,
        speedMbps: speeds[name] ?? null,
        addresses: addresses[name] ?? [],
      })),
    ];
    const interfaces = given.map((i) => ({ ...i, addresses: i.addresses ?? [] }));
    const kernel = new FakeKernel({ links: interfaces.map((i) => i.name) });
    const agent = await Agent.start({
      socket: opts.socket,
      dataDir,
      protocolDirs: [REPO_PROTOCOLS],
      ...(initialPolicy ? { initialPolicy } : {}),
      noDataPlane: true,
      exec: kernel,
      // this CI kernel's variant: nftables maps and counters, no cls_fw, pfifo leaves
      capabilities: opts.capabilities ?? MINIMAL_CAPABILITIES,
      interfaces: () => interfaces,
      sampleMs: 0,
      ...(opts.appCatalogue === false ? { appCatalogue: null } : {}),
      logLevel: "silent",
      leasesFile: opts.leasesFile ?? null,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    const t = new TestAgent(agent, kernel, opts.socket);
    const every = opts.sampleMs ?? 1000;
    if (every > 0) {
      await t.sample();
      t.sampler = setInterval(() => void t.sample().catch(() => undefined), every);
      t.sampler.unref?.();
    }
    return t;
  }

  /** The history, oldest first. */
  get entries(): HistoryEntry[] {
    return this.agent.store.list().reverse();
  }

  lastGood(): HistoryEntry | undefined {
    return this.agent.store.lastGood();
  }

  /** Makes the next `tc -batch` fail with this stderr, as a kernel refusal would. */
  failNextTc(stderr = "RTNETLINK answers: Invalid argument"): void {
    this.kernel.failWhen((argv) => argv[0] === "tc" && argv[1] === "-batch", stderr);
  }

  /** Traffic since the last sample into the fake kernel, then one accounting sample. */
  async sample(): Promise<StatsSample> {
    const now = Date.now();
    const dt = Math.max(0.05, (now - this.lastT) / 1000);
    this.lastT = now;
    const phase = now / 1000;
    const add = (key: string, n: number) => {
      const v = (this.bytes.get(key) ?? 0) + Math.round(n);
      this.bytes.set(key, v);
      return v;
    };
    // classes: a load that moves, within each class's ceil; parents count their children
    for (const [device, d] of this.kernel.devices) {
      const parents = new Set(d.classes.map((c) => c.parent));
      d.classes.forEach((c, i) => {
        if (parents.has(c.classid)) return;
        const load = 0.15 + 0.12 * (1 + Math.sin(phase / (7 + i * 3) + i));
        const bytes = (c.ceil * load * dt) / 8;
        this.kernel.count(device, c.classid, Math.round(bytes));
        for (
          let p = d.classes.find((x) => x.classid === c.parent);
          p;
          p = d.classes.find((x) => x.classid === p!.parent)
        )
          this.kernel.count(device, p.classid, Math.round(bytes));
      });
    }
    // protocols, apps and connections, as the accounting chains and conntrack would show them
    const marks = new Map(this.agent.protocolCatalogue().map((p) => [p.name, p.mark]));
    const apps = new Map(this.agent.appCatalogue().apps.map((a) => [a.name, a.id]));
    const fields = markFields();
    const conntrack: string[] = [];
    FAKE_FLOWS.forEach((f, i) => {
      const rate = 4e6 * f.share * (1 + 0.5 * Math.sin(phase / (5 + i) + i));
      const bytes = (rate * dt) / 8;
      this.countProtocol(f.protocol, marks.get(f.protocol) ?? 2, bytes);
      const appId = f.app ? apps.get(f.app) : undefined;
      if (f.app && appId) this.countApp(f.app, appId, bytes);
      const mark =
        (((marks.get(f.protocol) ?? 2) << fields.protocol.shift) | ((appId ?? 0) << fields.app.shift)) >>> 0;
      for (const j of [0, 1]) {
        const client = `192.168.1.${10 + ((i + j) % 5)}`;
        const sport = 40000 + i * 10 + j;
        const server = `203.0.113.${20 + i}`;
        const total = add(`conn/${i}/${j}`, bytes * (j ? 0.4 : 0.6));
        const state = f.l4 === "tcp" ? "ESTABLISHED " : "";
        conntrack.push(
          `${f.l4}      ${f.l4 === "tcp" ? 6 : 17} 431999 ${state}src=${client} dst=${server} sport=${sport} dport=${f.port} ` +
            `packets=${Math.ceil(total / 1200)} bytes=${total} src=${server} dst=${client} sport=${f.port} dport=${sport} ` +
            `packets=0 bytes=0 [ASSURED] mark=${mark} use=1`,
        );
        // the data plane decides a connection once, at its first packets
        if (f.hostname && !this.decided.has(`${client}:${sport}`) && this.decided.add(`${client}:${sport}`))
          this.agent.recordDecision({
            queue: 0,
            time: Math.floor(now / 1000),
            l4: f.l4,
            client: `${client}:${sport}`,
            server: `${server}:${f.port}`,
            protocol: f.protocol,
            mark: marks.get(f.protocol) ?? 2,
            decidedAtPacket: 3,
            hostname: f.hostname,
            app: f.app,
            category: null,
          });
      }
    });
    APP_ONLY.forEach((app, i) => {
      const id = apps.get(app);
      if (id) this.countApp(app, id, (1e6 * (1 + Math.sin(phase / (3 + i))) * dt) / 8);
    });
    this.kernel.conntrack[4] = conntrack;
    return this.agent.accounting.tick();
  }

  /** Bytes of a protocol where the installed variant counts them (nft counter or rule):
   * with a decided map, half as its decided connections' first lookup counts them. */
  private countProtocol(protocol: string, l7mark: number, bytes: number): void {
    const table = `${NFT_FAMILY} ${NFT_TABLE}`;
    const key = (l7mark << markFields().protocol.shift) >>> 0;
    const fast = this.kernel.nft.countElement(table, NFT_DECIDED_MAP, key, bytes / 2) ? bytes / 2 : 0;
    this.kernel.nft.count(table, protocolCounter(l7mark), bytes - fast);
    this.kernel.countRule(4, "SLUICE_ACCT", `sluice:${protocol}`, bytes);
  }

  private countApp(app: string, id: number, bytes: number): void {
    this.kernel.nft.count(`${NFT_FAMILY} ${NFT_TABLE}`, appCounter(id), bytes);
    this.kernel.countRule(4, "SLUICE_APPS", `sluice-app:${app}`, bytes);
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    await this.agent.stop();
  }
}
