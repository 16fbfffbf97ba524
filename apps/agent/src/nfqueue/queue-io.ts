// One NFQUEUE queue: opened and configured through libnetfilter_queue, then served in one
// of two ways:
//   "fast"   recvmmsg() a batch of messages into native memory, parse them in JS (no FFI
//            call per packet), and send every verdict of the batch with one send()
//            (NFQNL_MSG_VERDICT_BATCH messages, one per run of packets with the same mark);
//   "libnfq" the textbook loop: recv() one message, nfq_handle_packet() -> callback ->
//            nfq_get_msg_packet_hdr/nfq_get_nfmark/nfq_get_payload -> nfq_set_verdict2().
// The packet handler decides the mark; every packet is accepted, but for a negative answer
// (dropped: a held RTSP SETUP reply, see packet-classifier.ts).

import {
  AF_INET,
  AF_INET6,
  EAGAIN,
  EINTR,
  ENOBUFS,
  MSG_DONTWAIT,
  NF_ACCEPT,
  NF_DROP,
  NFQA_CFG_F_FAIL_OPEN,
  NFQA_CFG_F_GSO,
  NFQNL_COPY_PACKET,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_RCVTIMEO,
  MSG_WAITFORONE,
  SOL_SOCKET,
  allocNative,
  copyFrom,
  errnoMessage,
  libC,
  libnfq,
  type LibC,
  type LibNfq,
  type NativeBuffer,
  type Pointer,
} from "./libnfq.ts";
import { VERDICT_MSG_LEN, VerdictBatch, parseMessages, type PacketView, type ParseSink } from "./netlink.ts";
import type koffi from "koffi";

export type QueueIoMode = "fast" | "libnfq";

export interface NfQueueOptions {
  queue: number;
  /** Bytes of each packet copied to userspace. */
  copyRange: number;
  /** Kernel queue length (packets waiting for a verdict) before fail-open/drop. */
  maxlen: number;
  /** Accept packets (instead of dropping them) when the queue is full. */
  failOpen: boolean;
  /** Let GSO super-packets be queued whole instead of segmented first. */
  gso: boolean;
  /** Messages received per recvmmsg() call. */
  batch: number;
  /** Socket receive buffer (SO_RCVBUFFORCE). */
  rcvbufBytes: number;
  io: QueueIoMode;
  /** How long a blocking receive waits before giving the event loop its turn (ms). */
  waitMs: number;
}

export const DEFAULT_QUEUE_OPTIONS: Omit<NfQueueOptions, "queue"> = {
  copyRange: 2048 + 128,
  maxlen: 4096,
  failOpen: true,
  gso: true,
  batch: 64,
  rcvbufBytes: 8 * 1024 * 1024,
  io: "fast",
  waitMs: 50,
};

/**
 * Decides a packet's mark. `buf[p.payloadOffset, +p.payloadLength)` is the IP packet; the
 * buffer is reused for the next batch, so copy anything kept beyond the call.
 */
export type PacketHandler = (p: PacketView, buf: Buffer) => number;

export interface QueueIoStats {
  /** recv() failures with ENOBUFS: the socket overflowed and packets were lost to us. */
  enobufs: number;
  recvErrors: number;
  sendErrors: number;
  /** NLMSG_ERROR answers from the kernel (e.g. a verdict for an unknown id). */
  netlinkErrors: number;
  /** Datagrams cut short by the receive buffer size (MSG_TRUNC). */
  truncated: number;
  recvCalls: number;
  sendCalls: number;
}

export type LogFn = (level: "info" | "warn" | "error", msg: string) => void;

// struct mmsghdr on x86_64/aarch64 (LP64): msghdr (56 bytes) + msg_len (4) + padding.
const MMSG_SIZE = 64;
const IOV_SIZE = 16;
const MSG_TRUNC = 0x20;
/** Room for the netlink, nfgenmsg and attribute headers around the copied packet. */
const NL_OVERHEAD = 512;

