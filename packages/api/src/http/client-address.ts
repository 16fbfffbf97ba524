// Who is asking: the address of the TCP peer, unless that peer is a reverse proxy the admin
// listed in SLUICE_TRUSTED_PROXIES, in which case its X-Forwarded-For says who it serves.
//
// Next passes X-Forwarded-For on as the client sent it (it only fills it in when absent), so
// the socket's address comes from the dashboard's own HTTP server (apps/web/server.ts): it
// stamps every request with a header carrying a per-process secret and the socket address,
// replacing anything a client sent under that name. Without the stamp (`next dev`, a plain
// `next start`) the address is "unknown": every such client shares one rate-limit bucket.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { BlockList, isIP } from "node:net";

export const PEER_HEADER = "x-sluice-peer";
const TOKEN = Symbol.for("sluice.peer-token");
type Holder = { [TOKEN]?: string };

/** The secret of this process's stamps (created by the server, on first use). */
export function peerToken(): string {
  const g = globalThis as Holder;
  return (g[TOKEN] ??= randomBytes(18).toString("base64url"));
}

/** For the HTTP server: the value of PEER_HEADER for a request from this socket address. */
export function peerStamp(remoteAddress: string | undefined): string {
  return `${peerToken()} ${remoteAddress ?? ""}`;
}

/** The stamped socket address of a request, or null when the stamp is missing or forged. */
export function peerOf(h: Headers): string | null {
  const token = (globalThis as Holder)[TOKEN];
  const v = h.get(PEER_HEADER);
  if (!token || !v) return null;
  const [got = "", addr = "", ...rest] = v.split(" ");
  const a = Buffer.from(got);
  const b = Buffer.from(token);
  if (rest.length || a.length !== b.length || !timingSafeEqual(a, b)) return null;
  return normalizeAddress(addr);
}

/** "::ffff:192.0.2.1" → "192.0.2.1"; anything not an IP address → null. */
export function normalizeAddress(s: string): string | null {
  const a = s.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  return isIP(a) ? a.toLowerCase() : null;
}

export class TrustedProxyError extends Error {}

/**
 * SLUICE_TRUSTED_PROXIES: addresses and CIDR ranges, comma or space separated
 * ("127.0.0.1, 10.0.0.0/8, ::1"). A wrong entry is an error (a typo must not trust nobody
 * silently, nor everybody).
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const [addr = "", bits, ...more] = raw.split("/");
    const a = normalizeAddress(addr);
    const family = a && isIP(a) === 6 ? "ipv6" : "ipv4";
    const max = family === "ipv6" ? 128 : 32;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!a || more.length || !(prefix >= 0 && prefix <= max))
      throw new TrustedProxyError(
        `SLUICE_TRUSTED_PROXIES: "${raw}" is not an address or a CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8)`,
      );
    list.addSubnet(a, prefix, family);
  }
  return list;
}

/**
 * SLUICE_TRUSTED_PROXIES ("127.0.0.1, 10.1.0.0/16"); the older SLUICE_TRUST_PROXY=1 means a
 * proxy on this box (loopback). Checked here, so a typo stops the server at start.
 */
export function trustedProxiesFromEnv(env: NodeJS.ProcessEnv): string[] {
  const list = (env.SLUICE_TRUSTED_PROXIES ?? "").split(/[\s,]+/).filter(Boolean);
  if (!list.length && env.SLUICE_TRUST_PROXY === "1") list.push("127.0.0.0/8", "::1");
  parseTrustedProxies(list);
  return list;
}

const lists = new Map<string, BlockList>();

export function trustsProxy(entries: readonly string[], addr: string): boolean {
  if (!entries.length) return false;
  const key = entries.join(",");
  let list = lists.get(key);
  if (!list) lists.set(key, (list = parseTrustedProxies(entries)));
  return list.check(addr, isIP(addr) === 6 ? "ipv6" : "ipv4");
}

export interface ClientInfo {
  /** The client's address, or "unknown" when the server did not stamp the socket's. */
  ip: string;
  /** The request came through a trusted proxy (its X-Forwarded-Proto counts). */
  viaTrustedProxy: boolean;
}

/**
 * The client: the socket's address; through trusted proxies, the right-most X-Forwarded-For
 * entry that is not itself a trusted proxy (entries left of it are the client's own claims).
 */
export function clientOf(h: Headers, trustedProxies: readonly string[]): ClientInfo {
  const peer = peerOf(h);
  if (!peer) return { ip: "unknown", viaTrustedProxy: false };
  if (!trustsProxy(trustedProxies, peer)) return { ip: peer, viaTrustedProxy: false };
  const hops = (h.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let ip = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!);
    if (!hop) break; // garbage: the last hop we can vouch for is the client
    ip = hop;
    if (!trustsProxy(trustedProxies, hop)) break;
  }
  return { ip, viaTrustedProxy: true };
}

/** The proto the client used: X-Forwarded-Proto only from a trusted proxy. */
export function forwardedProto(h: Headers, client: ClientInfo): string | null {
  if (!client.viaTrustedProxy) return null;
  return h.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() ?? null;
}
