// What a data-plane worker does with each queued packet, apart from the queue I/O: find
// or create its flow, classify it, and return the packet mark (the flow's l7 mark, app id
// and hostname rule in their fields). A flow under inspection lives in the flow table; once
// decided it leaves the table for a compact record in the DecidedFlowCache (the kernel's
// connmark carries the verdict from then on), so the worker's memory is the flows being
// inspected plus a few dozen bytes per recently decided one.

import { HostnameRules } from "@sluice/policy/hostname-glob"; // not the schemas (zod): see config-file.ts
import {
  FlowTable,
  PacketSlot,
  decodeIpPacketAt,
  flowClient,
  flowServer,
  type AppCatalogue,
  type Matcher,
  type WindowOptions,
  rtspReplyMedia,
} from "@sluice/classifier";
import { DecidedFlowCache, type DecidedRecord } from "./flow-cache.ts";
import { SharedDnsCache, dnsAnswerOffset } from "./shared-dns-cache.ts";
import type { FlowDecidedEvent, MediaRequest, Routing } from "./messages.ts";

/** l7 mark of "unknown" (packages/classifier's MARK_UNKNOWN). */
const MARK_UNKNOWN = 2;
/** Seconds a decided flow's record outlives its last queued packet (at least). */
const DECIDED_IDLE_SECONDS = 60;
/** `handle`'s answer for a packet to drop (an RTSP SETUP reply held, see holdRtspReply). */
export const VERDICT_DROP = -1;
/** Seconds a SETUP reply is held at most while its media expectations are added. */
const RTSP_HOLD_SECONDS = 2;
/** Held replies remembered at most (each a few dozen bytes). */
const RTSP_HELD_MAX = 256;
/** Distinct (mark, app id) pairs kept as shared records (protocols x apps: a few hundred). */
const SHARED_RECORDS_MAX = 4096;

export interface PacketClassifierOptions {
  queue: number;
  matcher: Matcher;
  window: WindowOptions;
  /** Flows under inspection at most (and twice that many decided records). */
  maxFlows: number;
  /**
   * Decided-flow events kept per `takeEvents` at most (flows with a host name always are;
   * the others over the limit are counted in `eventsDropped`); default all.
   */
  maxEvents?: number;
  routing: Routing;
  apps: AppCatalogue | null;
  dnsCache?: SharedDnsCache;
  onError?: (msg: string) => void;
  /** An RTSP SETUP reply announced media (routing.rtsp set): add the expectations, then
   * call `mediaReady(key)`. */
  onMedia?: (req: MediaRequest) => void;
}

/** The parts of a queued packet the classifier reads. */
export interface QueuedPacket {
  mark: number;
  payloadOffset: number;
  payloadLength: number;
}

export class PacketClassifier {
  readonly table: FlowTable;
  readonly dnsCache: SharedDnsCache;
  readonly decidedFlows: DecidedFlowCache;
  readonly counters = {
    packets: 0,
    bytes: 0,
    passthrough: 0,
    decided: 0,
    late: 0,
    errors: 0,
    rtspHeld: 0,
    eventsDropped: 0,
  };
  /** Packets by the l7 mark they were given. */
  readonly verdicts: Record<number, number> = {};
  /** One decoded packet for every queued one: the flow table keeps nothing of it. */
  private readonly slot = new PacketSlot();
  /** Decided flows since the last `takeEvents`. */
  private events: FlowDecidedEvent[] = [];
  private readonly queue: number;
  private readonly maxEvents: number;
  private readonly onError: (msg: string) => void;
  private readonly onMedia: (req: MediaRequest) => void;
  /** SETUP replies held, by key: when first seen, and whether their media is expected. */
  private readonly held = new Map<string, { since: number; ready: boolean }>();
  // The mark fields, and which hostname rule a flow matches. A new routing (an apply) bumps
  // `generation`: decided flows recompute their bits on their next packet.
  private r!: Routing;
  private hostnames = new HostnameRules([]);
  private keep = 0;
  private generation = 0;
  /**
   * Decided records without a host name, shared by (mark, app id): their bits depend on
   * nothing else, so every such flow can hold the same record (most decided flows; one
   * object fewer per record in the fast path's map).
   */
  private readonly sharedRecords = new Map<number, DecidedRecord>();
  /** Seconds, as the caller last said (see `setTime`). */
  private now = 0;
  /**
   * The flow table's clock: whole seconds. A fractional time in a flow's firstSeen and
   * lastSeen is a boxed number each (32 B per flow under inspection; flow-memory bench);
   * an integer is stored in the object. Idle timeouts are whole seconds anyway.
   */
  private tableNow = 0;