export class NfQueue {
  readonly options: NfQueueOptions;
  readonly stats: QueueIoStats = {
    enobufs: 0,
    recvErrors: 0,
    sendErrors: 0,
    netlinkErrors: 0,
    truncated: 0,
    recvCalls: 0,
    sendCalls: 0,
  };
  private readonly nfq: LibNfq;
  private readonly c: LibC;
  private readonly handler: PacketHandler;
  private readonly beforeBatch: () => void;
  private readonly log: LogFn;
  private h: Pointer | null = null;
  private qh: Pointer | null = null;
  private cb: koffi.IKoffiRegisteredCallback | null = null;
  private fd = -1;
  private readonly ring: NativeBuffer;
  private readonly slotSize: number;
  private readonly slots: number;
  private readonly dataOffset: number;
  private readonly verdictMem: NativeBuffer;
  private readonly verdicts: VerdictBatch;
  private readonly payloadOut: [Pointer | null] = [null];
  private readonly addrOut = Buffer.alloc(8);
  private readonly ringBase: number;
  private readonly cbView: PacketView = {
    id: 0,
    hwProtocol: 0,
    mark: 0,
    payloadOffset: 0,
    payloadLength: 0,
    length: 0,
  };
  private readonly sink: ParseSink;
  private closed = false;

  private constructor(options: NfQueueOptions, handler: PacketHandler, log: LogFn, beforeBatch: () => void) {
    this.options = options;
    this.handler = handler;
    this.beforeBatch = beforeBatch;
    this.log = log;
    this.nfq = libnfq();
    this.c = libC();
    this.slots = options.io === "fast" ? Math.max(1, options.batch) : 1;
    this.slotSize = (options.copyRange + NL_OVERHEAD + 63) & ~63;
    this.dataOffset = (this.slots * (MMSG_SIZE + IOV_SIZE) + 63) & ~63;
    this.ring = allocNative(this.dataOffset + this.slots * this.slotSize);
    this.ringBase = Number(this.ring.address);
    const b = this.ring.buf;
    for (let i = 0; i < this.slots; i++) {
      const iov = this.slots * MMSG_SIZE + i * IOV_SIZE;
      b.writeBigUInt64LE(this.ring.address + BigInt(this.dataOffset + i * this.slotSize), iov);
      b.writeBigUInt64LE(BigInt(this.slotSize), iov + 8);
      const m = i * MMSG_SIZE;
      b.writeBigUInt64LE(0n, m); // msg_name
      b.writeUInt32LE(0, m + 8); // msg_namelen
      b.writeBigUInt64LE(this.ring.address + BigInt(iov), m + 16); // msg_iov
      b.writeBigUInt64LE(1n, m + 24); // msg_iovlen
      b.writeBigUInt64LE(0n, m + 32); // msg_control
      b.writeBigUInt64LE(0n, m + 40); // msg_controllen
    }
    this.verdictMem = allocNative((this.slots * 4 + 8) * VERDICT_MSG_LEN);
    this.verdicts = new VerdictBatch(this.verdictMem.buf, options.queue);
    const ringBuf = this.ring.buf;
    this.sink = {
      packet: (p) => {
        const mark = this.handler(p, ringBuf);
        if (this.verdicts.full) this.flushVerdicts();
        // A negative answer drops the packet (a held RTSP reply: TCP sends it again).
        if (mark < 0) this.verdicts.add(p.id, NF_DROP, 0);
        else this.verdicts.add(p.id, NF_ACCEPT, mark);
      },
      error: (errno) => {
        this.stats.netlinkErrors++;
        if (this.stats.netlinkErrors <= 5) this.log("warn", `queue ${options.queue}: netlink error ${errno}`);
      },
    };
  }

  /** Opens, binds and configures the queue; throws with the reason when it can't. */
  static open(
    options: NfQueueOptions,
    handler: PacketHandler,
    log: LogFn = () => {},
    beforeBatch: () => void = () => {},
  ): NfQueue {
    const q = new NfQueue(options, handler, log, beforeBatch);
    try {
      q.setup();
    } catch (e) {
      q.close();
      throw e;
    }
    return q;
  }

