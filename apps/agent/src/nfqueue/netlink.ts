// The NFQUEUE netlink messages the hot path reads and writes directly, so that a batch of
// packets costs one recvmmsg and one send instead of several FFI calls per packet:
// NFQNL_MSG_PACKET (kernel -> us) is parsed in JS straight from the receive buffer, and
// NFQNL_MSG_VERDICT_BATCH messages (us -> kernel) are written into a native buffer.
// The layouts are the stable uapi ones (linux/netfilter/nfnetlink_queue.h).

const NLMSG_HDRLEN = 16;
const NFGENMSG_LEN = 4;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const NFNL_SUBSYS_QUEUE = 3;
export const NFQNL_MSG_PACKET_TYPE = (NFNL_SUBSYS_QUEUE << 8) | 0;
export const NFQNL_MSG_VERDICT_TYPE = (NFNL_SUBSYS_QUEUE << 8) | 1;
export const NFQNL_MSG_VERDICT_BATCH_TYPE = (NFNL_SUBSYS_QUEUE << 8) | 3;

const NLA_TYPE_MASK = 0x3fff;
const NFQA_PACKET_HDR = 1;
const NFQA_VERDICT_HDR = 2;
const NFQA_MARK = 3;
const NFQA_PAYLOAD = 10;
const NFQA_CAP_LEN = 15;

/** Bytes of one verdict message: nlmsghdr + nfgenmsg + verdict header + mark attributes. */
export const VERDICT_MSG_LEN = NLMSG_HDRLEN + NFGENMSG_LEN + 12 + 8;

/** One packet message, reused for every packet (read it before the next one is parsed). */
export interface PacketView {
  id: number;
  hwProtocol: number;
  /** The packet's nfmark (0 when the kernel sent none). */
  mark: number;
  /** Offset and length of the (possibly truncated) IP packet inside the buffer. */
  payloadOffset: number;
  payloadLength: number;
  /** The packet's full length (NFQA_CAP_LEN when it was truncated, else payloadLength). */
  length: number;
}

export interface ParseSink {
  packet(p: PacketView): void;
  /** An NLMSG_ERROR with a non-zero error (e.g. a rejected verdict). */
  error(errno: number): void;
}

const scratch: PacketView = {
  id: 0,
  hwProtocol: 0,
  mark: 0,
  payloadOffset: 0,
  payloadLength: 0,
  length: 0,
};

/**
 * Parses the netlink messages in buf[start, start+len) and reports each packet to `sink`.
 * Returns the number of packets seen.
 */
export function parseMessages(buf: Buffer, start: number, len: number, sink: ParseSink): number {
  const end = start + len;
  let off = start;
  let n = 0;
  while (off + NLMSG_HDRLEN <= end) {
    const msgLen = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    if (msgLen < NLMSG_HDRLEN) break;
    // A truncated datagram (MSG_TRUNC) still carries the packet header first: read what we have.
    const msgEnd = Math.min(off + msgLen, end);
    if (type === NFQNL_MSG_PACKET_TYPE) {
      if (parsePacket(buf, off + NLMSG_HDRLEN + NFGENMSG_LEN, msgEnd)) {
        sink.packet(scratch);
        n++;
      }
    } else if (type === NLMSG_ERROR && msgEnd - off >= NLMSG_HDRLEN + 4) {
      const err = -buf.readInt32LE(off + NLMSG_HDRLEN);
      if (err !== 0) sink.error(err);
    }
    off += (msgLen + 3) & ~3;
  }
  return n;
}

