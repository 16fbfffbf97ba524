// Builds the capture of the Sluice-vs-ndpiReader benchmark: every Ethernet capture of the
// nDPI corpus stored as classic pcap, concatenated COPIES times into one pcap file. Each
// copy k shifts every outer IP address (IPv4: second octet + k, header checksum fixed;
// IPv6: third byte + k) so that the copies are distinct flows, and the timestamps are
// rebased so that time only moves forward, as in one long capture taken on one link: each
// capture starts 1 s after the previous one ended, and a gap between two packets of one
// capture is kept but capped at an hour (several corpus files are merges spanning years;
// an hour is past every idle timeout either tool has, so the flows still end there).

import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { readCaptureFile, CaptureError } from "../src/capture/reader.ts";
import { LINKTYPE } from "../src/capture/decode.ts";

interface IndexEntry {
  pcap: string;
  format: string;
  link_type: string;
}

/** The longest gap kept between two packets of one capture, seconds. */
const MAX_GAP = 3600;

export interface BuiltCapture {
  packets: number;
  bytes: number;
  captures: number;
}

/** The pcap files of the corpus that the benchmark concatenates. */
export function ethernetCaptures(corpus: string): string[] {
  const index = JSON.parse(readFileSync(join(corpus, "index.json"), "utf8")) as { pcaps: IndexEntry[] };
  return index.pcaps
    .filter((p) => p.link_type === "ether" && p.format === "pcap")
    .map((p) => join(corpus, p.pcap))
    .sort();
}

/** Offset of the outer IP header in an Ethernet frame (VLAN tags, PPPoE), or -1. */
function ipOffset(f: Buffer): number {
  if (f.length < 14) return -1;
  let type = f.readUInt16BE(12);
  let off = 14;
  while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && f.length >= off + 4) {
    type = f.readUInt16BE(off + 2);
    off += 4;
  }
  if (type === 0x8864 && f.length >= off + 8) {
    const ppp = f.readUInt16BE(off + 6);
    off += 8;
    type = ppp === 0x0021 ? 0x0800 : ppp === 0x0057 ? 0x86dd : 0;
  }
  return type === 0x0800 || type === 0x86dd ? off : -1;
}

function shiftAddresses(f: Buffer, k: number): void {
  const off = ipOffset(f);
  if (off < 0 || f.length < off + 20) return;
  const version = f[off]! >> 4;
  if (version === 4) {
    f[off + 13] = (f[off + 13]! + k) & 0xff;
    f[off + 17] = (f[off + 17]! + k) & 0xff;
    const ihl = (f[off]! & 0x0f) * 4;
    if (ihl < 20 || f.length < off + ihl) return;
    f.writeUInt16BE(0, off + 10);
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) sum += f.readUInt16BE(off + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    f.writeUInt16BE(~sum & 0xffff, off + 10);
  } else if (version === 6 && f.length >= off + 40) {
    f[off + 10] = (f[off + 10]! + k) & 0xff;
    f[off + 26] = (f[off + 26]! + k) & 0xff;
  }
}

/** Writes the concatenated capture to `out` (classic pcap, microseconds, Ethernet). */
export function buildConcatenatedCapture(corpus: string, copies: number, out: string): BuiltCapture {
  // One address byte tells the copies apart.
  if (!Number.isInteger(copies) || copies < 1 || copies > 256)
    throw new RangeError(`copies ${copies}: 1 to 256`);
  const frames: { rel: number; data: Buffer; orig: number }[][] = [];
  for (const file of ethernetCaptures(corpus)) {
    const recs: { rel: number; data: Buffer; orig: number }[] = [];
    let prev: number | null = null;
    let rel = 0;
    try {
      for (const r of readCaptureFile(file)) {
        if (r.linkType !== LINKTYPE.ETHERNET) continue;
        if (prev !== null) rel += Math.min(MAX_GAP, Math.max(0, r.time - prev));
        prev = r.time;
        recs.push({ rel, data: Buffer.from(r.data), orig: r.wireLength });
      }
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e; // a damaged capture contributes what it has
    }
    frames.push(recs);
  }
  // Streamed to the file in slabs: the ×100 capture is ~1.6 GB, more than one Buffer should hold.
  const fd = openSync(out, "w");
  let parts: Buffer[] = [];
  let pending = 0;
  let bytes = 0;
  const flush = () => {
    const slab = Buffer.concat(parts);
    writeSync(fd, slab);
    bytes += slab.length;
    parts = [];
    pending = 0;
  };
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(LINKTYPE.ETHERNET, 20);
  parts.push(header);
  pending += header.length;
  let cursor = 1_700_000_000;
  let packets = 0;
  try {
    for (let k = 0; k < copies; k++) {
      for (const recs of frames) {
        let last = cursor;
        for (const r of recs) {
          const t = cursor + r.rel;
          last = Math.max(last, t);
          const data = Buffer.from(r.data);
          if (k > 0) shiftAddresses(data, k);
          const rh = Buffer.alloc(16);
          const sec = Math.floor(t);
          rh.writeUInt32LE(sec, 0);
          rh.writeUInt32LE(Math.min(999_999, Math.round((t - sec) * 1e6)), 4);
          rh.writeUInt32LE(data.length, 8);
          rh.writeUInt32LE(Math.max(r.orig, data.length), 12);
          parts.push(rh, data);
          pending += rh.length + data.length;
          packets++;
          if (pending >= 8 << 20) flush();
        }
        cursor = Math.ceil(last) + 1;
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { packets, bytes, captures: frames.length };
}

/** A pcap with a header and no packet: start-up cost only. */
export function writeEmptyCapture(out: string): void {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(LINKTYPE.ETHERNET, 20);
  writeFileSync(out, header);
}
