// Streaming reader for pcap (microsecond and nanosecond, either byte order) and pcapng
// (SHB/IDB/EPB/SPB/PB, several sections and interfaces). Reads with positional reads, so a
// capture of any size is walked in constant memory. Errors say where and why, and the
// records read before the error have already been yielded.

import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { isSupportedLinkType, unsupportedLinkType } from "./decode.ts";

export interface CaptureRecord {
  /** Seconds since the epoch, with sub-second precision. */
  time: number;
  linkType: number;
  /** Captured bytes (may be shorter than the packet on the wire). */
  data: Buffer;
  wireLength: number;
  /** Byte offset of the record in the file. */
  offset: number;
  /**
   * Transient pcap records: the captured bytes are also `chunk[at, at + length)`, readable
   * without the Buffer view that reading `data` creates.
   */
  chunk?: Buffer;
  at?: number;
  length?: number;
}

/**
 * The one record a transient pcap read hands out, again and again: no object and no
 * Buffer view per packet (`data` makes the view only when asked).
 */
class TransientRecord implements CaptureRecord {
  time = 0;
  linkType = 0;
  wireLength = 0;
  offset = 0;
  chunk: Buffer = Buffer.alloc(0);
  at = 0;
  length = 0;
  get data(): Buffer {
    return this.chunk.subarray(this.at, this.at + this.length);
  }
}

export type CaptureFormat = "pcap" | "pcapng";