  constructor(o: PacketClassifierOptions) {
    this.queue = o.queue;
    this.maxEvents = o.maxEvents ?? Infinity;
    this.onError = o.onError ?? (() => {});
    this.onMedia = o.onMedia ?? ((req) => this.mediaReady(req.key));
    this.dnsCache = o.dnsCache ?? new SharedDnsCache();
    this.table = new FlowTable(o.matcher, {
      window: o.window,
      maxFlows: o.maxFlows,
      apps: o.apps,
      dnsCache: this.dnsCache,
      // Flows in the middle of their window (most of them at 100k flows) kept in typed-array
      // slots between packets, not as objects: every flow is used only while its packet is.
      compact: true,
    });
    this.decidedFlows = new DecidedFlowCache(2 * o.maxFlows, DECIDED_IDLE_SECONDS);
    this.setRouting(o.routing);
  }

  setRouting(next: Routing): void {
    this.r = next;
    this.hostnames = new HostnameRules(next.hostRules.map((h) => h.glob));
    this.keep = ~(next.mask | next.app.mask | next.host.mask) >>> 0;
    this.generation++;
  }

  /** New patterns or catalogue: decided flows' bits are recomputed on their next packet. */
  patternsChanged(apps: AppCatalogue | null): void {
    this.table.apps = apps;
    this.generation++;
  }

  /** The clock for the next packets (seconds; set once per received batch). */
  setTime(seconds: number): void {
    this.now = seconds;
    this.tableNow = Math.floor(seconds);
  }

  /** The main thread added (or refused) a held reply's media: the reply passes next time. */
  mediaReady(key: string): void {
    const h = this.held.get(key);
    if (h) h.ready = true;
  }

  takeEvents(): FlowDecidedEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  /** Flows tracked: under inspection (in the table) plus decided ones remembered. */
  get activeFlows(): number {
    return this.table.size + this.decidedFlows.size;
  }

  /** The packet's new mark (its untouched mark for packets that are not TCP/UDP). */
  handle(p: QueuedPacket, buf: Buffer): number {
    const c = this.counters;
    const r = this.r;
    const now = this.now;
    c.packets++;
    const off = p.payloadOffset;
    const len = p.payloadLength;
    // A DNS answer (queued by its own rule, whatever its flow's state) names later flows.
    let dnsAnswer = false;
    if (buf[off + 9] === 17 || buf[off + 6] === 17) {
      dnsAnswer = dnsAnswerOffset(buf, off, len) >= 0;
      if (dnsAnswer) this.dnsCache.learnFromPacket(buf, off, len, now);
    }
    // The kernel's late rule: an undecided connection past its window comes with the
    // protocol field already "unknown" (see render/iptables.ts). DNS answers are queued
    // before that rule, whatever their mark says.
    const late = !dnsAnswer && (p.mark & r.mask) >>> r.shift === MARK_UNKNOWN;
    let ipLength = len;
    if (len >= 20) {
      const v = buf[off]! >> 4;
      if (v === 4) ipLength = buf.readUInt16BE(off + 2);
      else if (v === 6 && len >= 40) ipLength = 40 + buf.readUInt16BE(off + 4);
    }
    c.bytes += ipLength;
    // A flow under inspection (most queued packets) is found in the table by its numbers;
    // only the others look for a decided record, whose key is a string.
    const undecodable = decodeIpPacketAt(buf, off, len, this.slot) !== null;
    let key: string | null = null;
    // (the decided records are apart from the table: its lookup stays valid for observe)
    if (undecodable || !this.table.has(this.slot)) {
      key = len >= 28 ? DecidedFlowCache.key(buf, off, len) : null;
      if (key !== null) {
        if (DecidedFlowCache.isNewSyn(buf, off)) this.decidedFlows.delete(key);
        else {
          const known = this.decidedFlows.get(key, now);
          if (known !== undefined) {
            const bits = this.bitsOf(known);
            if (r.rtsp && known.mark === r.rtsp.control && this.holdRtspReply(buf, off, len, bits))
              return VERDICT_DROP;
            return this.verdict(p.mark, known.mark, bits);
          }
        }
      }
    }
    if (undecodable) {
      c.passthrough++;
      return p.mark;
    }
    let o: ReturnType<FlowTable["observe"]>;
    try {
      o = this.table.observe(this.slot, this.tableNow, true);
    } catch (e) {
      // A classifier bug must not take the queue down: pass the packet, say so (rarely).
      if (c.errors++ < 5) this.onError(`queue ${this.queue}: classifying a packet: ${(e as Error).stack}`);
      return p.mark;
    }
    const flow = o.flow;
    let decided = o.decided;
    if (!decided && late && this.table.conclude(flow, this.tableNow)) {
      decided = true;
      c.late++;
    }
    if (flow.verdict === "unset") return this.verdict(p.mark, flow.mark, (flow.mark << r.shift) & r.mask);
    const rec = this.recordOf(flow.mark, flow.appId ?? 0, flow.hostname);
    const bits = this.bitsOf(rec);
    if (decided) c.decided++;
    if (decided && this.events.length >= this.maxEvents && !flow.hostname) c.eventsDropped++;
    else if (decided) {
      this.events.push({
        queue: this.queue,
        time: now,
        l4: flow.l4,
        client: flowClient(flow),
        server: flowServer(flow),
        protocol: flow.protocol,
        mark: flow.mark,
        decidedAtPacket: flow.decidedAtPacket ?? flow.packets,
        hostname: flow.hostname,
        app: flow.app,
        category: flow.category,
        hostRule: rec.hostRule,
        markBits: bits,
      });
    }
    // Done with it (a DNS flow still reading its answers stays until its window is spent).
    if (!flow.inspecting) {
      key ??= len >= 28 ? DecidedFlowCache.key(buf, off, len) : null;
      if (key !== null) {
        this.table.forget(flow);
        this.decidedFlows.set(key, rec, now);
      }
    }
    if (r.rtsp && flow.mark === r.rtsp.control && this.holdRtspReply(buf, off, len, bits))
      return VERDICT_DROP;
    return this.verdict(p.mark, flow.mark, bits);
  }

