// The flow table: connections keyed by their 5-tuple (either direction), each inspected
// over the l7-filter window (first N packets and M bytes of both directions' payload, in
// arrival order). A flow is `unset` while inspected, the matching protocol as soon as one
// matches, and `unknown` once the window is spent without a match.
//
// Memory is bounded: inspection buffers are capped at the window and freed at the verdict,
// idle flows expire, and an LRU cap evicts the least recently seen flow when full.

import type { DecodedPacket } from "../capture/decode.ts";
import { endpoint } from "../capture/decode.ts";
import type { Transport } from "../pattern-set.ts";
import { MARK_UNKNOWN, MARK_UNSET } from "../config-file.ts";
import { TcpStream } from "./tcp-stream.ts";

export interface WindowOptions {
  /** Packets (both directions, handshake included) inspected at most; l7-filter default 10. */
  packets: number;
  /** Payload bytes (NULs stripped) inspected at most; l7-filter default 2048. */
  bytes: number;
}

/** What the flow table needs from a pattern set: the best match for a subject. */
export interface Matcher {
  match(subject: string, transport: Transport): { name: string; mark: number } | null;
}

export const DEFAULT_WINDOW: WindowOptions = { packets: 10, bytes: 2048 };

export interface FlowTableOptions {
  window: WindowOptions;
  /** LRU cap on tracked flows. */
  maxFlows: number;
  /** Seconds without a packet before a flow is forgotten. */
  tcpIdleSeconds: number;
  udpIdleSeconds: number;
}

export const DEFAULT_FLOW_TABLE: FlowTableOptions = {
  window: DEFAULT_WINDOW,
  maxFlows: 65536,
  tcpIdleSeconds: 300,
  udpIdleSeconds: 60,
};

export type Verdict = "unset" | "unknown" | "matched";
export type Direction = "c2s" | "s2c";
export type FlowEndReason = "idle" | "evicted" | "closed" | "reused";

interface Inspection {
  /** NUL-stripped payload so far, one char per byte (latin1). */
  subject: string;
  streams: [TcpStream, TcpStream] | null;
}

export interface Flow {
  id: number;
  l4: Transport;
  family: 4 | 6;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  firstSeen: number;
  lastSeen: number;
  packets: number;
  bytes: number;
  packetsC2S: number;
  bytesC2S: number;
  packetsS2C: number;
  bytesS2C: number;
  verdict: Verdict;
  /** Pattern name, "unset" or "unknown". */
  protocol: string;
  /** l7-filter mark: 1 unset, 2 unknown, the pattern's mark otherwise. */
  mark: number;
  /** The packet number (1-based) at which the verdict was reached. */
  decidedAtPacket: number | null;
  /** Payload bytes that were inspected (NULs stripped). */
  inspectedBytes: number;
  inspection: Inspection | null;
  finC2S: boolean;
  finS2C: boolean;
  rst: boolean;
}

export interface ObserveResult {
  flow: Flow;
  direction: Direction;
  /** True when this packet decided the flow (matched or unknown). */
  decided: boolean;
}

export interface FlowTableStats {
  active: number;
  inspecting: number;
  created: number;
  ended: Record<FlowEndReason, number>;
  limits: FlowTableOptions;
}

const IN_FLIGHT_OOO_FACTOR = 2;

export class FlowTable {
  readonly options: FlowTableOptions;
  private readonly patterns: Matcher;
  private readonly flows = new Map<string, Flow>();
  private nextId = 1;
  private created = 0;
  private readonly ended: Record<FlowEndReason, number> = { idle: 0, evicted: 0, closed: 0, reused: 0 };
  private sinceSweep = 0;
  /** Called for every flow that leaves the table. */
  onFlowEnd: ((flow: Flow, reason: FlowEndReason) => void) | null = null;

  constructor(patterns: Matcher, options: Partial<FlowTableOptions> = {}) {
    this.patterns = patterns;
    this.options = { ...DEFAULT_FLOW_TABLE, ...options, window: { ...DEFAULT_WINDOW, ...options.window } };
    if (this.options.window.packets < 1) throw new RangeError("window packets must be at least 1");
    if (this.options.window.bytes < 1) throw new RangeError("window bytes must be at least 1");
  }

  static key(l4: string, aIp: string, aPort: number, bIp: string, bPort: number): string {
    const a = `${aIp}|${aPort}`;
    const b = `${bIp}|${bPort}`;
    return a < b ? `${l4}|${a}|${b}` : `${l4}|${b}|${a}`;
  }

  get size(): number {
    return this.flows.size;
  }

  /** Every tracked flow, least recently seen first. */
  active(): IterableIterator<Flow> {
    return this.flows.values();
  }

  stats(): FlowTableStats {
    let inspecting = 0;
    for (const f of this.flows.values()) if (f.inspection) inspecting++;
    return {
      active: this.flows.size,
      inspecting,
      created: this.created,
      ended: { ...this.ended },
      limits: this.options,
    };
  }

