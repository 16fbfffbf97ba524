// Builders for test captures: frames (Ethernet/IPv4/IPv6/TCP/UDP) and pcap/pcapng files.

export interface FrameSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  l4: "tcp" | "udp";
  payload?: Buffer | string;
  seq?: number;
  ack?: number;
  flags?: { syn?: boolean; ack?: boolean; fin?: boolean; rst?: boolean };
}

function ipv4Bytes(ip: string): number[] {
  return ip.split(".").map(Number);
}

function ipv6Bytes(ip: string): number[] {
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((w) => parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

export function l4Segment(s: FrameSpec): Buffer {
  const payload =
    typeof s.payload === "string" ? Buffer.from(s.payload, "latin1") : (s.payload ?? Buffer.alloc(0));
  if (s.l4 === "udp") {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(s.sport, 0);
    h.writeUInt16BE(s.dport, 2);
    h.writeUInt16BE(8 + payload.length, 4);
    return Buffer.concat([h, payload]);
  }
  const h = Buffer.alloc(20);
  h.writeUInt16BE(s.sport, 0);
  h.writeUInt16BE(s.dport, 2);
  h.writeUInt32BE((s.seq ?? 1) >>> 0, 4);
  h.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  const f = s.flags ?? { ack: true };
  h[13] = (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.ack ? 0x10 : 0);
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, payload]);
}

export function ipPacket(s: FrameSpec): Buffer {
  const l4 = l4Segment(s);
  const proto = s.l4 === "tcp" ? 6 : 17;
  if (s.src.includes(":")) {
    const h = Buffer.alloc(40);
    h[0] = 0x60;
    h.writeUInt16BE(l4.length, 4);
    h[6] = proto;
    h[7] = 64;
    Buffer.from(ipv6Bytes(s.src)).copy(h, 8);
    Buffer.from(ipv6Bytes(s.dst)).copy(h, 24);
    return Buffer.concat([h, l4]);
  }
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(ipv4Bytes(s.src)).copy(h, 12);
  Buffer.from(ipv4Bytes(s.dst)).copy(h, 16);
  return Buffer.concat([h, l4]);
}

export function ethernetFrame(s: FrameSpec, vlan?: number): Buffer {
  const ip = ipPacket(s);
  const type = s.src.includes(":") ? 0x86dd : 0x0800;
  const mac = Buffer.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6]);
  const parts = [mac];
  if (vlan !== undefined) {
    const tag = Buffer.alloc(4);
    tag.writeUInt16BE(0x8100, 0);
    tag.writeUInt16BE(vlan, 2);
    parts.push(tag);
  }
  const et = Buffer.alloc(2);
  et.writeUInt16BE(type, 0);
  return Buffer.concat([...parts, et, ip]);
}

export function pcapFile(
  frames: Buffer[],
  linkType = 1,
  opts: { bigEndian?: boolean; startTime?: number } = {},
): Buffer {
  const be = opts.bigEndian ?? false;
  const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const w16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const g = Buffer.alloc(24);
  w32(g, 0xa1b2c3d4, 0);
  w16(g, 2, 4);
  w16(g, 4, 6);
  w32(g, 65535, 16);
  w32(g, linkType, 20);
  const recs = frames.map((f, i) => {
    const h = Buffer.alloc(16);
    w32(h, (opts.startTime ?? 1_700_000_000) + i, 0);
    w32(h, 0, 4);
    w32(h, f.length, 8);
    w32(h, f.length, 12);
    return Buffer.concat([h, f]);
  });
  return Buffer.concat([g, ...recs]);
}

function pad4(b: Buffer): Buffer {
  const rem = b.length % 4;
  return rem ? Buffer.concat([b, Buffer.alloc(4 - rem)]) : b;
}

function block(type: number, body: Buffer, be: boolean): Buffer {
  const b = pad4(body);
  const len = 12 + b.length;
  const h = Buffer.alloc(8);
  const t = Buffer.alloc(4);
  if (be) {
    h.writeUInt32BE(type, 0);
    h.writeUInt32BE(len, 4);
    t.writeUInt32BE(len, 0);
  } else {
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(len, 4);
    t.writeUInt32LE(len, 0);
  }
  return Buffer.concat([h, b, t]);
}

export function pcapngFile(
  frames: Buffer[],
  linkType = 1,
  opts: { bigEndian?: boolean; tsresol?: number } = {},
): Buffer {
  const be = opts.bigEndian ?? false;
  const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const w16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const shb = Buffer.alloc(16);
  w32(shb, 0x1a2b3c4d, 0);
  w16(shb, 1, 4);
  w16(shb, 0, 6);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  // Interface description, optionally with an if_tsresol option (code 9).
  const idb = Buffer.alloc(opts.tsresol !== undefined ? 20 : 8);
  w16(idb, linkType, 0);
  w32(idb, 65535, 4);
  if (opts.tsresol !== undefined) {
    w16(idb, 9, 8);
    w16(idb, 1, 10);
    idb[12] = opts.tsresol;
  }
  const perSecond = opts.tsresol !== undefined ? 10 ** opts.tsresol : 1e6;
  const blocks = [block(0x0a0d0d0a, shb, be), block(1, idb, be)];
  frames.forEach((f, i) => {
    const h = Buffer.alloc(20);
    const ts = BigInt(1_700_000_000 + i) * BigInt(perSecond);
    w32(h, 0, 0);
    w32(h, Number(ts >> 32n), 4);
    w32(h, Number(ts & 0xffffffffn), 8);
    w32(h, f.length, 12);
    w32(h, f.length, 16);
    blocks.push(block(6, Buffer.concat([h, f]), be));
  });
  return Buffer.concat(blocks);
}

/** A TCP conversation: handshake, then payloads alternating as given, with correct seq numbers. */
export function tcpConversation(
  client: [string, number],
  server: [string, number],
  payloads: { dir: "c2s" | "s2c"; data: string | Buffer }[],
): FrameSpec[] {
  const seq = { c2s: 1000, s2c: 9000 };
  const base = (dir: "c2s" | "s2c") =>
    dir === "c2s"
      ? { src: client[0], sport: client[1], dst: server[0], dport: server[1] }
      : { src: server[0], sport: server[1], dst: client[0], dport: client[1] };
  const out: FrameSpec[] = [
    { ...base("c2s"), l4: "tcp", seq: seq.c2s++, flags: { syn: true } },
    { ...base("s2c"), l4: "tcp", seq: seq.s2c++, flags: { syn: true, ack: true } },
    { ...base("c2s"), l4: "tcp", seq: seq.c2s, flags: { ack: true } },
  ];
  for (const p of payloads) {
    const len = typeof p.data === "string" ? Buffer.byteLength(p.data, "latin1") : p.data.length;
    out.push({ ...base(p.dir), l4: "tcp", seq: seq[p.dir], payload: p.data, flags: { ack: true } });
    seq[p.dir] += len;
  }
  return out;
}
