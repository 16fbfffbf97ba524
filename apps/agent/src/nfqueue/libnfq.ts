// Bindings to libnetfilter_queue.so.1 (and the few libc socket calls the data plane needs)
// through koffi: no native addon to build. Loaded lazily, once per thread (each worker
// thread has its own module instance; the types below are anonymous so that loading the
// module in several threads never collides on koffi's type names).

import koffi from "koffi";

export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_REPEAT = 4;

export const NFQNL_COPY_NONE = 0;
export const NFQNL_COPY_META = 1;
export const NFQNL_COPY_PACKET = 2;

export const NFQA_CFG_F_FAIL_OPEN = 1 << 0;
export const NFQA_CFG_F_CONNTRACK = 1 << 1;
export const NFQA_CFG_F_GSO = 1 << 2;

export const AF_INET = 2;
export const AF_INET6 = 10;

export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_NO_ENOBUFS = 5;

export const SO_RCVTIMEO = 20;
export const MSG_DONTWAIT = 0x40;
export const MSG_WAITFORONE = 0x10000;
export const POLLIN = 0x1;

export const EINTR = 4;
export const EAGAIN = 11;
export const ENOBUFS = 105;

/** Opaque C pointers as koffi hands them out. */
export type Pointer = object;

/**
 * The JS side of `nfq_callback`: (queue handle, nfgenmsg, nfq_data, user data) -> int.
 * Return >= 0 to let libnetfilter_queue carry on with the buffer, < 0 to stop it.
 */
export type NfqCallback = (qh: Pointer, nfmsg: Pointer, nfad: Pointer, data: Pointer | null) => number;

export interface LibNfq {
  nfq_open(): Pointer | null;
  nfq_close(h: Pointer): number;
  nfq_bind_pf(h: Pointer, pf: number): number;
  nfq_unbind_pf(h: Pointer, pf: number): number;
  nfq_create_queue(h: Pointer, num: number, cb: koffi.IKoffiRegisteredCallback, data: null): Pointer | null;
  nfq_destroy_queue(qh: Pointer): number;
  nfq_set_mode(qh: Pointer, mode: number, range: number): number;
  nfq_set_queue_maxlen(qh: Pointer, len: number): number;
  nfq_set_queue_flags(qh: Pointer, mask: number, flags: number): number;
  nfq_fd(h: Pointer): number;
  nfq_handle_packet(h: Pointer, buf: Buffer | Pointer, len: number): number;
  nfq_get_msg_packet_hdr(nfad: Pointer): Pointer | null;
  /** The same, as a numeric address (0 for none): no pointer object, no BigInt. */
  nfq_get_msg_packet_hdr_addr(nfad: Pointer): number;
  /** `data` receives the payload pointer in data[0]. */
  nfq_get_payload(nfad: Pointer, data: [Pointer | null]): number;
  /** The same, writing the payload's address into `out` (8 bytes, host order). */
  nfq_get_payload_addr(nfad: Pointer, out: Buffer): number;
  nfq_get_nfmark(nfad: Pointer): number;
  nfq_set_verdict(qh: Pointer, id: number, verdict: number, len: number, buf: null): number;
  nfq_set_verdict2(qh: Pointer, id: number, verdict: number, mark: number, len: number, buf: null): number;
  nfq_set_verdict_batch(qh: Pointer, id: number, verdict: number): number;
  nfq_set_verdict_batch2(qh: Pointer, id: number, verdict: number, mark: number): number;
  /** Registers a JS callback for nfq_create_queue (unregister it after nfq_destroy_queue). */
  registerCallback(cb: NfqCallback): koffi.IKoffiRegisteredCallback;
  unregisterCallback(cb: koffi.IKoffiRegisteredCallback): void;
}

