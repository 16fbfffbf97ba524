// The flow table: connections keyed by their 5-tuple (either direction), each inspected
// over the l7-filter window (first N packets and M bytes of both directions' payload, in
// arrival order). A flow is `unset` while inspected, the matching protocol as soon as one
// matches, and `unknown` once the window is spent without a match.
//
// Memory is bounded: inspection buffers are capped at the window and freed at the verdict,
// idle flows expire, and an LRU cap evicts the least recently seen flow when full.
//
// Dissectors (flow/dissection.ts) read the raw bytes of the same window: when the matched
// pattern is one they read (ssl, quic, http, ...), the verdict waits until the dissector is
// done (the ClientHello is complete) or the window is spent, whichever comes first; the
// flow then carries its host name, application and category. A DNS flow is decided at
// once and keeps reading its responses (within the window) into the DNS cache, which names
// the later flows to the addresses it answered.

import type { DecodedPacket } from "../capture/decode.ts";
import { endpoint } from "../capture/decode.ts";
import type { Transport } from "../pattern-set.ts";
import { MARK_UNKNOWN, MARK_UNSET } from "../config-file.ts";
import { TcpStream } from "./tcp-stream.ts";
import { FlowIndex } from "./flow-index.ts";
import { FlowSubject } from "./subject.ts";
import { subjectArena } from "./subject-arena.ts";
import { DormantFlows } from "./dormant-flows.ts";
import {
  FLOW_FIN_C2S,
  FLOW_FIN_S2C,
  FLOW_INSPECTING,
  FLOW_PACKET_READ_C2S,
  FLOW_PACKET_READ_S2C,
  FLOW_RECENT,
  FLOW_RST,
  FLOW_SNIFFED,
  FLOW_TCP,
  Flow,
  InspectionState,
  type Direction,
  type Verdict,
} from "./flow.ts";
import { FlowDissection, dissectorCandidates } from "./dissection.ts";
import { DnsCache } from "../dissect/dns.ts";
import type { AppCatalogue } from "../apps/catalogue.ts";
import { CONTROL_PROTOCOLS, type ExpectationTable } from "./expectations.ts";

export interface WindowOptions {
  /** Packets (both directions, handshake included) inspected at most; l7-filter default 10. */
  packets: number;
  /** Payload bytes (NULs stripped) inspected at most; l7-filter default 2048. */
  bytes: number;
}

/**
 * What the flow table needs from a pattern set: the best match for a subject. The flow
 * table passes the subject as UTF-8 bytes (see flow/subject.ts); a string is the same
 * subject as text (one char per byte).
 */
export interface Matcher {
  /** `seen`: how much of the subject an earlier call already matched without a hit. */
  match(
    subject: Buffer | string,
    transport: Transport,
    seen?: number,
  ): { name: string; mark: number; priority?: number; meta?: { overmatch: boolean } } | null;
  /** A protocol by name (for verdicts that come from elsewhere: related connections). */
  get?(name: string): { name: string; mark: number } | undefined;
  /** `# Subject: packet` patterns: one packet's own payload, NULs kept (PatternSet.matchPacket). */
  hasPacketPatterns?(transport: Transport): boolean;
  matchPacket?(
    payload: Buffer,
    transport: Transport,
  ): { name: string; mark: number; priority: number } | null;
}

export const DEFAULT_WINDOW: WindowOptions = { packets: 10, bytes: 2048 };