export class CaptureError extends Error {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
  constructor(file: string, offset: number, reason: string) {
    super(`${file}: at byte ${offset}: ${reason}`);
    this.name = "CaptureError";
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** Larger records are treated as corruption rather than allocated. */
const MAX_RECORD = 256 * 1024;

interface Source {
  size: number;
  /**
   * The bytes [offset, offset + length) (fewer at the end of the source). The view may
   * share memory with a larger chunk: callers that keep bytes past the next read copy them.
   */
  read(offset: number, length: number): Buffer;
  /**
   * Makes [offset, offset + length) readable in `chunk` and returns where it starts there,
   * or -1 when the source ends first: fixed-size headers are read without a Buffer view.
   */
  locate(offset: number, length: number): number;
  readonly chunk: Buffer;
  /** Records are valid only until the next one is read (see ReadOptions). */
  readonly transient: boolean;
}

/** Bytes read from the file at once: one read per chunk instead of two per packet. */
const CHUNK = 1 << 20;

function fileSource(fd: number, transient: boolean): Source {
  const size = fstatSync(fd).size;
  // The chunk holding the last read. Unless `transient`, a new chunk is allocated for every
  // refill, so records handed out earlier stay valid while their consumer holds them;
  // `transient` refills one buffer (no page faults on fresh memory for every MiB).
  let chunk: Buffer = Buffer.alloc(0);
  let spare: Buffer | null = null;
  let chunkStart = 0;
  const fill = (offset: number, length: number) => {
    const want = Math.min(Math.max(CHUNK, length), size - offset);
    if (want <= 0) return;
    const buf = transient && spare && spare.length >= want ? spare : Buffer.allocUnsafeSlow(want);
    if (transient) spare = buf;
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    chunk = got === buf.length ? buf : buf.subarray(0, got);
    chunkStart = offset;
  };
  return {
    size,
    transient,
    get chunk() {
      return chunk;
    },
    read(offset, length) {
      let rel = offset - chunkStart;
      if (rel < 0 || rel + length > chunk.length) {
        fill(offset, length);
        rel = offset - chunkStart;
        if (rel < 0 || rel >= chunk.length) return Buffer.alloc(0);
      }
      return chunk.subarray(rel, Math.min(rel + length, chunk.length));
    },
    locate(offset, length) {
      let rel = offset - chunkStart;
      if (rel >= 0 && rel + length <= chunk.length) return rel;
      fill(offset, length);
      rel = offset - chunkStart;
      return rel >= 0 && rel + length <= chunk.length ? rel : -1;
    },
  };
}

function bufferSource(buf: Buffer): Source {
  return {
    size: buf.length,
    chunk: buf,
    transient: false,
    read: (o, l) => buf.subarray(o, Math.min(buf.length, o + l)),
    locate: (o, l) => (o + l <= buf.length ? o : -1),
  };
}

export function detectFormat(head: Buffer): CaptureFormat | null {
  if (head.length < 4) return null;
  const be = head.readUInt32BE(0);
  if (be === 0x0a0d0d0a) return "pcapng";
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(be)) return "pcap";
  return null;
}

export interface ReadOptions {
  /**
   * A record's `data` is only valid until the next record is read (its buffer is reused):
   * for consumers that copy what they keep, such as the flow table.
   */
  transient?: boolean;
}

/** Iterates over a capture file's packets. */
export function* readCaptureFile(
  path: string,
  options: ReadOptions = {},
): Generator<CaptureRecord, CaptureFormat> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new CaptureError(
      path,
      0,
      `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return yield* readCapture(fileSource(fd, options.transient === true), path);
  } finally {
    closeSync(fd);
  }
}

/** Iterates over a capture held in memory (uploads in the dashboard, tests). */
export function* readCaptureBuffer(buf: Buffer, name = "capture"): Generator<CaptureRecord, CaptureFormat> {
  return yield* readCapture(bufferSource(buf), name);
}

function* readCapture(src: Source, name: string): Generator<CaptureRecord, CaptureFormat> {
  const head = src.read(0, 4);
  if (head.length === 0) throw new CaptureError(name, 0, "empty file");
  const format = detectFormat(head);
  if (!format) {
    throw new CaptureError(name, 0, `not a pcap or pcapng capture (magic 0x${head.toString("hex")})`);
  }
  if (format === "pcap") yield* readPcap(src, name);
  else yield* readPcapng(src, name);
  return format;
}

function* readPcap(src: Source, name: string): Generator<CaptureRecord> {
  const r = new PcapReader(src, name);
  for (let rec = r.next(); rec; rec = r.next()) yield rec;
}

/** A pcap file's records one call at a time (the generators' and the cursor's common part). */
class PcapReader {
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly linkType: number;
  private off = 24;
  private readonly reused: TransientRecord | null;
  private readonly src: Source;
  private readonly name: string;

  constructor(src: Source, name: string) {
    this.src = src;
    this.name = name;
    const hdr = src.read(0, 24);
    if (hdr.length < 24) throw new CaptureError(name, hdr.length, "truncated pcap file header");
    const magic = hdr.readUInt32BE(0);
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    this.le = le;
    this.nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    const major = le ? hdr.readUInt16LE(4) : hdr.readUInt16BE(4);
    if (major !== 2) throw new CaptureError(name, 4, `unsupported pcap version ${major}`);
    // The link type's low 16 bits; the upper bits may carry an FCS length.
    const linkType = (le ? hdr.readUInt32LE(20) : hdr.readUInt32BE(20)) & 0xffff;
    if (!isSupportedLinkType(linkType)) throw new CaptureError(name, 20, unsupportedLinkType(linkType));
    this.linkType = linkType;
    this.reused = src.transient ? new TransientRecord() : null;
  }

  /** The next record, or null at the end of the file. */
  next(): CaptureRecord | null {
    const { src, name, le, off } = this;
    if (off >= src.size) return null;
    const at = src.locate(off, 16);
    if (at < 0) {
      const have = Math.min(16, src.size - off);
      throw new CaptureError(name, off, `truncated record header (${have} of 16 bytes)`);
    }
    const rh = src.chunk;
    const sec = le ? u32le(rh, at) : u32be(rh, at);
    const frac = le ? u32le(rh, at + 4) : u32be(rh, at + 4);
    const incl = le ? u32le(rh, at + 8) : u32be(rh, at + 8);
    const orig = le ? u32le(rh, at + 12) : u32be(rh, at + 12);
    if (incl > MAX_RECORD)
      throw new CaptureError(name, off, `record length ${incl} is implausible (corrupt file?)`);
    const time = sec + frac / (this.nano ? 1e9 : 1e6);
    const reused = this.reused;
    if (reused) {
      const dataAt = src.locate(off + 16, incl);
      if (dataAt >= 0) {
        reused.time = time;
        reused.linkType = this.linkType;
        reused.wireLength = orig;
        reused.offset = off;
        reused.chunk = src.chunk;
        reused.at = dataAt;
        reused.length = incl;
        this.off = off + 16 + incl;
        return reused;
      }
    }
    const data = src.read(off + 16, incl);
    if (data.length < incl) {
      throw new CaptureError(name, off, `truncated record: ${data.length} of ${incl} captured bytes present`);
    }
    this.off = off + 16 + incl;
    return { time, linkType: this.linkType, data, wireLength: orig, offset: off };
  }
}

/** Records one at a time; `close` releases the file (also done at the end or on an error). */
export interface CaptureCursor extends Iterator<CaptureRecord, CaptureFormat> {
  close(): void;
  return(): IteratorResult<CaptureRecord, CaptureFormat>;
}

/**
 * A capture file's records for a consumer that keeps none of them (the flow table): a
 * pcap file is read with one reused record and one reused iterator result, no generator
 * (whose every step allocates); other formats go through `readCaptureFile`.
 */
export function openCaptureFile(path: string): CaptureCursor {
  const gen = readCaptureFile(path, { transient: true });
  let fd = -1;
  try {
    fd = openSync(path, "r");
    const src = fileSource(fd, true);
    if (detectFormat(src.read(0, 4)) !== "pcap") throw new Error("not pcap");
    const reader = new PcapReader(src, path);
    const result: IteratorResult<CaptureRecord, CaptureFormat> = { done: false, value: null! };
    const close = () => {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    };
    return {
      next() {
        let rec: CaptureRecord | null;
        try {
          rec = reader.next();
        } catch (e) {
          close();
          throw e;
        }
        if (!rec) {
          close();
          return { done: true, value: "pcap" };
        }
        result.value = rec;
        return result;
      },
      return() {
        close();
        return { done: true, value: "pcap" };
      },
      close,
    };
  } catch {
    // Not a readable pcap file: the generator reads it (and reports what is wrong).
    if (fd >= 0) closeSync(fd);
    const end = gen.return.bind(gen, "pcap");
    return { next: () => gen.next(), return: end, close: () => void end() };
  }
}

// Unchecked reads (the caller checked the length): Buffer's readUInt32* check bounds and
// types on every call, a measurable share of reading a capture.
function u32le(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

function u32be(b: Buffer, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

interface Interface {
  linkType: number;
  /** Timestamp units per second. */
  tsPerSecond: number;
  snapLen: number;
}

function* readPcapng(src: Source, name: string): Generator<CaptureRecord> {
  let off = 0;
  let le = true;
  let ifaces: Interface[] = [];
  while (off < src.size) {
    const bh = src.read(off, 12);
    if (bh.length < 8) throw new CaptureError(name, off, `truncated block header (${bh.length} of 8 bytes)`);
    const rawType = bh.readUInt32LE(0);
    if (rawType === 0x0a0d0d0a) {
      // Section header: its byte-order magic decides the endianness of everything after.
      if (bh.length < 12) throw new CaptureError(name, off, "truncated section header block");
      const bom = bh.readUInt32LE(8);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new CaptureError(name, off + 8, `bad byte-order magic 0x${bom.toString(16)}`);
      ifaces = [];
    }
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const type = u32(bh, 0);
    const len = u32(bh, 4);
    if (len < 12 || len % 4 !== 0) throw new CaptureError(name, off, `invalid block length ${len}`);
    if (len > MAX_RECORD + 64)
      throw new CaptureError(name, off, `block length ${len} is implausible (corrupt file?)`);
    const block = src.read(off, len);
    if (block.length < len)
      throw new CaptureError(name, off, `truncated block: ${block.length} of ${len} bytes present`);
    if (u32(block, len - 4) !== len)
      throw new CaptureError(name, off + len - 4, "block trailer length does not match header");
    const body = block.subarray(8, len - 4);

    switch (type) {
      case 0x0a0d0d0a:
        break;
      case 1: {
        // Interface description block.
        if (body.length < 8) throw new CaptureError(name, off, "truncated interface description block");
        const linkType = u16(body, 0);
        if (!isSupportedLinkType(linkType))
          throw new CaptureError(name, off + 8, unsupportedLinkType(linkType));
        ifaces.push({
          linkType,
          snapLen: u32(body, 4),
          tsPerSecond: ifTsResolution(body.subarray(8), u16),
        });
        break;
      }
      case 6: {
        // Enhanced packet block.
        if (body.length < 20) throw new CaptureError(name, off, "truncated enhanced packet block");
        const ifId = u32(body, 0);
        const iface = ifaces[ifId];
        if (!iface) throw new CaptureError(name, off, `packet refers to undeclared interface ${ifId}`);
        const ts = u32(body, 4) * 2 ** 32 + u32(body, 8);
        const cap = u32(body, 12);
        const orig = u32(body, 16);
        if (20 + cap > body.length)
          throw new CaptureError(name, off, `captured length ${cap} exceeds its block`);
        yield {
          time: ts / iface.tsPerSecond,
          linkType: iface.linkType,
          data: body.subarray(20, 20 + cap),
          wireLength: orig,
          offset: off,
        };
        break;
      }
      case 3: {
        // Simple packet block: no timestamp; belongs to interface 0.
        const iface = ifaces[0];
        if (!iface) throw new CaptureError(name, off, "simple packet block before any interface description");
        const orig = u32(body, 0);
        const cap = Math.min(orig, iface.snapLen || orig, body.length - 4);
        yield {
          time: 0,
          linkType: iface.linkType,
          data: body.subarray(4, 4 + cap),
          wireLength: orig,
          offset: off,
        };
        break;
      }
      case 2: {
        // Obsolete packet block.
        if (body.length < 20) throw new CaptureError(name, off, "truncated packet block");
        const ifId = u16(body, 0);
        const iface = ifaces[ifId];
        if (!iface) throw new CaptureError(name, off, `packet refers to undeclared interface ${ifId}`);
        const ts = u32(body, 4) * 2 ** 32 + u32(body, 8);
        const cap = u32(body, 12);
        yield {
          time: ts / iface.tsPerSecond,
          linkType: iface.linkType,
          data: body.subarray(20, 20 + cap),
          wireLength: u32(body, 16),
          offset: off,
        };
        break;
      }
      default:
        break; // name resolution, statistics, custom blocks: not needed
    }
    off += len;
  }
}

/** The `if_tsresol` option (code 9): 10^-n or 2^-n seconds; default microseconds. */
function ifTsResolution(opts: Buffer, u16: (b: Buffer, o: number) => number): number {
  let o = 0;
  while (o + 4 <= opts.length) {
    const code = u16(opts, o);
    const len = u16(opts, o + 2);
    if (code === 0) break;
    if (code === 9 && len >= 1) {
      const v = opts[o + 4]!;
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    o += 4 + ((len + 3) & ~3);
  }
  return 1e6;
}
