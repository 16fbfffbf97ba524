// HTTP request dissector for the client's stream: HTTP/1.x (request line, Host, User-Agent;
// RFC 9112) and HTTP/2 with prior knowledge (RFC 9113 §3.3: the connection preface, then
// frames; the first HEADERS block is HPACK-decoded for :authority, :method, user-agent).

import { HpackDecoder } from "./hpack.ts";

export interface HttpRequest {
  version: "1.0" | "1.1" | "2";
  method: string | null;
  /** Host header (or :authority, or the authority of an absolute-form target), port removed, lowercased. */
  host: string | null;
  userAgent: string | null;
}

export type HttpStatus =
  { status: "need-more" } | { status: "invalid"; reason: string } | { status: "done"; request: HttpRequest };

export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

const REQUEST_LINE = /^([A-Za-z-]{3,20}) (\S+) HTTP\/(1\.[01])\r?$/;

/** "example.com:8080" -> "example.com"; "[::1]:80" -> "::1"; lowercased, trailing dot removed. */
export function hostOnly(authority: string): string | null {
  let h = authority.trim().toLowerCase();
  const at = h.lastIndexOf("@");
  if (at >= 0) h = h.slice(at + 1);
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    h = end > 0 ? h.slice(1, end) : h.slice(1);
  } else {
    const colon = h.indexOf(":");
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h || null;
}

/**
 * Dissects the client's stream. `final` says no more bytes will come (the window is
 * spent): an HTTP/1 header block cut short is then read as far as it goes.
 */
export function dissectHttpStream(s: Buffer, final = false): HttpStatus {
  if (s.length === 0) return { status: "need-more" };
  if (s[0] === 0x50 && s.length < H2_PREFACE.length && H2_PREFACE.subarray(0, s.length).equals(s))
    return final ? { status: "invalid", reason: "truncated HTTP/2 preface" } : { status: "need-more" };
  if (s.length >= H2_PREFACE.length && s.subarray(0, H2_PREFACE.length).equals(H2_PREFACE))
    return dissectH2(s.subarray(H2_PREFACE.length), final);
  return dissectHttp1(s, final);
}

function dissectHttp1(s: Buffer, final: boolean): HttpStatus {
  const text = s.toString("latin1");
  const firstEol = text.indexOf("\n");
  if (firstEol < 0) {
    if (final || s.length > 8192) return { status: "invalid", reason: "no request line" };
    return /^[A-Za-z-]{1,20}( |$)/.test(text)
      ? { status: "need-more" }
      : { status: "invalid", reason: "not HTTP" };
  }
  const m = REQUEST_LINE.exec(text.slice(0, firstEol));
  if (!m) return { status: "invalid", reason: "not an HTTP/1.x request line" };
  let end = text.indexOf("\r\n\r\n", firstEol - 1);
  if (end < 0) end = text.indexOf("\n\n", firstEol);
  if (end < 0 && !final) return { status: "need-more" };
  const head = end < 0 ? text.slice(firstEol + 1) : text.slice(firstEol + 1, end);
  const req: HttpRequest = {
    version: m[3] as "1.0" | "1.1",
    method: m[1]!.toUpperCase(),
    host: null,
    userAgent: null,
  };
  const lines = head.split("\n");
  // A cut-off last line is only a header if the block was complete.
  if (end < 0) lines.pop();
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "host" && req.host === null) req.host = hostOnly(value);
    else if (name === "user-agent" && req.userAgent === null) req.userAgent = value;
  }
  if (req.host === null) {
    const target = m[2]!;
    const abs = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i.exec(target);
    if (abs) req.host = hostOnly(abs[1]!);
    else if (req.method === "CONNECT") req.host = hostOnly(target);
  }
  return { status: "done", request: req };
}

const FRAME_HEADERS = 0x1;
const FRAME_CONTINUATION = 0x9;

function dissectH2(s: Buffer, final: boolean): HttpStatus {
  let o = 0;
  let block: Buffer[] | null = null;
  while (o + 9 <= s.length) {
    const len = (s[o]! << 16) | (s[o + 1]! << 8) | s[o + 2]!;
    const type = s[o + 3]!;
    const flags = s[o + 4]!;
    if (o + 9 + len > s.length) break;
    let payload = s.subarray(o + 9, o + 9 + len);
    o += 9 + len;
    if (type === FRAME_HEADERS && block === null) {
      let start = 0;
      let padLen = 0;
      if (flags & 0x08) {
        padLen = payload[0] ?? 0;
        start = 1;
      }
      if (flags & 0x20) start += 5;
      if (start + padLen > payload.length) return { status: "invalid", reason: "HEADERS frame padding" };
      payload = payload.subarray(start, payload.length - padLen);
      block = [payload];
      if (flags & 0x04) return decodeH2Headers(Buffer.concat(block));
    } else if (type === FRAME_CONTINUATION && block !== null) {
      block.push(payload);
      if (flags & 0x04) return decodeH2Headers(Buffer.concat(block));
    }
  }
  if (final) return { status: "done", request: { version: "2", method: null, host: null, userAgent: null } };
  return { status: "need-more" };
}

function decodeH2Headers(block: Buffer): HttpStatus {
  const req: HttpRequest = { version: "2", method: null, host: null, userAgent: null };
  try {
    for (const h of new HpackDecoder().decode(block)) {
      if (h.name === ":authority" || (h.name === "host" && req.host === null)) req.host = hostOnly(h.value);
      else if (h.name === ":method") req.method = h.value;
      else if (h.name === "user-agent") req.userAgent = h.value;
    }
  } catch {
    // An undecodable block still says HTTP/2; the host stays unknown.
  }
  return { status: "done", request: req };
}

/** Quick test on a client's first bytes: could this be an HTTP request (or the h2 preface)? */
export function looksLikeHttp(b: Buffer): boolean {
  const c = b[0];
  return c !== undefined && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
}