export interface FlowTableOptions {
  window: WindowOptions;
  /** LRU cap on tracked flows. */
  maxFlows: number;
  /** Seconds without a packet before a flow is forgotten. */
  tcpIdleSeconds: number;
  udpIdleSeconds: number;
  /** Run the dissectors (host names, DNS cache, applications). Off: plain l7-filter. */
  dissect: boolean;
  /** Raw bytes per direction a dissector may keep within the window (NULs included). */
  dissectBytes: number;
  /** The address -> name cache the DNS flows fill (default: one of this table's own). */
  dnsCache?: DnsCache | null;
  /** The application catalogue flows are matched against (default: none, no app). */
  apps?: AppCatalogue | null;
  /**
   * Related connections (FTP data, SIP/RTSP media, TFTP transfers): control flows seen in
   * full feed it, and a new flow that fits decides at its first packet. Default: none (the
   * live data plane sees a flow's packets only within the window; there the kernel's
   * conntrack helpers do this).
   */
  expectations?: ExpectationTable | null;
  /**
   * Keep flows under plain inspection (see Flow.plain) between their packets as slots of
   * typed arrays, not objects (flow/dormant-flows.ts): ~100 B less heap per such flow. A
   * `Flow` the table hands out is then valid until its next call (the data plane's
   * workers; default off).
   */
  compact?: boolean;
}

export const DEFAULT_FLOW_TABLE: FlowTableOptions = {
  window: DEFAULT_WINDOW,
  maxFlows: 65536,
  tcpIdleSeconds: 300,
  udpIdleSeconds: 60,
  dissect: true,
  dissectBytes: 8192,
};

export type { Verdict, Direction } from "./flow.ts";
export { Flow } from "./flow.ts";
export type FlowEndReason = "idle" | "evicted" | "closed" | "reused";

export interface ObserveResult {
  flow: Flow;
  direction: Direction;
  /** True when this packet decided the flow (matched or unknown). */
  decided: boolean;
}

export interface FlowTableStats {
  active: number;
  inspecting: number;
  /** Flows whose pattern matched and whose dissector is still reading. */
  pending: number;
  created: number;
  dnsCache: { entries: number; learned: number; hits: number } | null;
  ended: Record<FlowEndReason, number>;
  limits: FlowTableOptions;
}

const IN_FLIGHT_OOO_FACTOR = 2;

/** Address strings shared by the flows that have them (few hosts, many flows), bounded. */
const addresses = new Map<string, string>();
function intern(address: string): string {
  const known = addresses.get(address);
  if (known !== undefined) return known;
  if (addresses.size >= 65536) addresses.clear();
  addresses.set(address, address);
  return address;
}
/** IPv4 address strings by their 32-bit value: a known address is not spelled again. */
const v4Addresses = new Map<number, string>();
/** The text of a packet's source or destination address, shared between flows. */
function addressOf(p: DecodedPacket, source: boolean): string {
  const b = p.raw;
  const at = (source ? p.srcAt : p.dstAt) ?? -1;
  if (p.family !== 4 || !b || at < 0 || at + 4 > b.length) return intern(source ? p.src : p.dst);
  const n = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  let s = v4Addresses.get(n);
  if (s === undefined) {
    if (v4Addresses.size >= 65536) v4Addresses.clear();
    s = intern(source ? p.src : p.dst);
    v4Addresses.set(n, s);
  }
  return s;
}
/** Entry slots the periodic expiry looks at per sweep (see `sweep`). */
const SWEEP_SLOTS = 16384;
const ONE_CHUNK: Buffer[] = [Buffer.alloc(0)];
/** The index's value for a flow kept in the dormant slots (compact tables). */
const DORMANT = new Flow(0, "udp", 4, "", 0, "", 0, 0, MARK_UNSET, 0);
const NO_CHUNKS: Buffer[] = [];

export class FlowTable {
  readonly options: FlowTableOptions;
  private readonly patterns: Matcher;
  /** The DNS cache (shared when given in the options), or null when dissection is off. */
  readonly dnsCache: DnsCache | null;
  /** The application catalogue, swappable (e.g. on reload). */
  apps: AppCatalogue | null;
  /** Announced related connections (see FlowTableOptions.expectations), or null. */
  readonly expectations: ExpectationTable | null;
  /** Flows by 5-tuple (numeric keys); its list order is the LRU queue. */
  private readonly flows = new FlowIndex<Flow>();
  private nextId = 1;
  private created = 0;
  private readonly ended: Record<FlowEndReason, number> = { idle: 0, evicted: 0, closed: 0, reused: 0 };
  private sinceSweep = 0;
  /** Flows under plain inspection between their packets (compact tables), or null. */
  private readonly dormant: DormantFlows | null;
  /** The flow the last `observe` handed out (compact tables), at index entry `awakeAt`. */
  private awake: Flow | null = null;
  private awakeAt = -1;
  /** Called for every flow that leaves the table. */
  onFlowEnd: ((flow: Flow, reason: FlowEndReason) => void) | null = null;