  /**
   * An RTSP server's reply announcing media (a SETUP reply's Transport: client_port and
   * server_port): the first time, asks for the expectations (onMedia) and holds the reply —
   * drops it, TCP sends it again — so that the player cannot start the media before the
   * kernel expects it; passes once they are in (or refused), or after RTSP_HOLD_SECONDS
   * whatever happened. True: drop this packet.
   */
  private holdRtspReply(buf: Buffer, off: number, len: number, bits: number): boolean {
    const r = this.r;
    const s = this.slot;
    if (!r.rtsp || decodeIpPacketAt(buf, off, len, s) !== null) return false;
    if (s.l4 !== "tcp" || s.payload.length < 16 || s.payload.toString("latin1", 0, 5) !== "RTSP/")
      return false;
    // The reply goes from the server (src) to the client (dst).
    const tuples = rtspReplyMedia(s.payload.toString("latin1"), s.dst, s.src);
    if (!tuples.length) return false;
    const mark = ((bits & ~r.mask) | ((r.rtsp.media << r.shift) & r.mask)) >>> 0;
    const key = `${mark.toString(16)} ${tuples.map((t) => `${t.client}|${t.clientPort}|${t.server}|${t.serverPort}`).join(" ")}`;
    const now = this.now;
    let h = this.held.get(key);
    // A reply seen long ago (a new SETUP on the same ports): ask again (a refresh).
    if (h?.ready && now - h.since > 10 * RTSP_HOLD_SECONDS) {
      this.held.delete(key);
      h = undefined;
    }
    if (h === undefined) {
      if (this.held.size >= RTSP_HELD_MAX)
        for (const [k, v] of this.held) if (v.ready || now - v.since > RTSP_HOLD_SECONDS) this.held.delete(k);
      if (this.held.size >= RTSP_HELD_MAX) return false;
      this.held.set(key, { since: now, ready: false });
      this.counters.rtspHeld++;
      this.onMedia({ queue: this.queue, key, elements: tuples.map((tuple) => ({ tuple, mark })) });
      return !this.held.get(key)!.ready;
    }
    if (h.ready) return false;
    if (now - h.since < RTSP_HOLD_SECONDS) return true;
    h.ready = true; // waited long enough: the media is classified on its own
    return false;
  }

  private verdict(mark: number, l7: number, bits: number): number {
    this.verdicts[l7] = (this.verdicts[l7] ?? 0) + 1;
    return ((mark & this.keep) | bits) >>> 0;
  }

  /** The record a decided flow keeps: a shared one when it has no host name. */
  private recordOf(mark: number, appId: number, hostname: string | null): DecidedRecord {
    if (hostname !== null) return { mark, appId, hostname, bits: 0, hostRule: 0, generation: -1 };
    const id = mark * 0x1_0000_0000 + appId;
    let rec = this.sharedRecords.get(id);
    if (rec === undefined) {
      if (this.sharedRecords.size >= SHARED_RECORDS_MAX) this.sharedRecords.clear();
      rec = { mark, appId, hostname: null, bits: 0, hostRule: 0, generation: -1 };
      this.sharedRecords.set(id, rec);
    }
    return rec;
  }

  /** A decided flow's mark bits under the current routing. */
  private bitsOf(rec: DecidedRecord): number {
    if (rec.generation === this.generation) return rec.bits;
    const r = this.r;
    let bits = (rec.mark << r.shift) & r.mask;
    let hostRule = 0;
    if (rec.appId) bits |= (rec.appId << r.app.shift) & r.app.mask;
    if (rec.hostname) {
      const i = this.hostnames.first(rec.hostname);
      if (i >= 0) {
        hostRule = r.hostRules[i]!.id;
        bits |= (hostRule << r.host.shift) & r.host.mask;
      }
    }
    rec.bits = bits >>> 0;
    rec.hostRule = hostRule;
    rec.generation = this.generation;
    return rec.bits;
  }
}
