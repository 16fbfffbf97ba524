// Netlink dumps in process, for the accounting sampler: one socket per netlink family
// (NETLINK_NETFILTER for conntrack and nftables objects, NETLINK_ROUTE for tc classes), a
// dump request, and the binary answer handed over message by message. No process is
// spawned and no text is built. The answer is read in slices (the kernel refills the socket
// as it is read), so a large dump never blocks the event loop for long. Sockets belong to
// the network namespace of the process (the agent runs in the box's namespace).

import koffi from "koffi";

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 1;
const NLM_F_DUMP = 0x300;
const NLA_TYPE_MASK = 0x3fff;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  if_nametoindex(name: string): number;
}

let libc: Libc | null = null;
function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load("libc.so.6");
  libc = {
    socket: l.func("socket", "int", ["int", "int", "int"]),
    close: l.func("close", "int", ["int"]),
    send: l.func("send", "long", ["int", "void *", "size_t", "int"]),
    recv: l.func("recv", "long", ["int", "void *", "size_t", "int"]),
    setsockopt: l.func("setsockopt", "int", ["int", "int", "int", "void *", "uint32_t"]),
    if_nametoindex: l.func("if_nametoindex", "unsigned int", ["const char *"]),
  } as unknown as Libc;
  return libc;
}

/** The interface index of a device in this namespace (0: no such device). */
export function ifIndex(name: string): number {
  return lib().if_nametoindex(name);
}

/** Calls fn(type, start, len) for each netlink attribute in buf[start, end). */
export function attrs(
  buf: Buffer,
  start: number,
  end: number,
  fn: (type: number, o: number, len: number) => void,
): void {
  let o = start;
  while (o + 4 <= end) {
    const len = buf.readUInt16LE(o);
    if (len < 4 || o + len > end) return;
    fn(buf.readUInt16LE(o + 2) & NLA_TYPE_MASK, o + 4, len - 4);
    o += (len + 3) & ~3;
  }
}

export const be64 = (b: Buffer, o: number) => b.readUInt32BE(o) * 2 ** 32 + b.readUInt32BE(o + 4);
export const le64 = (b: Buffer, o: number) => b.readUInt32LE(o + 4) * 2 ** 32 + b.readUInt32LE(o);

/** One netlink attribute (header, payload, padding). */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

export class NetlinkSocket {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(256 * 1024);
  private seq = 1;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** A socket, or null where there is none to have (no libc binding, no permission). */
  static open(protocol: number): NetlinkSocket | null {
    try {
      const c = lib();
      const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
      if (fd < 0) return null;
      const size = Buffer.alloc(4);
      size.writeInt32LE(4 * 1024 * 1024);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
      return new NetlinkSocket(fd);
    } catch {
      return null;
    }
  }

  /**
   * Sends a dump request (message `type`, `payload` after the netlink header) and calls
   * `onMessage(buf, start, end, type)` for each answer message (start: after the netlink
   * header). Dumps on one socket run one after the other. Rejects on a netlink error.
   */
  dump(
    type: number,
    payload: Buffer,
    onMessage: (buf: Buffer, start: number, end: number, type: number) => void,
    sliceMs = 5,
  ): Promise<void> {
    const run = this.busy.then(() => this.dumpNow(type, payload, onMessage, sliceMs));
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async dumpNow(
    type: number,
    payload: Buffer,
    onMessage: (buf: Buffer, start: number, end: number, type: number) => void,
    sliceMs: number,
  ): Promise<void> {
    const c = lib();
    const req = Buffer.alloc(16 + payload.length);
    const seq = this.seq++;
    req.writeUInt32LE(req.length, 0);
    req.writeUInt16LE(type, 4);
    req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
    req.writeUInt32LE(seq, 8);
    payload.copy(req, 16);
    if (c.send(this.fd, req, req.length, 0) !== req.length)
      throw new Error(`netlink: send failed (errno ${koffi.errno()})`);
    let sliceStart = Date.now();
    for (let idle = 0; ;) {
      const got = c.recv(this.fd, this.buf, this.buf.length, MSG_DONTWAIT);
      if (got < 0) {
        const e = koffi.errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN || ++idle > 2000) throw new Error(`netlink: recv failed (errno ${e})`);
        await new Promise((r) => setTimeout(r, 1));
        sliceStart = Date.now();
        continue;
      }
      idle = 0;
      let o = 0;
      while (o + 16 <= got) {
        const len = this.buf.readUInt32LE(o);
        const t = this.buf.readUInt16LE(o + 4);
        if (len < 16 || o + len > got) break;
        if (this.buf.readUInt32LE(o + 8) === seq) {
          if (t === NLMSG_DONE) return;
          if (t === NLMSG_ERROR) {
            const err = -this.buf.readInt32LE(o + 16);
            if (err === 0) return;
            throw new Error(`netlink: dump refused (errno ${err})`);
          }
          onMessage(this.buf, o + 16, o + len, t);
        }
        o += (len + 3) & ~3;
      }
      if (Date.now() - sliceStart >= sliceMs) {
        await new Promise((r) => setImmediate(r));
        sliceStart = Date.now();
      }
    }
  }

  close(): void {
    lib().close(this.fd);
  }
}
