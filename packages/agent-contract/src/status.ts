// GET /v1/status: the agent's health, the kernel's capabilities and the renderer variant
// chosen from them, the pattern set, the policy in place and the data plane.

import { z } from "zod";

const flags = <K extends string>(keys: readonly [K, ...K[]]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.boolean()])) as Record<K, z.ZodBoolean>);

const iptablesFlags = flags(["NFQUEUE", "CONNMARK", "CLASSIFY", "connbytes", "mark", "comment"]);

/** What the capability probe found in this kernel (and its iptables/tc). */
export const Capabilities = z.object({
  qdiscs: flags(["htb", "sfq", "fq_codel", "cake", "pfifo", "ingress"]),
  classifiers: flags(["fw", "u32", "matchall", "flow"]),
  actions: flags(["connmark", "mirred"]),
  links: flags(["ifb"]),
  iptables: iptablesFlags,
  ip6tables: iptablesFlags,
  /** nf_tables through the `nft` tool (named counters, maps). */
  nftables: z.boolean(),
  /** The kernel's conntrack helpers, assigned from nftables (related connections followed). */
  ctHelpers: flags(["ftp", "sip", "tftp"]),
  /** Tuple → mark maps with timeouts (Sluice's own RTSP expectation table; absent from older agents). */
  rtspMaps: z.boolean().optional(),
  /** When the probe ran (ISO time) and where (kernel release). */
  probedAt: z.string(),
  kernel: z.string(),
});
export type Capabilities = z.infer<typeof Capabilities>;

export const LeafKind = z.enum(["sfq", "fq_codel", "cake", "pfifo"]);
export type LeafKind = z.infer<typeof LeafKind>;
export const FilterMethod = z.enum(["nft", "fw", "CLASSIFY"]);
export type FilterMethod = z.infer<typeof FilterMethod>;

/** The renderer variant the capabilities allow, with notes on the fallbacks in use. */
export const Variant = z.object({
  /** Leaf qdisc for classes whose policy says `auto`. */
  leaf: LeafKind,
  /** How a mark becomes a class: tc `fw` filters, or the iptables CLASSIFY target. */
  filter: FilterMethod,
  /** Per protocol/app byte counters: nftables named counters, or one iptables rule each. */
  accounting: z.enum(["nft", "iptables"]),
  /** cls_fw is there: a download IFB gets fw filters. */
  fw: z.boolean(),
  ipv6: z.boolean(),
  /** Conntrack helpers assigned: their related connections inherit the control connection's mark. */
  helpers: z.array(z.enum(["ftp", "sip", "tftp"])),
  /** RTSP media followed by Sluice's own expectation table (nftables maps; absent from older agents). */
  rtspMedia: z.boolean().optional(),
  /** Per-host fairness: SFQ hashed by host, HTB buckets picked in nftables, or none. */
  hostFair: z.enum(["sfq-flow", "htb-buckets", "none"]),
  /** Human notes on fallbacks in use (shown in the UI and script headers). */
  notes: z.array(z.string()),
});
export type Variant = z.infer<typeof Variant>;

export const Direction = z.enum(["upload", "download"]);

export const SkippedPattern = z.object({
  file: z.string(),
  line: z.number().optional(),
  reason: z.string(),
});

/**
 * Whether classification keeps up: overload counters from the kernel (queue full, socket
 * full, packets passed uninspected by fail-open, connections whose window was partly lost)
 * and whether any of them moved in the last `windowSeconds`.
 */
export const ClassificationHealth = z.object({
  degraded: z.boolean(),
  reasons: z.array(z.string()),
  windowSeconds: z.number(),
  queueDropped: z.number(),
  userDropped: z.number(),
  unseen: z.number(),
  lateKernel: z.number(),
  lateSeen: z.number(),
  restarts: z.number(),
  /** Forwarded TCP/UDP packets that left without a verdict (fail-open, no data plane). */
  uninspected: z.number(),
});
export type ClassificationHealth = z.infer<typeof ClassificationHealth>;

/** The data plane: running with its counters (open-ended: more may come), or down and why. */
export const DataPlaneStatus = z.union([
  z.looseObject({ running: z.literal(true), health: ClassificationHealth.optional() }),
  z.looseObject({
    running: z.literal(false),
    error: z.string(),
    /** The agent's workers are still loading (it answers before they run). */
    starting: z.boolean().optional(),
    health: ClassificationHealth.optional(),
  }),
]);
export type DataPlaneStatus = z.infer<typeof DataPlaneStatus>;

export const ScheduleStatus = z.object({
  timeZone: z.string(),
  /** Names of the windows in force. */
  active: z.array(z.string()),
  /** The next change: when, and the windows that start and end then; null: none. */
  next: z.object({ at: z.string(), starts: z.array(z.string()), ends: z.array(z.string()) }).nullable(),
});
export type ScheduleStatus = z.infer<typeof ScheduleStatus>;

export const QuotaStatus = z.object({
  name: z.string(),
  /** "address 10.1.0.2", "class p2p". */
  target: z.string(),
  period: z.enum(["day", "week", "month"]),
  /** The period's key ("2026-12-07", "week 2026-12-07", "2026-12") and when it ends. */
  periodKey: z.string(),
  periodEnds: z.string(),
  allowance: z.number(),
  used: z.number(),
  demoteTo: z.string(),
  /** Used ≥ allowance: the target's traffic is in the demotion class. */
  demoted: z.boolean(),
});
export type QuotaStatus = z.infer<typeof QuotaStatus>;

export const AgentStatus = z.object({
  version: z.string(),
  uptimeSeconds: z.number(),
  capabilities: Capabilities,
  variant: Variant,
  summary: z.array(z.string()),
  patterns: z.object({ loaded: z.number(), skipped: z.array(SkippedPattern) }),
  /** The application catalogue's size; null when the agent has none. */
  catalogue: z.object({ apps: z.number(), categories: z.number() }).nullable().optional(),
  policy: z.object({ id: z.number(), name: z.string(), at: z.string(), user: z.string() }).nullable(),
  trying: z.object({ entryId: z.number(), until: z.string() }).nullable(),
  dataPlane: DataPlaneStatus,
  devices: z.array(z.object({ device: z.string(), direction: Direction, linkRate: z.number() })),
  /** The box's network interfaces, link speeds and addresses (absent from older agents). */
  interfaces: z
    .array(
      z.object({
        name: z.string(),
        speedMbps: z.number().nullable(),
        addresses: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  /** The metrics endpoint (policy.metrics): where it listens, or why it does not. */
  metrics: z
    .object({
      enabled: z.boolean(),
      /** "192.168.77.1:9712", "[::1]:9712" */
      listen: z.string().nullable(),
      listening: z.boolean(),
      auth: z.enum(["none", "bearer"]),
      error: z.string().nullable(),
    })
    .optional(),
  /** Schedules: the windows in force now and the next change (absent from older agents). */
  schedule: ScheduleStatus.optional(),
  /** Quotas: used against the allowance this period (absent from older agents). */
  quotas: z.array(QuotaStatus).optional(),
});
export type AgentStatus = z.infer<typeof AgentStatus>;