  constructor(patterns: Matcher, options: Partial<FlowTableOptions> = {}) {
    this.patterns = patterns;
    const { dnsCache, apps, expectations, ...plain } = options;
    this.expectations = expectations ?? null;
    this.options = { ...DEFAULT_FLOW_TABLE, ...plain, window: { ...DEFAULT_WINDOW, ...options.window } };
    this.dnsCache = this.options.dissect ? (dnsCache === undefined ? new DnsCache() : dnsCache) : null;
    this.apps = this.options.dissect ? (apps ?? null) : null;
    this.dormant = this.options.compact ? new DormantFlows() : null;
    if (this.options.window.packets < 1) throw new RangeError("window packets must be at least 1");
    if (this.options.window.bytes < 1) throw new RangeError("window bytes must be at least 1");
  }

  get size(): number {
    return this.flows.size;
  }

  /** Every tracked flow, roughly least recently seen first. */
  *active(): IterableIterator<Flow> {
    const ix = this.flows;
    for (let e = ix.head; e >= 0; e = ix.after(e)) yield this.flowAt(e);
  }

  /**
   * The flow of a packet known by its raw address bytes (see FlowIndex.setKeyFromBytes),
   * or undefined; `lastC2S` then says the packet's direction. No decoding, no strings: the
   * capture path counts the packets of decided flows this way.
   */
  lookup(
    tcp: boolean,
    family: 4 | 6,
    b: Uint8Array,
    srcAt: number,
    dstAt: number,
    sport: number,
    dport: number,
  ): Flow | undefined {
    const ix = this.flows;
    ix.setKeyFromBytes(tcp ? 6 : 17, family, b, srcAt, dstAt, sport, dport);
    const e = ix.find();
    if (e < 0) return undefined;
    this.lastC2S = ix.sameEnds || ix.swapped === (ix.aux[e] === 1);
    return this.flowAt(e);
  }

  /** The direction of the packet `lookup` last found. */
  lastC2S = false;

  /**
   * Counts a packet of a decided flow found by `lookup` (no state changes but counters,
   * last seen and the LRU flag; the caller checked it is not idle).
   */
  count(flow: Flow, c2s: boolean, ipLength: number, time: number): void {
    if (c2s) {
      flow.packetsC2S++;
      flow.bytesC2S += ipLength;
    } else {
      flow.packetsS2C++;
      flow.bytesS2C += ipLength;
    }
    if (time > flow.lastSeen) flow.lastSeen = time;
    flow.bits |= FLOW_RECENT;
    if (++this.sinceSweep >= 4096) {
      this.sinceSweep = 0;
      this.sweep(time);
    }
  }

  stats(): FlowTableStats {
    let inspecting = 0;
    let pending = 0;
    for (const f of this.flows.entries()) {
      if (f === DORMANT) {
        inspecting++;
        continue;
      }
      if (f.inspecting) inspecting++;
      if (f.extra?.pending) pending++;
    }
    const c = this.dnsCache;
    return {
      active: this.flows.size,
      inspecting,
      pending,
      created: this.created,
      dnsCache: c ? { entries: c.size, learned: c.learned, hits: c.hits } : null,
      ended: { ...this.ended },
      limits: this.options,
    };
  }

  /**
   * Whether the packet's flow is in the table (nothing changes; no string built). The
   * next `observe` of the same packet may pass `found` to skip the lookup.
   */
  has(p: DecodedPacket): boolean {
    if (this.awake) this.doze();
    this.found = this.find(p);
    return this.found >= 0;
  }

