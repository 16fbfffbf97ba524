// One connection of the flow table (flow/flow-table.ts). At 100,000 flows under inspection
// the flows are most of a data-plane worker's heap, so a flow is one compact object: small
// values packed into one integer (transport, family, TCP flags, verdict, inspection bits),
// both directions' counters as small integers, the pattern subject as two integers (its
// block in the thread's subject arena and the bytes used), and what few flows have (TCP
// reassembly, dissector state, a pending match; host name, application, L7 details) in
// objects of their own, allocated only for the flows that have them. The flow memory bench
// (apps/agent/bench/flow-memory-bench.ts) measures it.

import type { Transport } from "../pattern-set.ts";
import type { TcpStream } from "./tcp-stream.ts";
import type { FlowDissection, FlowL7, HostnameSource } from "./dissection.ts";
import type { AppMatchSource } from "../apps/catalogue.ts";

export type Verdict = "unset" | "unknown" | "matched";
export type Direction = "c2s" | "s2c";

/** Bits of `Flow.bits`. */
export const FLOW_TCP = 1;
export const FLOW_V6 = 2;
export const FLOW_FIN_C2S = 4;
export const FLOW_FIN_S2C = 8;
export const FLOW_RST = 16;
/** Seen since the LRU sweep last passed it (see `FlowTable.create`). */
export const FLOW_RECENT = 32;
/** Under inspection (in the window; a DNS flow reading its answers after its verdict too). */
export const FLOW_INSPECTING = 64;
/** The client's first bytes were looked at for a dissector (or dissection is off). */
export const FLOW_SNIFFED = 128;
/** TCP directions whose first payload the packet-subject patterns read. */
export const FLOW_PACKET_READ_C2S = 256;
export const FLOW_PACKET_READ_S2C = 512;
const VERDICT_SHIFT = 10;
const VERDICT_MASK = 3 << VERDICT_SHIFT;
const VERDICTS: readonly Verdict[] = ["unset", "unknown", "matched"];

/** Inspection state only some flows need (none for a UDP flow no dissector reads). */
export class InspectionState {
  /** TCP reassembly per direction, created by the direction's first segment. */
  c2s: TcpStream | null = null;
  s2c: TcpStream | null = null;
  /** Raw bytes and dissector state, when the client's first bytes showed one could read it. */
  dissect: FlowDissection | null = null;
  /** A pattern matched; the verdict waits for its dissector (within the window). */
  pending: { name: string; mark: number } | null = null;
  /** The subject's storage when it outgrew the arena's largest block. */
  big: Buffer | null = null;
}

/** What the dissectors, the DNS cache and the catalogue said of a flow (most flows: nothing). */
interface FlowDetails {
  hostname: string | null;
  hostnameSource: HostnameSource | null;
  app: string | null;
  appId: number | null;
  appSource: AppMatchSource | null;
  category: string | null;
  categoryId: number | null;
  l7: FlowL7 | null;
  master: { id: number; protocol: string } | undefined;
}

export class Flow {
  readonly id: number;
  readonly clientIp: string;
  readonly serverIp: string;
  /** Client port << 16 | server port. */
  private readonly ports: number;
  /** FLOW_* bits and the verdict (see the getters); the flow table's to change. */
  bits: number;
  /** Pattern name, "unset" or "unknown". */
  protocol = "unset";
  /** l7-filter mark: 1 unset, 2 unknown, the pattern's mark otherwise. */
  mark: number;
  firstSeen: number;
  lastSeen: number;
  packetsC2S = 0;
  bytesC2S = 0;
  packetsS2C = 0;
  bytesS2C = 0;
  /** Payload bytes that were inspected (NULs stripped). */
  inspectedBytes = 0;
  /** The packet number at which the verdict was reached (0: not yet). */
  private decidedAt = 0;
  private details: FlowDetails | null = null;
  /** The flow table's: inspection state beyond the subject, when needed. */
  extra: InspectionState | null = null;
  /** The flow table's: the subject's arena block (-1: none) and bytes of it used. */
  subjectBlock = -1;
  subjectUsed = 0;

