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
    /** A copy of `a` in a new array of the same type and length `n`. */
    const grown = <A extends Float64Array | Int32Array | Uint32Array>(a: A): A => {
      const g = new (a.constructor as new (length: number) => A)(n);
      g.set(a);
      return g;
    };
    this.id = grown(this.id);
    this.ports = grown(this.ports);
    this.bitsOf = grown(this.bitsOf);
    this.firstSeen = grown(this.firstSeen);
    this.lastSeenOf = grown(this.lastSeenOf);
    this.packetsC2S = grown(this.packetsC2S);
    this.packetsS2C = grown(this.packetsS2C);
    this.bytesC2S = grown(this.bytesC2S);
    this.bytesS2C = grown(this.bytesS2C);
    this.inspectedBytes = grown(this.inspectedBytes);
    this.subjectBlock = grown(this.subjectBlock);
    this.subjectUsed = grown(this.subjectUsed);
  }
}