export interface LibC {
  recv(fd: number, buf: Buffer | Pointer, len: number, flags: number): number;
  recvmmsg(fd: number, msgvec: Buffer | Pointer, vlen: number, flags: number, timeout: null): number;
  send(fd: number, buf: Buffer | Pointer, len: number, flags: number): number;
  poll(fds: Buffer, nfds: number, timeoutMs: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  malloc(size: number): Pointer | null;
  free(p: Pointer): void;
  strerror(errnum: number): string;
  errno(): number;
}

let nfq: LibNfq | null = null;
let libc: LibC | null = null;

/** libnetfilter_queue, loaded on first use; throws a readable error when it is missing. */
export function libnfq(): LibNfq {
  if (nfq) return nfq;
  let lib: koffi.IKoffiLib;
  try {
    lib = koffi.load("libnetfilter_queue.so.1");
  } catch (e) {
    throw new Error(
      `cannot load libnetfilter_queue.so.1 (apt-get install libnetfilter-queue1): ${(e as Error).message}`,
      { cause: e },
    );
  }
  const handle = koffi.pointer(koffi.opaque());
  const qhandle = koffi.pointer(koffi.opaque());
  const data = koffi.pointer(koffi.opaque());
  const proto = koffi.proto("int", [qhandle, "void *", data, "void *"]);
  const cbPtr = koffi.pointer(proto);
  const f = (name: string, ret: koffi.TypeSpec, args: koffi.TypeSpec[]) => lib.func(name, ret, args);
  const fns = {
    nfq_open: f("nfq_open", handle, []),
    nfq_close: f("nfq_close", "int", [handle]),
    nfq_bind_pf: f("nfq_bind_pf", "int", [handle, "uint16_t"]),
    nfq_unbind_pf: f("nfq_unbind_pf", "int", [handle, "uint16_t"]),
    nfq_create_queue: f("nfq_create_queue", qhandle, [handle, "uint16_t", cbPtr, "void *"]),
    nfq_destroy_queue: f("nfq_destroy_queue", "int", [qhandle]),
    nfq_set_mode: f("nfq_set_mode", "int", [qhandle, "uint8_t", "uint32_t"]),
    nfq_set_queue_maxlen: f("nfq_set_queue_maxlen", "int", [qhandle, "uint32_t"]),
    nfq_set_queue_flags: f("nfq_set_queue_flags", "int", [qhandle, "uint32_t", "uint32_t"]),
    nfq_fd: f("nfq_fd", "int", [handle]),
    nfq_handle_packet: f("nfq_handle_packet", "int", [handle, "void *", "int"]),
    nfq_get_msg_packet_hdr: f("nfq_get_msg_packet_hdr", "void *", [data]),
    nfq_get_msg_packet_hdr_addr: f("nfq_get_msg_packet_hdr", "uintptr_t", [data]),
    nfq_get_payload: f("nfq_get_payload", "int", [data, koffi.out(koffi.pointer("void *"))]),
    nfq_get_payload_addr: f("nfq_get_payload", "int", [data, "void *"]),
    nfq_get_nfmark: f("nfq_get_nfmark", "uint32_t", [data]),
    nfq_set_verdict: f("nfq_set_verdict", "int", [qhandle, "uint32_t", "uint32_t", "uint32_t", "void *"]),
    nfq_set_verdict2: f("nfq_set_verdict2", "int", [
      qhandle,
      "uint32_t",
      "uint32_t",
      "uint32_t",
      "uint32_t",
      "void *",
    ]),
    nfq_set_verdict_batch: f("nfq_set_verdict_batch", "int", [qhandle, "uint32_t", "uint32_t"]),
    nfq_set_verdict_batch2: f("nfq_set_verdict_batch2", "int", [qhandle, "uint32_t", "uint32_t", "uint32_t"]),
  };
  nfq = {
    ...(fns as unknown as Omit<LibNfq, "registerCallback" | "unregisterCallback">),
    registerCallback: (cb) => koffi.register(cb, cbPtr),
    unregisterCallback: (cb) => koffi.unregister(cb),
  };
  return nfq;
}

/** The libc calls (recv, recvmmsg, send, poll, setsockopt, malloc/free). */
export function libC(): LibC {
  if (libc) return libc;
  const lib = koffi.load("libc.so.6");
  const strerror = lib.func("strerror", "const char *", ["int"]);
  const fns = {
    recv: lib.func("recv", "long", ["int", "void *", "size_t", "int"]),
    recvmmsg: lib.func("recvmmsg", "int", ["int", "void *", "unsigned int", "int", "void *"]),
    send: lib.func("send", "long", ["int", "void *", "size_t", "int"]),
    poll: lib.func("poll", "int", ["void *", "unsigned long", "int"]),
    setsockopt: lib.func("setsockopt", "int", ["int", "int", "int", "void *", "uint32_t"]),
    malloc: lib.func("malloc", "void *", ["size_t"]),
    free: lib.func("free", "void", ["void *"]),
  };
  libc = {
    ...(fns as unknown as Omit<LibC, "strerror" | "errno">),
    strerror: (n) => strerror(n) as string,
    errno: () => koffi.errno(),
  };
  return libc;
}

/** Native memory seen from JS without copies (released with `free`). */
export interface NativeBuffer {
  ptr: Pointer;
  /** The memory's address, to compute offsets of pointers that point into it. */
  address: bigint;
  buf: Buffer;
  free(): void;
}

export function allocNative(size: number): NativeBuffer {
  const c = libC();
  const ptr = c.malloc(size);
  if (!ptr) throw new Error(`malloc(${size}) failed`);
  const buf = Buffer.from(koffi.view(ptr, size));
  buf.fill(0);
  let freed = false;
  return {
    ptr,
    address: koffi.address(ptr),
    buf,
    free() {
      if (freed) return;
      freed = true;
      c.free(ptr);
    },
  };
}

/** The numeric address of a pointer koffi returned. */
export function addressOf(p: Pointer): bigint {
  return koffi.address(p);
}

/** A copy of `len` bytes at a native pointer. */
export function copyFrom(p: Pointer, len: number): Buffer {
  return Buffer.from(new Uint8Array(koffi.view(p, len)));
}

export function errnoMessage(errno: number): string {
  return `${libC().strerror(errno)} (errno ${errno})`;
}
