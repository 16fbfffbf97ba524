// RTSP media for the live agent: the server's reply to a SETUP names both ends of each
// media stream (`Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971`),
// so the kernel can be told the exact tuples (client address and port, server address and
// port) to expect, RTP on the first port of each range and RTCP on the second. Unlike the
// offline table (expectations.ts), which keys on one announced end, this needs both ports:
// a Transport without server_port, interleaved (media inside the TCP connection) or
// multicast gives nothing.

import { isIP } from "node:net";

export interface MediaTuple {
  /** The RTSP client (the control connection's client) and its port. */
  client: string;
  clientPort: number;
  /** The media sender: the control connection's server, or the Transport's `source=`. */
  server: string;
  serverPort: number;
}

/** Streams one reply may announce at most (a SETUP sets up one; a few for safety). */
const MAX_TUPLES = 8;

const STATUS_LINE = /^RTSP\/[12]\.\d \d{3}[ \r\n]/;
const TRANSPORT_HEADER = /^Transport:[ \t]*([^\r\n]*)/gim;
const RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/**
 * The media tuples an RTSP reply (raw text of one TCP segment from the server) announces,
 * given the control connection's client and server addresses. [] when it is not a reply
 * or announces no usable unicast UDP stream.
 */
export function rtspReplyMedia(text: string, client: string, server: string): MediaTuple[] {
  if (!STATUS_LINE.test(text) || isIP(client) === 0 || isIP(client) !== isIP(server)) return [];
  const out: MediaTuple[] = [];
  for (const h of text.matchAll(TRANSPORT_HEADER)) {
    // Several transports may be listed (the server's reply names the one chosen, first).
    for (const spec of h[1]!.split(",")) {
      const params = spec.trim().split(";");
      const proto = params[0]!.trim().toUpperCase();
      if (!/^RTP\/AVP[F]?(\/UDP)?$|^RTP\/SAVPF?(\/UDP)?$/.test(proto)) continue;
      let cp: number[] | null = null;
      let sp: number[] | null = null;
      let source = server;
      let multicast = false;
      for (const p of params.slice(1)) {
        const [k, v = ""] = p.trim().split("=", 2) as [string, string?];
        const key = k.toLowerCase();
        if (key === "multicast") multicast = true;
        else if (key === "client_port") cp = portRange(v);
        else if (key === "server_port") sp = portRange(v);
        else if (key === "source") {
          const s = v.trim();
          // Media from another address of the same family; anything else is ignored.
          if (isIP(s) === isIP(server)) source = s;
        }
      }
      if (multicast || !cp || !sp) continue;
      for (let i = 0; i < Math.min(cp.length, sp.length); i++)
        if (out.length < MAX_TUPLES)
          out.push({ client, clientPort: cp[i]!, server: source, serverPort: sp[i]! });
      break;
    }
  }
  return out;
}

/** "5000-5001" → [5000, 5001] (RTP, RTCP); "5000" → [5000]; anything else null. */
function portRange(v: string): number[] | null {
  const m = RANGE.exec(v.trim());
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || lo > 65535 || hi < lo || hi > 65535) return null;
  return hi > lo ? [lo, lo + 1] : [lo];
}