  private find(p: DecodedPacket): number {
    const ix = this.flows;
    const proto = p.l4 === "tcp" ? 6 : 17;
    if (p.raw) ix.setKeyFromBytes(proto, p.family, p.raw, p.srcAt!, p.dstAt!, p.sport, p.dport);
    else ix.setKeyFromText(proto, p.family, p.src, p.dst, p.sport, p.dport);
    return ix.find();
  }

  /**
   * Feeds one packet (time in seconds). `found`: `has` was just called with this packet,
   * and the table has not changed since (its lookup is reused).
   */
  observe(p: DecodedPacket, time: number, found = false): ObserveResult {
    const ix = this.flows;
    if (this.awake) this.doze();
    let e = found ? this.found : this.find(p);
    let flow = e < 0 ? undefined : this.flowAt(e);
    if (flow) {
      const idle = p.l4 === "tcp" ? this.options.tcpIdleSeconds : this.options.udpIdleSeconds;
      const ended =
        flow.bits & FLOW_RST || (flow.bits & (FLOW_FIN_C2S | FLOW_FIN_S2C)) === (FLOW_FIN_C2S | FLOW_FIN_S2C);
      const newSyn = p.tcp?.syn && !p.tcp.ackFlag && ended;
      if (time - flow.lastSeen > idle) {
        this.end(e, flow, "idle");
        flow = undefined;
      } else if (newSyn) {
        this.end(e, flow, "reused");
        flow = undefined;
      } else {
        flow.bits |= FLOW_RECENT;
      }
    }
    const isNew = !flow;
    if (!flow) {
      flow = this.create(p, time);
      e = ix.insert(flow);
      // Which end of the key is the client: the packet's source when it came from the client.
      ix.aux[e] = ix.swapped === this.fromClient ? 1 : 0;
    }
    // Both ends equal (a packet to itself): every packet is the client's, as it always was.
    const direction: Direction = ix.sameEnds || ix.swapped === (ix.aux[e] === 1) ? "c2s" : "s2c";
    flow.lastSeen = Math.max(flow.lastSeen, time);
    if (direction === "c2s") {
      flow.packetsC2S++;
      flow.bytesC2S += p.ipLength;
    } else {
      flow.packetsS2C++;
      flow.bytesS2C += p.ipLength;
    }
    if (p.tcp) {
      if (p.tcp.rst) flow.bits |= FLOW_RST;
      if (p.tcp.fin) flow.bits |= direction === "c2s" ? FLOW_FIN_C2S : FLOW_FIN_S2C;
    }

    const decided =
      isNew && this.expectations && this.relate(flow, p, time)
        ? true
        : flow.bits & FLOW_INSPECTING
          ? this.inspect(flow, p, direction, time)
          : false;
    if (
      this.expectations &&
      p.payload.length &&
      flow.verdict === "matched" &&
      CONTROL_PROTOCOLS.has(flow.protocol)
    )
      this.expectations.learn(flow, direction === "c2s", p.payload, time);
    this.observed = e;
    if (this.dormant) {
      this.awake = flow;
      this.awakeAt = e;
    }
    if (++this.sinceSweep >= 4096) {
      this.sinceSweep = 0;
      this.sweep(time);
    }
    return { flow, direction, decided };
  }

  /**
   * Decides a flow whose window is spent though not all of it reached the table (the
   * kernel accepted some of its packets unseen: a full queue failed open, the data plane
   * restarted, or it saw the flow only from the middle). A pattern that already matched
   * (dissector still reading) gives the verdict, else `unknown`. Returns true when this
   * call decided the flow (false: it was decided already).
   */
  conclude(flow: Flow, time: number): boolean {
    if (flow.verdict !== "unset") return false;
    const pending = flow.extra?.pending;
    if (pending) {
      flow.extra!.dissect?.evaluate(pending.name, true);
      this.decide(flow, pending.name, pending.mark, "matched", time);
    } else this.decide(flow, "unknown", MARK_UNKNOWN, "unknown", time);
    return true;
  }

