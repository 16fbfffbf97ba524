// The shapes the agent's control API answers with (apps/agent/src/daemon/agent.ts,
// stats/accounting.ts, kernel/capabilities.ts). Declared here rather than imported so the
// dashboard builds without the agent package; the fake agent in ../testing answers these.

import type { PolicyIssue } from "@sluice/policy";

export interface Capabilities {
  qdiscs: Record<"htb" | "sfq" | "fq_codel" | "cake" | "pfifo" | "ingress", boolean>;
  classifiers: Record<"fw" | "u32" | "matchall", boolean>;
  actions: Record<"connmark" | "mirred", boolean>;
  links: { ifb: boolean };
  iptables: Record<"NFQUEUE" | "CONNMARK" | "CLASSIFY" | "connbytes" | "mark" | "comment", boolean>;
  ip6tables: Record<"NFQUEUE" | "CONNMARK" | "CLASSIFY" | "connbytes" | "mark" | "comment", boolean>;
  probedAt: string;
  kernel: string;
}

export interface Variant {
  leaf: "sfq" | "fq_codel" | "cake" | "pfifo";
  filter: "fw" | "CLASSIFY";
  ipv6: boolean;
  notes: string[];
}

export interface AgentStatus {
  version: string;
  uptimeSeconds: number;
  capabilities: Capabilities;
  variant: Variant;
  summary: string[];
  patterns: { loaded: number; skipped: { file: string; line?: number; reason: string }[] };
  policy: { id: number; name: string; at: string; user: string } | null;
  trying: { entryId: number; until: string } | null;
  dataPlane:
    | { running: true; health?: ClassificationHealth; [k: string]: unknown }
    | { running: false; error: string; health?: ClassificationHealth };
  devices: { device: string; direction: "upload" | "download"; linkRate: number }[];
  /** The application catalogue's size (absent or null: an agent without one). */
  catalogue?: { apps: number; categories: number } | null;
}

/**
 * Whether classification keeps up: overload counters from the kernel (queue full, socket
 * full, packets passed uninspected by fail-open, connections whose window was partly lost)
 * and whether any of them moved in the last `windowSeconds`.
 */
export interface ClassificationHealth {
  degraded: boolean;
  reasons: string[];
  windowSeconds: number;
  queueDropped: number;
  userDropped: number;
  unseen: number;
  lateKernel: number;
  lateSeen: number;
  restarts: number;
}

/** GET /v1/apps: the application catalogue (protocols/apps/catalogue.json). */
export interface AppCatalogue {
  apps: { id: number; name: string; title: string; category: string }[];
  categories: { id: number; name: string; title: string }[];
}

export interface CatalogueEntry {
  name: string;
  mark: number;
  priority: number;
  title?: string | undefined;
  quality?: string | undefined;
  speed?: string | undefined;
  groups: string[];
  aliases: string[];
  transports: ("tcp" | "udp")[];
  overmatch: boolean;
  undermatch: boolean;
  wiki?: string | undefined;
  notes: string[];
  pattern: string;
}

export interface PolicyDiff {
  policy: { changes: string[] };
  tc: string[];
  iptables: string[];
}

export interface Scripts {
  tc: string;
  iptables: string;
  ip6tables: string;
  /** The nftables table (counters, class maps), "" or absent when not used. */
  nft?: string;
}

export type RenderResult =
  | { ok: true; header: string[]; scripts: Scripts; diff: PolicyDiff }
  | { ok: false; issues: PolicyIssue[]; error: string };

export type EntryStatus = "applied" | "trying" | "confirmed" | "reverted" | "failed" | "superseded";

export interface HistorySummary {
  id: number;
  at: string;
  user: string;
  status: EntryStatus;
  lastGood: boolean;
  error?: { step: string; command?: string; stderr?: string; message: string } | undefined;
  tryUntil?: string | undefined;
  name?: string | undefined;
}

export interface ApplyResponse {
  entry: HistorySummary;
  diff: PolicyDiff;
}

/** The error body of a failed apply (422 validate, 500 otherwise). */
export interface ApplyErrorBody {
  error: string;
  step?: string;
  issues?: PolicyIssue[];
  command?: string;
  stderr?: string;
  restored?: boolean | null;
  entry?: number;
}

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

export interface ConnectionSample {
  l4: string;
  client: string;
  server: string;
  protocol: string;
  mark: number;
  bytes: number;
  rateBps: number;
  state: string | null;
  /** Catalogue app, category and host name (SNI, Host, DNS) when known; absent from older agents. */
  app?: string | null;
  category?: string | null;
  hostname?: string | null;
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
  hosts: HostSample[];
  connections: ConnectionSample[];
  /** Per catalogue app, highest rate first (absent from agents without a catalogue). */
  apps?: AppSample[];
  categories?: CategorySample[];
  totals: { uploadBps: number; downloadBps: number; drops: number; connections: number };
}

export interface FlowDecided {
  [k: string]: unknown;
}

export interface FlowsResponse {
  connections: ConnectionSample[];
  decided: FlowDecided[];
}

export interface TestPatternResult {
  verdict: string;
  matches: { name: string; priority: number; quality?: string | undefined }[];
  bytes: number;
}