  private setup(): void {
    const { nfq, c, options } = this;
    const h = nfq.nfq_open();
    if (!h) throw new Error(`nfq_open failed: ${errnoMessage(c.errno())} (root / CAP_NET_ADMIN needed)`);
    this.h = h;
    // No-ops on kernels >= 3.8; older ones need the protocol families bound to nfnetlink_queue.
    for (const pf of [AF_INET, AF_INET6]) {
      nfq.nfq_unbind_pf(h, pf);
      nfq.nfq_bind_pf(h, pf);
    }
    this.cb = nfq.registerCallback((_qh, _nfmsg, nfad) => this.onCallback(nfad));
    const qh = nfq.nfq_create_queue(h, options.queue, this.cb, null);
    if (!qh) {
      throw new Error(
        `nfq_create_queue(${options.queue}) failed: ${errnoMessage(c.errno())} (is another program bound to this queue?)`,
      );
    }
    this.qh = qh;
    if (nfq.nfq_set_mode(qh, NFQNL_COPY_PACKET, options.copyRange) < 0)
      throw new Error(`nfq_set_mode failed: ${errnoMessage(c.errno())}`);
    if (nfq.nfq_set_queue_maxlen(qh, options.maxlen) < 0)
      this.log("warn", `queue ${options.queue}: nfq_set_queue_maxlen failed: ${errnoMessage(c.errno())}`);
    const mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
    const flags = (options.failOpen ? NFQA_CFG_F_FAIL_OPEN : 0) | (options.gso ? NFQA_CFG_F_GSO : 0);
    if (nfq.nfq_set_queue_flags(qh, mask, flags) < 0)
      this.log("warn", `queue ${options.queue}: nfq_set_queue_flags failed: ${errnoMessage(c.errno())}`);
    this.fd = nfq.nfq_fd(h);
    const v = Buffer.alloc(4);
    v.writeInt32LE(options.rcvbufBytes);
    if (c.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUFFORCE, v, 4) < 0)
      c.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, v, 4);
    // A blocking receive gives up after this long, so the worker's event loop gets its turn.
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(BigInt(Math.floor(options.waitMs / 1000)), 0);
    tv.writeBigInt64LE(BigInt((options.waitMs % 1000) * 1000), 8);
    if (c.setsockopt(this.fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) < 0)
      throw new Error(`setsockopt(SO_RCVTIMEO) failed: ${errnoMessage(c.errno())}`);
  }

  get queue(): number {
    return this.options.queue;
  }

  /**
   * Handles what is waiting, up to `maxCalls` receive calls; returns the number of packets
   * handled (0 when there was nothing). With `block`, the first call waits for a packet (at
   * most `waitMs`): one syscall wakes us up and receives the batch, no poll() first.
   */
  pump(maxCalls: number, block = false): number {
    return this.options.io === "fast" ? this.pumpFast(maxCalls, block) : this.pumpLibnfq(maxCalls, block);
  }

  private pumpFast(maxCalls: number, block: boolean): number {
    const { c, ring, fd, slots } = this;
    const b = ring.buf;
    let total = 0;
    for (let call = 0; call < maxCalls; call++) {
      const flags = block && call === 0 ? MSG_WAITFORONE : MSG_DONTWAIT;
      const n = c.recvmmsg(fd, ring.ptr, slots, flags, null);
      this.stats.recvCalls++;
      if (n < 0) {
        if (this.recvFailed(c.errno())) continue;
        break;
      }
      if (n === 0) break;
      this.beforeBatch();
      for (let i = 0; i < n; i++) {
        const m = i * MMSG_SIZE;
        const len = b.readUInt32LE(m + 56);
        if ((b.readInt32LE(m + 48) & MSG_TRUNC) !== 0) this.stats.truncated++;
        total += parseMessages(
          b,
          this.dataOffset + i * this.slotSize,
          Math.min(len, this.slotSize),
          this.sink,
        );
      }
      this.flushVerdicts();
      if (n < slots) break;
    }
    return total;
  }

  private pumpLibnfq(maxCalls: number, block: boolean): number {
    const { c, nfq, ring, fd } = this;
    const slot = ring.buf.subarray(this.dataOffset, this.dataOffset + this.slotSize);
    let total = 0;
    for (let call = 0; call < maxCalls; call++) {
      const n = c.recv(fd, slot, this.slotSize, block && call === 0 ? 0 : MSG_DONTWAIT);
      this.stats.recvCalls++;
      if (n < 0) {
        if (this.recvFailed(c.errno())) continue;
        break;
      }
      if (n === 0) break;
      nfq.nfq_handle_packet(this.h!, slot, n);
      total++;
    }
    return total;
  }

  /** Returns true to keep receiving (ENOBUFS/EINTR), false to stop this pump. */
  private recvFailed(errno: number): boolean {
    if (errno === EAGAIN) return false;
    if (errno === ENOBUFS) {
      // The socket overflowed: the kernel lost (fail-open: accepted) packets we never saw.
      this.stats.enobufs++;
      if (this.stats.enobufs === 1 || this.stats.enobufs % 1000 === 0)
        this.log(
          "warn",
          `queue ${this.queue}: ENOBUFS (${this.stats.enobufs} so far): receive buffer overflowed, packets were not seen`,
        );
      return true;
    }
    if (errno === EINTR) return true;
    this.stats.recvErrors++;
    if (this.stats.recvErrors <= 5)
      this.log("error", `queue ${this.queue}: recv failed: ${errnoMessage(errno)}`);
    return false;
  }

  private flushVerdicts(): void {
    const v = this.verdicts;
    v.close();
    if (v.length > 0) {
      this.stats.sendCalls++;
      if (this.c.send(this.fd, this.verdictMem.ptr, v.length, 0) < 0) {
        this.stats.sendErrors++;
        if (this.stats.sendErrors <= 5)
          this.log("error", `queue ${this.queue}: verdict send failed: ${errnoMessage(this.c.errno())}`);
      }
    }
    v.reset();
  }

  /**
   * libnetfilter_queue's callback: every packet in "libnfq" mode, and in "fast" mode the
   * packets that arrive while libnetfilter_queue itself reads the socket (setup/teardown).
   */
  private onCallback(nfad: Pointer): number {
    const { nfq, ringBase } = this;
    const ring = this.ring.buf;
    const view = this.cbView;
    // Addresses as numbers (user-space addresses fit in 53 bits): the message normally sits
    // in our receive slot, so the header and payload are read in place.
    const hdr = nfq.nfq_get_msg_packet_hdr_addr(nfad);
    if (!hdr) return 0;
    let buf = ring;
    const hdrOff = hdr - ringBase;
    if (hdrOff >= 0 && hdrOff + 7 <= ring.length) {
      view.id = ring.readUInt32BE(hdrOff);
      view.hwProtocol = ring.readUInt16BE(hdrOff + 4);
    } else {
      // libnetfilter_queue's own buffer (a packet that came while it was talking to the kernel).
      const h = copyFrom(nfq.nfq_get_msg_packet_hdr(nfad)!, 7);
      view.id = h.readUInt32BE(0);
      view.hwProtocol = h.readUInt16BE(4);
    }
    view.mark = nfq.nfq_get_nfmark(nfad) >>> 0;
    const len = nfq.nfq_get_payload_addr(nfad, this.addrOut);
    view.payloadOffset = 0;
    view.payloadLength = 0;
    if (len > 0) {
      const addr = this.addrOut.readUInt32LE(0) + this.addrOut.readUInt32LE(4) * 2 ** 32;
      const off = addr - ringBase;
      if (off >= 0 && off + len <= ring.length) {
        view.payloadOffset = off;
      } else {
        nfq.nfq_get_payload(nfad, this.payloadOut);
        buf = copyFrom(this.payloadOut[0]!, len);
      }
      view.payloadLength = len;
    }
    view.length = view.payloadLength;
    this.beforeBatch();
    const mark = this.handler(view, buf);
    this.stats.sendCalls++;
    const verdict = mark < 0 ? NF_DROP : NF_ACCEPT;
    if (nfq.nfq_set_verdict2(this.qh!, view.id, verdict, mark < 0 ? 0 : mark >>> 0, 0, null) < 0)
      this.stats.sendErrors++;
    return 0;
  }

  /**
   * Gives a verdict to what is still waiting, unbinds the queue and closes the handle.
   * (Packets queued after this follow the rule's --queue-bypass.)
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.qh) {
        this.pump(64);
        this.nfq.nfq_destroy_queue(this.qh);
      }
      if (this.h) this.nfq.nfq_close(this.h);
    } finally {
      this.qh = null;
      this.h = null;
      if (this.cb) this.nfq.unregisterCallback(this.cb);
      this.cb = null;
      this.ring.free();
      this.verdictMem.free();
    }
  }
}