  /**
   * Drops a flow from the table without ending it (no onFlowEnd, not counted as ended):
   * its owner keeps what it needs of it elsewhere (the data plane keeps decided flows as
   * compact records). Its inspection state is released.
   */
  forget(flow: Flow): void {
    const ix = this.flows;
    // Mostly the flow the last packet was for (the data plane forgets a flow as its verdict
    // comes): its entry is known, no key spelled back from the address strings.
    let e = this.observed;
    if (e < 0 || ix.valueAt(e) !== flow) {
      const proto = flow.l4 === "tcp" ? 6 : 17;
      ix.setKeyFromText(proto, flow.family, flow.clientIp, flow.serverIp, flow.clientPort, flow.serverPort);
      e = ix.find();
    }
    if (e >= 0 && ix.value(e) === flow) ix.remove(e);
    if (flow.inspecting) this.release(flow);
  }

  /**
   * The periodic expiry (every 4096 packets): ends the idle flows among the next
   * SWEEP_SLOTS entry slots, going round the index, so that a packet's share of the sweep
   * does not grow with the table (a full walk of 100,000 flows every 4096 packets cost ~25
   * flow visits per packet). A table up to SWEEP_SLOTS entries is swept whole each time.
   */
  private sweep(now: number): void {
    const ix = this.flows;
    const slots = ix.slots;
    if (slots <= SWEEP_SLOTS) {
      this.expire(now);
      return;
    }
    let s = this.sweepAt < slots ? this.sweepAt : 0;
    for (let i = 0; i < SWEEP_SLOTS; i++) {
      const f = ix.valueAt(s);
      if (f !== undefined && this.idle(s, f, now)) this.end(s, this.flowAt(s), "idle");
      if (++s >= slots) s = 0;
    }
    this.sweepAt = s;
  }

  /** Ends flows idle at `now`; returns how many. */
  expire(now: number): number {
    let n = 0;
    const ix = this.flows;
    for (let e = ix.head; e >= 0;) {
      const next = ix.after(e);
      if (this.idle(e, ix.value(e), now)) {
        this.end(e, this.flowAt(e), "idle");
        n++;
      }
      e = next;
    }
    return n;
  }

  /**
   * Ends every flow (end of a capture) without changing verdicts; a flow whose pattern
   * matched while its dissector was still waiting for bytes gets that verdict now.
   */
  drain(): Flow[] {
    const out = [...this.active()];
    this.flows.clear();
    for (const f of out) this.finish(f);
    return out;
  }

  /** The entry of the flow the last `observe` was for. */
  private observed = -1;
  /** The entry `has` found (-1: none). */
  private found = -1;
  /** The next entry slot the periodic sweep looks at. */
  private sweepAt = 0;

  /** The subject of the flow being inspected (a flow stores its own as two numbers). */
  private readonly subject = new FlowSubject();

  /** Whether the packet that created the last new flow came from its client. */
  private fromClient = true;

