// Builds protected QUIC client Initial packets (RFC 9001 §5), for tests: any version the
// dissector knows, any frames.

import { createCipheriv } from "node:crypto";
import { quicInitialKeys, quicVersion } from "../../src/index.ts";

export function varint(v: number): Buffer {
  if (v < 64) return Buffer.from([v]);
  if (v < 16384) return Buffer.from([0x40 | (v >> 8), v & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x80000000 | v) >>> 0);
  return b;
}

export function cryptoFrame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), data]);
}

/** A client Initial carrying `frames`, padded to at least `minSize` bytes of packet. */
export function protectInitial(
  version: number,
  dcid: Buffer,
  pn: number,
  frames: Buffer,
  opts: { scid?: Buffer; minSize?: number } = {},
): Buffer {
  const v = quicVersion(version);
  const keys = quicInitialKeys(v, dcid)!;
  const scid = opts.scid ?? Buffer.from("c0ffee00", "hex");
  const pnLen = 4;
  const headLen = 1 + 4 + 1 + dcid.length + 1 + scid.length + 1 + 2 + pnLen;
  const min = opts.minSize ?? 1200;
  const padding = Math.max(0, min - headLen - frames.length - 16);
  const payload = Buffer.concat([frames, Buffer.alloc(padding)]);
  const length = pnLen + payload.length + 16;
  const header = Buffer.concat([
    Buffer.from([0xc0 | (v.initialType << 4) | (pnLen - 1)]),
    Buffer.from([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
    Buffer.from([dcid.length]),
    dcid,
    Buffer.from([scid.length]),
    scid,
    Buffer.from([0]), // token length
    Buffer.from([0x40 | (length >> 8), length & 0xff]),
    Buffer.from([pn >>> 24, (pn >>> 16) & 0xff, (pn >>> 8) & 0xff, pn & 0xff]),
  ]);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  const gcm = createCipheriv("aes-128-gcm", keys.key, nonce);
  gcm.setAAD(header);
  const sealed = Buffer.concat([gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  const ecb = createCipheriv("aes-128-ecb", keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(sealed.subarray(4 - pnLen, 20 - pnLen));
  header[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLen; i++) header[header.length - pnLen + i]! ^= mask[1 + i]!;
  return Buffer.concat([header, sealed]);
}
