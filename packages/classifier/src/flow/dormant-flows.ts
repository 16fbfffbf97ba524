// Flows under plain inspection between their packets, kept as slots of typed arrays instead
// of objects (FlowTableOptions.compact: the data plane's workers, where 100,000 flows in
// the middle of their window were most of the heap). A "plain" flow is one whose state is
// only numbers and its two address strings: inside its window, no TCP reassembly or
// dissector state, no host name or app yet (a UDP flow no dissector reads: the junk flows
// of an overload). Its `Flow` is made again from the slot when its next packet comes.
// Slots are the flow index's entries (flow/flow-index.ts); arrays grow with them.

import { Flow, FLOW_TCP, FLOW_V6 } from "./flow.ts";
import { MARK_UNSET } from "../config-file.ts";

export class DormantFlows {
  private id = new Float64Array(0);
  private clientIp: string[] = [];
  private serverIp: string[] = [];
  private ports = new Int32Array(0);
  private bitsOf = new Int32Array(0);
  private firstSeen = new Float64Array(0);
  private lastSeenOf = new Float64Array(0);
  private packetsC2S = new Int32Array(0);
  private packetsS2C = new Int32Array(0);
  // A flow in its window has carried a few packets' bytes at most.
  private bytesC2S = new Uint32Array(0);
  private bytesS2C = new Uint32Array(0);
  private inspectedBytes = new Int32Array(0);
  private subjectBlock = new Int32Array(0);
  private subjectUsed = new Int32Array(0);

  /** Keeps `flow` (a plain one, see Flow.plain) in slot `s`. */
  save(s: number, flow: Flow): void {
    if (s >= this.ports.length) this.grow(s + 1);
    this.id[s] = flow.id;
    this.clientIp[s] = flow.clientIp;
    this.serverIp[s] = flow.serverIp;
    this.ports[s] = (flow.clientPort << 16) | flow.serverPort;
    this.bitsOf[s] = flow.bits;
    this.firstSeen[s] = flow.firstSeen;
    this.lastSeenOf[s] = flow.lastSeen;
    this.packetsC2S[s] = flow.packetsC2S;
    this.packetsS2C[s] = flow.packetsS2C;
    this.bytesC2S[s] = flow.bytesC2S;
    this.bytesS2C[s] = flow.bytesS2C;
    this.inspectedBytes[s] = flow.inspectedBytes;
    this.subjectBlock[s] = flow.subjectBlock;
    this.subjectUsed[s] = flow.subjectUsed;
  }

  /** The flow kept in slot `s`, as an object again (the slot is then free to reuse). */
  restore(s: number): Flow {
    const bits = this.bitsOf[s]!;
    const ports = this.ports[s]!;
    const f = new Flow(
      this.id[s]!,
      bits & FLOW_TCP ? "tcp" : "udp",
      bits & FLOW_V6 ? 6 : 4,
      this.clientIp[s]!,
      ports >>> 16,
      this.serverIp[s]!,
      ports & 0xffff,
      this.firstSeen[s]!,
      MARK_UNSET,
      bits,
    );
    f.lastSeen = this.lastSeenOf[s]!;
    f.packetsC2S = this.packetsC2S[s]!;
    f.packetsS2C = this.packetsS2C[s]!;
    f.bytesC2S = this.bytesC2S[s]!;
    f.bytesS2C = this.bytesS2C[s]!;
    f.inspectedBytes = this.inspectedBytes[s]!;
    f.subjectBlock = this.subjectBlock[s]!;
    f.subjectUsed = this.subjectUsed[s]!;
    return f;
  }

  /** The FLOW_* bits of the flow in slot `s`. */
  bits(s: number): number {
    return this.bitsOf[s]!;
  }

  setBits(s: number, bits: number): void {
    this.bitsOf[s] = bits;
  }

  lastSeen(s: number): number {
    return this.lastSeenOf[s]!;
  }

  private grow(need: number): void {
    const n = Math.max(1024, need, this.ports.length * 2);
    const f64 = (a: Float64Array) => {
      const g = new Float64Array(n);
      g.set(a);
      return g;
    };
    const i32 = (a: Int32Array) => {
      const g = new Int32Array(n);
      g.set(a);
      return g;
    };
    const u32 = (a: Uint32Array) => {
      const g = new Uint32Array(n);
      g.set(a);
      return g;
    };
    this.id = f64(this.id);
    this.ports = i32(this.ports);
    this.bitsOf = i32(this.bitsOf);
    this.firstSeen = f64(this.firstSeen);
    this.lastSeenOf = f64(this.lastSeenOf);
    this.packetsC2S = i32(this.packetsC2S);
    this.packetsS2C = i32(this.packetsS2C);
    this.bytesC2S = u32(this.bytesC2S);
    this.bytesS2C = u32(this.bytesS2C);
    this.inspectedBytes = i32(this.inspectedBytes);
    this.subjectBlock = i32(this.subjectBlock);
    this.subjectUsed = i32(this.subjectUsed);
  }
}