  /** A new flow for the packet (the caller inserts it under the packet's key). */
  private create(p: DecodedPacket, time: number): Flow {
    // The client is the side that opened the connection: the SYN's sender; for a SYN-ACK
    // the receiver; otherwise the first packet's sender, unless only its destination port
    // looks ephemeral (a mid-stream pickup of a server's reply).
    let fromClient = true;
    if (p.tcp?.syn) fromClient = !p.tcp.ackFlag;
    else if (p.l4 === "tcp" && p.sport < 1024 && p.dport >= 1024) fromClient = false;
    this.fromClient = fromClient;
    // LRU by second chance: a flow seen since it was (re)queued goes to the back once more,
    // so a packet costs a flag, not a map delete and insert; the flow evicted is one that
    // has not been seen since the sweep last passed it.
    const ix = this.flows;
    while (ix.size >= this.options.maxFlows) {
      const e = ix.head;
      const oldest = ix.value(e);
      const bits = oldest === DORMANT ? this.dormant!.bits(e) : oldest.bits;
      if (bits & FLOW_RECENT) {
        if (oldest === DORMANT) this.dormant!.setBits(e, bits & ~FLOW_RECENT);
        else oldest.bits &= ~FLOW_RECENT;
        ix.moveToBack(e);
      } else {
        this.end(e, this.flowAt(e), "evicted");
      }
    }
    // A reused packet (capture path) spells its addresses on every read: a known IPv4
    // address is found by its value instead.
    const src = addressOf(p, true);
    const dst = addressOf(p, false);
    const flow = new Flow(
      this.nextId++,
      p.l4,
      p.family,
      fromClient ? src : dst,
      fromClient ? p.sport : p.dport,
      fromClient ? dst : src,
      fromClient ? p.dport : p.sport,
      time,
      MARK_UNSET,
      FLOW_INSPECTING | (this.options.dissect ? 0 : FLOW_SNIFFED),
    );
    this.created++;
    return flow;
  }

  /** The flow at index entry `e`, made again from its slot if it was dormant. */
  private flowAt(e: number): Flow {
    const f = this.flows.value(e);
    if (f !== DORMANT) return f;
    const woken = this.dormant!.restore(e);
    this.flows.setValue(e, woken);
    return woken;
  }

  /** Puts the flow the last `observe` handed out into its slot, if it is plain (compact tables). */
  private doze(): void {
    const f = this.awake!;
    const e = this.awakeAt;
    this.awake = null;
    if (this.flows.valueAt(e) !== f || !f.plain) return;
    this.dormant!.save(e, f);
    this.flows.setValue(e, DORMANT);
  }

  /** Whether the flow at entry `e` (its value `f`, maybe DORMANT) is idle at `now`. */
  private idle(e: number, f: Flow, now: number): boolean {
    const d = f === DORMANT;
    const tcp = (d ? this.dormant!.bits(e) : f.bits) & FLOW_TCP;
    const lastSeen = d ? this.dormant!.lastSeen(e) : f.lastSeen;
    return now - lastSeen > (tcp ? this.options.tcpIdleSeconds : this.options.udpIdleSeconds);
  }

  /** Ends the flow at index entry `e` (the index's current key is left as it was). */
  private end(e: number, flow: Flow, reason: FlowEndReason): void {
    this.flows.remove(e);
    this.ended[reason]++;
    this.finish(flow);
    this.onFlowEnd?.(flow, reason);
  }

  /** A flow leaves the table: a pending match becomes its verdict; inspection state goes. */
  private finish(flow: Flow): void {
    const x = flow.extra;
    if (x?.pending) {
      x.dissect?.evaluate(x.pending.name, true);
      this.decide(flow, x.pending.name, x.pending.mark, "matched", flow.lastSeen);
    } else if (flow.inspecting && this.options.dissect && flow.verdict === "unset") {
      // Never decided (too short): still named by the DNS cache, its address or port.
      this.name(flow, x?.dissect ?? null, flow.lastSeen);
    }
    if (flow.inspecting) this.release(flow);
  }

  /** Ends a flow's inspection: its subject's storage goes back to the arena. */
  private release(flow: Flow): void {
    this.dropSubject(flow);
    flow.extra = null;
    flow.bits &= ~FLOW_INSPECTING;
  }

  /** Frees a flow's stored subject (the flow stops being matched against patterns). */
  private dropSubject(flow: Flow): void {
    if (flow.subjectBlock >= 0) subjectArena.release(flow.subjectBlock);
    flow.subjectBlock = -1;
    flow.subjectUsed = 0;
    if (flow.extra) flow.extra.big = null;
  }