function parsePacket(buf: Buffer, off: number, end: number): boolean {
  let haveHdr = false;
  scratch.mark = 0;
  scratch.payloadOffset = 0;
  scratch.payloadLength = 0;
  let capLen = -1;
  while (off + 4 <= end) {
    const alen = buf.readUInt16LE(off);
    const atype = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (alen < 4) break;
    const dataEnd = Math.min(off + alen, end);
    switch (atype) {
      case NFQA_PACKET_HDR:
        if (dataEnd - off >= 4 + 6) {
          scratch.id = buf.readUInt32BE(off + 4);
          scratch.hwProtocol = buf.readUInt16BE(off + 8);
          haveHdr = true;
        }
        break;
      case NFQA_MARK:
        if (dataEnd - off >= 8) scratch.mark = buf.readUInt32BE(off + 4);
        break;
      case NFQA_PAYLOAD:
        scratch.payloadOffset = off + 4;
        scratch.payloadLength = dataEnd - off - 4;
        break;
      case NFQA_CAP_LEN:
        if (dataEnd - off >= 8) capLen = buf.readUInt32BE(off + 4);
        break;
    }
    off += (alen + 3) & ~3;
  }
  scratch.length = capLen >= 0 ? capLen : scratch.payloadLength;
  return haveHdr;
}

/**
 * Accumulates verdicts (accept + mark) for packets in the order they were received, and
 * writes them as NFQNL_MSG_VERDICT_BATCH messages: consecutive packets with the same mark
 * share one message (the kernel applies a batch verdict to every queued id <= the given one,
 * which are exactly the run's packets since verdicts are issued in arrival order).
 */
export class VerdictBatch {
  private readonly buf: Buffer;
  private readonly capacity: number;
  private readonly queueBE: number;
  private used = 0;
  private runId = -1;
  private runMark = 0;
  private runVerdict = 0;
  /** Messages in the buffer (runs closed so far). */
  messages = 0;
  /** Packets covered by the pending runs. */
  packets = 0;

  constructor(buf: Buffer, queue: number) {
    this.buf = buf;
    this.capacity = Math.floor(buf.length / VERDICT_MSG_LEN);
    this.queueBE = queue & 0xffff;
  }

  /** Bytes to send (after `close`). */
  get length(): number {
    return this.used;
  }

  get full(): boolean {
    return this.messages >= this.capacity - 1;
  }

  add(id: number, verdict: number, mark: number): void {
    if (this.runId >= 0 && (mark !== this.runMark || verdict !== this.runVerdict)) this.closeRun();
    this.runId = id;
    this.runMark = mark;
    this.runVerdict = verdict;
    this.packets++;
  }

  /** Closes the pending run: after this, `length` bytes of the buffer are ready to send. */
  close(): void {
    if (this.runId >= 0) this.closeRun();
  }

  reset(): void {
    this.used = 0;
    this.messages = 0;
    this.packets = 0;
    this.runId = -1;
  }

  private closeRun(): void {
    writeVerdict(
      this.buf,
      this.used,
      NFQNL_MSG_VERDICT_BATCH_TYPE,
      this.queueBE,
      this.runId,
      this.runVerdict,
      this.runMark,
    );
    this.used += VERDICT_MSG_LEN;
    this.messages++;
    this.runId = -1;
  }
}

/** Writes one verdict (or batch verdict) message with a mark at buf[off]. */
export function writeVerdict(
  buf: Buffer,
  off: number,
  type: number,
  queue: number,
  id: number,
  verdict: number,
  mark: number,
): void {
  buf.writeUInt32LE(VERDICT_MSG_LEN, off);
  buf.writeUInt16LE(type, off + 4);
  buf.writeUInt16LE(NLM_F_REQUEST, off + 6);
  buf.writeUInt32LE(0, off + 8); // seq
  buf.writeUInt32LE(0, off + 12); // portid
  buf[off + 16] = 0; // AF_UNSPEC
  buf[off + 17] = 0; // NFNETLINK_V0
  buf.writeUInt16BE(queue, off + 18);
  buf.writeUInt16LE(12, off + 20);
  buf.writeUInt16LE(NFQA_VERDICT_HDR, off + 22);
  buf.writeUInt32BE(verdict >>> 0, off + 24);
  buf.writeUInt32BE(id >>> 0, off + 28);
  buf.writeUInt16LE(8, off + 32);
  buf.writeUInt16LE(NFQA_MARK, off + 34);
  buf.writeUInt32BE(mark >>> 0, off + 36);
}