  /** Feeds one packet (time in seconds). */
  observe(p: DecodedPacket, time: number): ObserveResult {
    const key = FlowTable.key(p.l4, p.src, p.sport, p.dst, p.dport);
    let flow = this.flows.get(key);
    if (flow) {
      const idle = p.l4 === "tcp" ? this.options.tcpIdleSeconds : this.options.udpIdleSeconds;
      const newSyn = p.tcp?.syn && !p.tcp.ackFlag && (flow.rst || (flow.finC2S && flow.finS2C));
      if (time - flow.lastSeen > idle) {
        this.end(key, flow, "idle");
        flow = undefined;
      } else if (newSyn) {
        this.end(key, flow, "reused");
        flow = undefined;
      } else {
        // LRU: move to the back.
        this.flows.delete(key);
        this.flows.set(key, flow);
      }
    }
    if (!flow) flow = this.create(key, p, time);

    const direction: Direction = p.src === flow.clientIp && p.sport === flow.clientPort ? "c2s" : "s2c";
    flow.lastSeen = Math.max(flow.lastSeen, time);
    flow.packets++;
    flow.bytes += p.ipLength;
    if (direction === "c2s") {
      flow.packetsC2S++;
      flow.bytesC2S += p.ipLength;
    } else {
      flow.packetsS2C++;
      flow.bytesS2C += p.ipLength;
    }
    if (p.tcp) {
      if (p.tcp.rst) flow.rst = true;
      if (p.tcp.fin) {
        if (direction === "c2s") flow.finC2S = true;
        else flow.finS2C = true;
      }
    }

    const decided = flow.inspection ? this.inspect(flow, p, direction) : false;
    if (++this.sinceSweep >= 4096) {
      this.sinceSweep = 0;
      this.expire(time);
    }
    return { flow, direction, decided };
  }

  /** Ends flows idle at `now`; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (const [key, f] of this.flows) {
      const idle = f.l4 === "tcp" ? this.options.tcpIdleSeconds : this.options.udpIdleSeconds;
      if (now - f.lastSeen > idle) {
        this.end(key, f, "idle");
        n++;
      }
    }
    return n;
  }

  /** Ends every flow (end of a capture) without changing verdicts. */
  drain(): Flow[] {
    const out = [...this.flows.values()];
    this.flows.clear();
    return out;
  }

  private create(key: string, p: DecodedPacket, time: number): Flow {
    // The client is the side that opened the connection: the SYN's sender; for a SYN-ACK
    // the receiver; otherwise the first packet's sender, unless only its destination port
    // looks ephemeral (a mid-stream pickup of a server's reply).
    let fromClient = true;
    if (p.tcp?.syn) fromClient = !p.tcp.ackFlag;
    else if (p.l4 === "tcp" && p.sport < 1024 && p.dport >= 1024) fromClient = false;
    while (this.flows.size >= this.options.maxFlows) {
      const [oldKey, oldest] = this.flows.entries().next().value as [string, Flow];
      this.end(oldKey, oldest, "evicted");
    }
    const flow: Flow = {
      id: this.nextId++,
      l4: p.l4,
      family: p.family,
      clientIp: fromClient ? p.src : p.dst,
      clientPort: fromClient ? p.sport : p.dport,
      serverIp: fromClient ? p.dst : p.src,
      serverPort: fromClient ? p.dport : p.sport,
      firstSeen: time,
      lastSeen: time,
      packets: 0,
      bytes: 0,
      packetsC2S: 0,
      bytesC2S: 0,
      packetsS2C: 0,
      bytesS2C: 0,
      verdict: "unset",
      protocol: "unset",
      mark: MARK_UNSET,
      decidedAtPacket: null,
      inspectedBytes: 0,
      inspection: {
        subject: "",
        streams:
          p.l4 === "tcp"
            ? [
                new TcpStream(this.options.window.bytes * IN_FLIGHT_OOO_FACTOR),
                new TcpStream(this.options.window.bytes * IN_FLIGHT_OOO_FACTOR),
              ]
            : null,
      },
      finC2S: false,
      finS2C: false,
      rst: false,
    };
    this.flows.set(key, flow);
    this.created++;
    return flow;
  }

  private end(key: string, flow: Flow, reason: FlowEndReason): void {
    this.flows.delete(key);
    this.ended[reason]++;
    flow.inspection = null;
    this.onFlowEnd?.(flow, reason);
  }

  private inspect(flow: Flow, p: DecodedPacket, direction: Direction): boolean {
    const insp = flow.inspection!;
    const window = this.options.window;
    let chunks: Buffer[];
    if (insp.streams && p.tcp) {
      chunks = insp.streams[direction === "c2s" ? 0 : 1].push(p.tcp.seq, p.tcp.syn, p.payload);
    } else {
      chunks = p.payload.length ? [p.payload] : [];
    }
    let grew = false;
    for (const c of chunks) {
      if (insp.subject.length >= window.bytes) break;
      const text = stripNul(c);
      if (!text) continue;
      insp.subject +=
        text.length + insp.subject.length > window.bytes
          ? text.slice(0, window.bytes - insp.subject.length)
          : text;
      grew = true;
    }
    flow.inspectedBytes = insp.subject.length;
    if (grew) {
      const hit = this.patterns.match(insp.subject, flow.l4);
      if (hit) {
        this.decide(flow, hit.name, hit.mark, "matched");
        return true;
      }
    }
    if (flow.packets >= window.packets || insp.subject.length >= window.bytes) {
      this.decide(flow, "unknown", MARK_UNKNOWN, "unknown");
      return true;
    }
    return false;
  }

  private decide(flow: Flow, protocol: string, mark: number, verdict: Verdict): void {
    flow.protocol = protocol;
    flow.mark = mark;
    flow.verdict = verdict;
    flow.decidedAtPacket = flow.packets;
    flow.inspection = null; // free the buffer: a decided flow leaves inspection at once
  }
}

/** The subject form of a payload: NUL bytes removed (as l7-filter does), bytes as latin1 chars. */
export function stripNul(b: Buffer): string {
  const s = b.toString("latin1");
  return s.includes("\0") ? s.replaceAll("\0", "") : s;
}

export function flowClient(f: Flow): string {
  return endpoint(f.clientIp, f.clientPort);
}

export function flowServer(f: Flow): string {
  return endpoint(f.serverIp, f.serverPort);
}