  private inspect(flow: Flow, p: DecodedPacket, direction: Direction, time: number): boolean {
    let x = flow.extra;
    const window = this.options.window;
    let chunks: Buffer[];
    if (p.tcp && flow.bits & FLOW_TCP) {
      x ??= flow.extra = new InspectionState();
      const stream =
        direction === "c2s"
          ? (x.c2s ??= new TcpStream(window.bytes * IN_FLIGHT_OOO_FACTOR))
          : (x.s2c ??= new TcpStream(window.bytes * IN_FLIGHT_OOO_FACTOR));
      chunks = stream.push(p.tcp.seq, p.tcp.syn, p.payload);
    } else {
      // One array for every datagram (nothing keeps it past this call): no garbage per packet.
      chunks = NO_CHUNKS;
      if (p.payload.length) {
        ONE_CHUNK[0] = p.payload;
        chunks = ONE_CHUNK;
      }
    }
    let d = x?.dissect ?? null;
    if (flow.verdict !== "unset") {
      // Decided, still reading DNS responses, within the packet window.
      const done = d ? d.dns(this.dnsCache, time, direction, chunks, flow.clientIp) : true;
      if (d && !flow.hostname && d.hostname)
        flow.setDetails({ hostname: d.hostname, hostnameSource: d.hostnameSource });
      if (done || flow.packets >= window.packets) this.release(flow);
      return false;
    }
    if (!(flow.bits & FLOW_SNIFFED) && direction === "c2s" && chunks.length) {
      flow.bits |= FLOW_SNIFFED;
      const candidates = dissectorCandidates(flow.l4, chunks[0]!);
      if (candidates) {
        x ??= flow.extra = new InspectionState();
        d = x.dissect = new FlowDissection(flow.l4, this.options.dissectBytes, candidates);
      }
    }
    d?.feed(direction, chunks);
    const pending = x?.pending;
    if (pending) {
      const spent = flow.packets >= window.packets || d!.budgetSpent;
      if (d!.evaluate(pending.name, spent) || spent) {
        this.decide(flow, pending.name, pending.mark, "matched", time);
        return true;
      }
      return false;
    }
    const packetHit = this.matchPacket(flow, direction, chunks);
    // The table's one subject takes the flow's stored one over for this packet.
    const subject = this.subject;
    subject.load(flow.subjectBlock, flow.subjectUsed, flow.inspectedBytes, x?.big ?? null);
    flow.subjectBlock = -1;
    flow.subjectUsed = 0;
    if (x) x.big = null;
    const before = subject.chars;
    let grew = false;
    for (let i = 0; i < chunks.length; i++) if (subject.append(chunks[i]!, window.bytes)) grew = true;
    flow.inspectedBytes = subject.chars;
    if (grew || packetHit) {
      let hit = grew
        ? (this.patterns.match(subject.view(), flow.l4, before) ??
          (flow.l4 === "udp" && before > 0 ? this.matchDatagram(chunks, subject.chars - before) : null))
        : null;
      // Both kinds matched: the pattern of better priority wins, as within one set.
      if (packetHit && (!hit || packetHit.priority < (hit.priority ?? Infinity))) hit = packetHit;
      if (hit) {
        subject.clear();
        if (d && !d.evaluate(hit.name, flow.packets >= window.packets)) {
          // The pattern has spoken; the dissector needs more of the window.
          x!.pending = { name: hit.name, mark: hit.mark };
          return false;
        }
        this.decide(flow, hit.name, hit.mark, "matched", time);
        return true;
      }
    }
    if (flow.packets >= window.packets || subject.chars >= window.bytes) {
      subject.clear();
      this.decide(flow, "unknown", MARK_UNKNOWN, "unknown", time);
      return true;
    }
    const big = subject.unload(flow);
    if (big) (x ??= flow.extra = new InspectionState()).big = big;
    return false;
  }