  constructor(
    id: number,
    l4: Transport,
    family: 4 | 6,
    clientIp: string,
    clientPort: number,
    serverIp: string,
    serverPort: number,
    time: number,
    mark: number,
    bits: number,
  ) {
    this.id = id;
    this.clientIp = clientIp;
    this.serverIp = serverIp;
    this.ports = (clientPort << 16) | serverPort;
    this.bits = bits | (l4 === "tcp" ? FLOW_TCP : 0) | (family === 6 ? FLOW_V6 : 0);
    this.mark = mark;
    this.firstSeen = time;
    this.lastSeen = time;
  }

  get l4(): Transport {
    return this.bits & FLOW_TCP ? "tcp" : "udp";
  }
  get family(): 4 | 6 {
    return this.bits & FLOW_V6 ? 6 : 4;
  }
  get clientPort(): number {
    return this.ports >>> 16;
  }
  get serverPort(): number {
    return this.ports & 0xffff;
  }
  get packets(): number {
    return this.packetsC2S + this.packetsS2C;
  }
  get bytes(): number {
    return this.bytesC2S + this.bytesS2C;
  }
  get verdict(): Verdict {
    return VERDICTS[(this.bits & VERDICT_MASK) >> VERDICT_SHIFT]!;
  }
  get finC2S(): boolean {
    return (this.bits & FLOW_FIN_C2S) !== 0;
  }
  get finS2C(): boolean {
    return (this.bits & FLOW_FIN_S2C) !== 0;
  }
  get rst(): boolean {
    return (this.bits & FLOW_RST) !== 0;
  }
  /** Seen since the LRU sweep last passed it. */
  get recent(): boolean {
    return (this.bits & FLOW_RECENT) !== 0;
  }
  /** Still inspected: its window is not over (or it is a DNS flow reading its answers). */
  get inspecting(): boolean {
    return (this.bits & FLOW_INSPECTING) !== 0;
  }
  /**
   * Its state is numbers and its two addresses only: under inspection, no verdict, no
   * inspection extras, no details (flow/dormant-flows.ts keeps such flows in slots).
   */
  get plain(): boolean {
    return (
      (this.bits & (FLOW_INSPECTING | VERDICT_MASK)) === FLOW_INSPECTING &&
      this.extra === null &&
      this.details === null &&
      this.decidedAt === 0 &&
      // (the slots' widths: 32-bit counts)
      this.bytesC2S <= 0xffffffff &&
      this.bytesS2C <= 0xffffffff &&
      this.packetsC2S + this.packetsS2C <= 0x7fffffff
    );
  }
  /** The packet number (1-based) at which the verdict was reached. */
  get decidedAtPacket(): number | null {
    return this.decidedAt || null;
  }
  /** The server's name: TLS/QUIC SNI, HTTP Host, the DNS query, or the DNS cache. */
  get hostname(): string | null {
    return this.details?.hostname ?? null;
  }
  get hostnameSource(): HostnameSource | null {
    return this.details?.hostnameSource ?? null;
  }
  /** Catalogue application (its name), its stable id, and how it was recognised. */
  get app(): string | null {
    return this.details?.app ?? null;
  }
  get appId(): number | null {
    return this.details?.appId ?? null;
  }
  get appSource(): AppMatchSource | null {
    return this.details?.appSource ?? null;
  }
  /** The application's category and its stable id. */
  get category(): string | null {
    return this.details?.category ?? null;
  }
  get categoryId(): number | null {
    return this.details?.categoryId ?? null;
  }
  /** What the dissectors read (TLS, QUIC, HTTP, DNS details), or null. */
  get l7(): FlowL7 | null {
    return this.details?.l7 ?? null;
  }
  /** For a related connection (FTP data, media, TFTP transfer): its control flow. */
  get master(): { id: number; protocol: string } | undefined {
    return this.details?.master;
  }

  /** The flow table's: records the verdict. */
  setVerdict(verdict: Verdict, protocol: string, mark: number): void {
    this.bits = (this.bits & ~VERDICT_MASK) | (VERDICTS.indexOf(verdict) << VERDICT_SHIFT);
    this.protocol = protocol;
    this.mark = mark;
    this.decidedAt = this.packets;
  }

  /** The flow table's: sets what the dissectors, DNS cache or catalogue found. */
  setDetails(d: Partial<FlowDetails>): void {
    this.details ??= {
      hostname: null,
      hostnameSource: null,
      app: null,
      appId: null,
      appSource: null,
      category: null,
      categoryId: null,
      l7: null,
      master: undefined,
    };
    Object.assign(this.details, d);
  }
}
