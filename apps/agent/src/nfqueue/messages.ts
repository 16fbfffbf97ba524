// What the data-plane workers and the main thread say to each other.

import type { MarkFieldMask } from "@sluice/policy";
import type { QueueIoStats } from "./queue-io.ts";
import type { DnsEntry } from "./shared-dns-cache.ts";
import type { MediaTuple } from "@sluice/classifier";

/** A mark field: its bits in the packet mark and where its value starts. */
export type { MarkFieldMask };

/**
 * How a decided flow's packet mark is made: the protocol's l7 mark in `mask`, its catalogue
 * app id in `app`, and the id of the first hostname rule (in list order) matching its host
 * name in `host` (see apps/agent/src/render/model.ts and apply/host-ids.ts).
 */
export interface Routing {
  mask: number;
  shift: number;
  app: MarkFieldMask;
  host: MarkFieldMask;
  hostRules: { glob: string; id: number }[];
  /**
   * RTSP media followed live (render/rtsp-media.ts): the rtsp and rtp l7 marks, or null. A
   * SETUP reply on an rtsp connection is held until the main thread says its media
   * expectations are in the kernel.
   */
  rtsp?: { control: number; media: number } | null;
}

/** The media an RTSP SETUP reply announces, and the connection mark each stream gets. */
export interface MediaRequest {
  queue: number;
  /** Names the held reply (the worker releases it when the main thread answers). */
  key: string;
  elements: { tuple: MediaTuple; mark: number }[];
}

/** A flow that got its verdict (matched a protocol, or unknown once the window was spent). */
export interface FlowDecidedEvent {
  queue: number;
  /** Seconds since the epoch. */
  time: number;
  l4: "tcp" | "udp";
  /** "ip:port" / "[ipv6]:port" of the side that opened the connection. */
  client: string;
  server: string;
  /** Pattern name, or "unknown". */
  protocol: string;
  /** l7-filter mark: 2 unknown, >= 3 a protocol (before the shift into the packet mark). */
  mark: number;
  /** The flow's packet (1-based, both directions) that decided it. */
  decidedAtPacket: number;
  /** The server's name (TLS/QUIC SNI, HTTP Host, DNS query or DNS cache), when known. */
  hostname?: string | null;
  /** Catalogue application and category, when known (see @sluice/classifier's catalogue). */
  app?: string | null;
  category?: string | null;
  /** The id of the hostname rule that matched (as in the mark's host field), 0 none. */
  hostRule?: number;
  /** The packet mark bits Sluice set (all three fields, shifted). */
  markBits?: number;
}

/** /proc/net/netfilter/nfnetlink_queue for the queue (in the data plane's namespace). */
export interface KernelQueueStats {
  /** Packets waiting for a verdict right now. */
  waiting: number;
  /** Dropped (or, fail-open, accepted unseen) because the queue was full. */
  queueDropped: number;
  /** Lost because the netlink socket's buffer was full (ENOBUFS on our side). */
  userDropped: number;
  idSequence: number;
}

export interface QueueStats {
  queue: number;
  packets: number;
  /** IP bytes of the packets (full lengths, not the copied part). */
  bytes: number;
  /** Packets accepted with their mark untouched (not TCP/UDP, fragments, undecodable). */
  passthrough: number;
  /** Flows decided. */
  decided: number;
  /**
   * Of those, flows decided because the kernel marked them past their window while still
   * undecided (part of their window never reached the queue: overflow, fail-open, restart).
   */
  late: number;
  /** Packets the classifier threw on (accepted with their mark untouched). */
  errors: number;
  /** RTSP SETUP replies held (dropped, so TCP sends them again) until their media was expected. */
  rtspHeld?: number;
  /** Decided-flow events not sent (over `eventsPerInterval`; the flows were decided all the same). */
  eventsDropped?: number;
  /** Packets by the l7 mark they were given (1 unset, 2 unknown, >= 3 protocols). */
  verdicts: Record<number, number>;
  io: QueueIoStats;
  /** Flow table: tracked flows, flows still inspected, flows created; fastPath: packets of decided flows counted without a decode. */
  flows: { active: number; inspecting: number; created: number; fastPath: number };
  kernel: KernelQueueStats | null;
  patterns: number;
  /** The worker's DNS cache (learned here or from the other workers). */
  dns: { entries: number; learned: number; hits: number };
  /** Applications in the worker's catalogue (0: none loaded). */
  apps: number;
  /** The worker thread's V8 heap (bytes in use, bytes reserved). */
  heap?: { used: number; total: number };
}

export type ToWorker =
  | { type: "stop" }
  | { type: "reload"; id: number; protocolDirs: string[] }
  | { type: "routing"; routing: Routing }
  | { type: "dns"; entries: DnsEntry[] }
  | { type: "media-ready"; key: string };

export type ToMain =
  /** nice: the worker thread's nice value once it took its priority back (null: unknown). */
  | { type: "ready"; queue: number; patterns: number; skipped: number; nice: number | null }
  | { type: "error"; queue: number; error: string }
  | { type: "stats"; stats: QueueStats; events: FlowDecidedEvent[] }
  | { type: "stopped"; stats: QueueStats; events: FlowDecidedEvent[] }
  | { type: "reloaded"; id: number; queue: number; patterns: number; skipped: number }
  | { type: "reload-error"; id: number; queue: number; error: string }
  | { type: "log"; level: "info" | "warn" | "error"; msg: string }
  | { type: "dns"; queue: number; entries: DnsEntry[] }
  | { type: "media"; request: MediaRequest };