  /**
   * `# Subject: packet` patterns read one packet's payload as it is, NULs kept: every UDP
   * datagram, and the first payload of each TCP direction (a message boundary is known
   * only there).
   */
  private matchPacket(
    flow: Flow,
    direction: Direction,
    chunks: Buffer[],
  ): ReturnType<NonNullable<Matcher["matchPacket"]>> {
    if (!chunks.length || !this.patterns.matchPacket || !this.patterns.hasPacketPatterns?.(flow.l4))
      return null;
    if (flow.l4 === "tcp") {
      const bit = direction === "c2s" ? FLOW_PACKET_READ_C2S : FLOW_PACKET_READ_S2C;
      if (flow.bits & bit) return null;
      flow.bits |= bit;
    }
    return this.patterns.matchPacket(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), flow.l4);
  }

  /** A new flow that a control flow announced is decided at once (false when none fits). */
  private relate(flow: Flow, p: DecodedPacket, time: number): boolean {
    const x = this.expectations!;
    // Most new flows are on no announced port: no address spelled, no key built.
    if (!x.mayFit(p.sport, p.dport)) return false;
    const e = x.take(p.l4, p.src, p.sport, p.dst, p.dport, time);
    const known = e && this.patterns.get?.(e.protocol);
    if (!e || !known) return false;
    flow.setDetails({ master: { id: e.masterId, protocol: e.masterProtocol } });
    this.decide(flow, known.name, known.mark, "matched", time);
    return true;
  }

  /**
   * A UDP datagram is a message of its own: when the flow's first datagrams matched nothing
   * (a corrupted or unrelated first packet), a later datagram that is a protocol's first
   * message on its own still decides the flow. Patterns declared `overmatch` are not
   * trusted this way (they match noise too often to be tried once per datagram).
   */
  private matchDatagram(chunks: Buffer[], room: number): ReturnType<Matcher["match"]> {
    const one = new FlowSubject();
    let grew = false;
    for (let i = 0; i < chunks.length; i++) if (one.append(chunks[i]!, room)) grew = true;
    if (!grew) return null;
    const hit = this.patterns.match(one.view(), "udp");
    one.clear();
    return hit && !hit.meta?.overmatch ? hit : null;
  }

  private decide(flow: Flow, protocol: string, mark: number, verdict: Verdict, time: number): void {
    flow.setVerdict(verdict, protocol, mark);
    const x = flow.extra;
    const d = x?.dissect ?? null;
    let lingers = false;
    if (d) {
      if (d.active === "dns")
        lingers =
          !d.dns(this.dnsCache, time, undefined, undefined, flow.clientIp) &&
          flow.packets < this.options.window.packets;
      this.name(flow, d, time);
      d.release();
    } else if (this.options.dissect && flow.inspecting) {
      this.name(flow, null, time);
    }
    if (lingers) {
      this.dropSubject(flow);
      x!.pending = null;
    } else {
      this.release(flow); // free the buffer: a decided flow leaves inspection at once
    }
  }

  /** Host name (dissector, else DNS cache), details and application of a flow being decided. */
  private name(flow: Flow, d: FlowDissection | null, time: number): void {
    if (d?.hostname) flow.setDetails({ hostname: d.hostname, hostnameSource: d.hostnameSource });
    const l7 = d?.l7;
    if (l7 && (l7.tls || l7.quic || l7.http || l7.dns)) flow.setDetails({ l7 });
    const ech = l7?.tls?.ech === true || l7?.quic?.ech === true;
    const isDns = d?.active === "dns";
    if ((!flow.hostname || ech) && !isDns && this.dnsCache) {
      const looked = this.dnsCache.get(flow.serverIp, time, flow.clientIp);
      if (looked) flow.setDetails({ hostname: looked, hostnameSource: "dns-cache" });
    }
    // A DNS lookup is not the application's traffic: DNS flows get a name but no app.
    if (!this.apps || isDns) return;
    const m = this.apps.match({
      hostname: flow.hostname,
      protocol: flow.protocol,
      l4: flow.l4,
      serverIp: flow.serverIp,
      serverPort: flow.serverPort,
    });
    if (m)
      flow.setDetails({
        app: m.app.name,
        appId: m.app.id,
        appSource: m.by,
        category: m.category.name,
        categoryId: m.category.id,
      });
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
