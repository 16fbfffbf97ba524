// Related connections: a control channel announces the address and port of a connection to
// come (FTP PORT/EPRT/PASV/EPSV, the SDP of a SIP call, an RTSP `Transport:` header, a
// TFTP request answered from a new port), and that connection has no signature of its own
// (raw file contents, RTP). The expectation table remembers what was announced; the flow
// table decides a new flow that fits an expectation at its first packet, with the related
// protocol (`ftp-data`, `rtp`, `tftp`) and the control connection it belongs to.
//
// This is what the kernel's conntrack helpers (nf_conntrack_ftp, _sip, _tftp) do for NAT;
// here it runs offline over captures (`sluice classify`) with the same flow table.

import type { Transport } from "../pattern-set.ts";

/** The protocol a related connection gets, by its control protocol. */
export const RELATED_PROTOCOL: Readonly<Record<string, string>> = {
  ftp: "ftp-data",
  sip: "rtp",
  rtsp: "rtp",
  tftp: "tftp",
};

/** The control protocols of RELATED_PROTOCOL, as a set (a hot path's membership test). */
export const CONTROL_PROTOCOLS: ReadonlySet<string> = new Set(Object.keys(RELATED_PROTOCOL));

export interface Expectation {
  l4: Transport;
  /** The announced endpoint: the new flow has it as one of its two ends. */
  ip: string;
  port: number;
  /** The other end's address when known (the new flow's other side), else any. */
  peerIp: string | null;
  protocol: string;
  /** The control connection: its flow id and protocol. */
  masterId: number;
  masterProtocol: string;
  /** Seconds (capture time) after which it lapses. */
  expires: number;
  /** Removed at the first flow that fits (FTP, TFTP) or kept for several (RTP and RTCP). */
  once: boolean;
}

/** What the table needs to know about the control flow a message came on. */
export interface ControlFlow {
  id: number;
  l4: Transport;
  protocol: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
}

export interface ExpectationOptions {
  /** Seconds an announced connection is waited for (conntrack's FTP helper: 300). */
  timeoutSeconds: number;
  /** Bound on the table; the oldest expectation goes first. */
  maxEntries: number;
}

export const DEFAULT_EXPECTATIONS: ExpectationOptions = { timeoutSeconds: 300, maxEntries: 4096 };

export class ExpectationTable {
  readonly options: ExpectationOptions;
  private readonly byEndpoint = new Map<string, Expectation[]>();
  /** Entries per announced port: a new flow on no such port is no one's (no key built). */
  private readonly ports = new Map<number, number>();
  private count = 0;
  /** Expectations added and used so far. */
  added = 0;
  hits = 0;

  constructor(options: Partial<ExpectationOptions> = {}) {
    this.options = { ...DEFAULT_EXPECTATIONS, ...options };
  }

  get size(): number {
    return this.count;
  }

  add(e: Expectation): void {
    const key = endpointKey(e.l4, e.ip, e.port);
    const list = this.byEndpoint.get(key) ?? [];
    // The same announcement twice (a retransmission, a re-INVITE) refreshes the entry.
    const same = list.findIndex((x) => x.masterId === e.masterId && x.protocol === e.protocol);
    if (same >= 0) list.splice(same, 1);
    else {
      this.count++;
      this.ports.set(e.port, (this.ports.get(e.port) ?? 0) + 1);
    }
    list.push(e);
    this.byEndpoint.delete(key);
    this.byEndpoint.set(key, list);
    this.added++;
    while (this.count > this.options.maxEntries) this.dropOldest();
  }

  /**
   * The expectation a new flow fits, looked up by its first packet's destination, then its
   * source (a media stream may start from the side that announced it), or null.
   */
  take(
    l4: Transport,
    src: string,
    sport: number,
    dst: string,
    dport: number,
    time: number,
  ): Expectation | null {
    if (!this.mayFit(sport, dport)) return null;
    return this.takeAt(l4, dst, dport, src, time) ?? this.takeAt(l4, src, sport, dst, time);
  }

  /** Whether a flow between these ports could fit an expectation (false: `take` is null). */
  mayFit(sport: number, dport: number): boolean {
    return this.count > 0 && (this.ports.has(dport) || this.ports.has(sport));
  }

  /** One entry on `port` is gone. */
  private dropPort(port: number): void {
    const n = this.ports.get(port)! - 1;
    if (n > 0) this.ports.set(port, n);
    else this.ports.delete(port);
  }

  private takeAt(l4: Transport, ip: string, port: number, peer: string, time: number): Expectation | null {
    const key = endpointKey(l4, ip, port);
    const list = this.byEndpoint.get(key);
    if (!list) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (e.expires < time) {
        list.splice(i, 1);
        this.count--;
        this.dropPort(e.port);
        continue;
      }
      if (e.peerIp !== null && e.peerIp !== peer) continue;
      if (e.once) {
        list.splice(i, 1);
        this.count--;
        this.dropPort(e.port);
      }
      if (list.length === 0) this.byEndpoint.delete(key);
      this.hits++;
      return e;
    }
    if (list.length === 0) this.byEndpoint.delete(key);
    return null;
  }

  private dropOldest(): void {
    const first = this.byEndpoint.entries().next();
    if (first.done) return;
    const [key, list] = first.value;
    const e = list.shift();
    this.count--;
    if (e) this.dropPort(e.port);
    if (list.length === 0) this.byEndpoint.delete(key);
  }

  /**
   * Reads one message of a control connection (a TCP segment or a UDP datagram, raw
   * bytes) and records the connections it announces. Returns how many.
   */
  learn(flow: ControlFlow, fromClient: boolean, payload: Buffer, time: number): number {
    const found = announcements(flow, fromClient, payload);
    for (const a of found) {
      this.add({
        l4: a.l4,
        ip: a.ip,
        port: a.port,
        peerIp: a.peerIp,
        protocol: RELATED_PROTOCOL[flow.protocol]!,
        masterId: flow.id,
        masterProtocol: flow.protocol,
        expires: time + this.options.timeoutSeconds,
        once: a.once,
      });
    }
    return found.length;
  }
}

function endpointKey(l4: Transport, ip: string, port: number): string {
  return `${l4}|${ip}|${port}`;
}

export interface Announcement {
  l4: Transport;
  ip: string;
  port: number;
  peerIp: string | null;
  once: boolean;
}

/** The connections a control message announces (pure: no table). */
export function announcements(flow: ControlFlow, fromClient: boolean, payload: Buffer): Announcement[] {
  switch (flow.protocol) {
    case "ftp":
      return ftpAnnouncements(flow, fromClient, payload.toString("latin1"));
    case "sip":
    case "rtsp":
      return mediaAnnouncements(flow, fromClient, payload.toString("latin1"));
    case "tftp":
      return tftpAnnouncements(flow, fromClient, payload);
    default:
      return [];
  }
}

const PORT_CMD = /^PORT\s+(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})\s*$/im;
const EPRT_CMD = /^EPRT\s+(.)([12])\1([0-9A-Fa-f:.]+)\1(\d{1,5})\1\s*$/im;
const PASV_REPLY = /^227[ -].*?(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/m;
const EPSV_REPLY = /^229[ -].*?\((.)\1\1(\d{1,5})\1\)/m;

/**
 * FTP (RFC 959, RFC 2428): the client's PORT/EPRT names where the server connects to
 * (active mode); the server's 227/229 reply to PASV/EPSV names where the client connects
 * to (passive mode; EPSV gives only the port: the address is the control connection's).
 */
function ftpAnnouncements(flow: ControlFlow, fromClient: boolean, text: string): Announcement[] {
  const out: Announcement[] = [];
  if (fromClient) {
    const p = PORT_CMD.exec(text);
    if (p) {
      const ip = ipv4Of(p.slice(1, 5));
      const port = Number(p[5]) * 256 + Number(p[6]);
      if (ip && validPort(port)) out.push({ l4: "tcp", ip, port, peerIp: flow.serverIp, once: true });
    }
    const e = EPRT_CMD.exec(text);
    if (e) {
      const ip = e[2] === "1" ? ipv4Of(e[3]!.split(".")) : ipv6Text(e[3]!);
      const port = Number(e[4]);
      if (ip && validPort(port)) out.push({ l4: "tcp", ip, port, peerIp: flow.serverIp, once: true });
    }
  } else {
    const p = PASV_REPLY.exec(text);
    if (p) {
      const ip = ipv4Of(p.slice(1, 5));
      const port = Number(p[5]) * 256 + Number(p[6]);
      // A server behind NAT may announce its private address: the client then connects to
      // the address it reached the control connection on.
      if (ip && validPort(port)) {
        out.push({ l4: "tcp", ip, port, peerIp: flow.clientIp, once: true });
        if (ip !== flow.serverIp)
          out.push({ l4: "tcp", ip: flow.serverIp, port, peerIp: flow.clientIp, once: true });
      }
    }
    const e = EPSV_REPLY.exec(text);
    if (e) {
      const port = Number(e[2]);
      if (validPort(port))
        out.push({ l4: "tcp", ip: flow.serverIp, port, peerIp: flow.clientIp, once: true });
    }
  }
  return out;
}

const SDP_CONN = /^c=IN IP([46]) ([0-9A-Fa-f:.]+)/gm;
const SDP_MEDIA =
  /^m=(audio|video|image|text|application) (\d{1,5})(?:\/\d+)? (RTP\/[A-Z/]+|UDP\/TLS\/RTP\/[A-Z]+|udptl|UDP)/gim;
const RTSP_TRANSPORT = /^Transport:[^\r\n]*/gim;
const PORT_RANGE = /(client_port|server_port)=(\d{1,5})(?:-(\d{1,5}))?/gi;

/**
 * SIP (RFC 3261 with an SDP body, RFC 4566) and RTSP (RFC 2326/7826): the SDP's `c=`
 * address and `m=` ports (RTP on the port, RTCP on the next one), RTSP's `Transport:`
 * `client_port=` and `server_port=` ranges. Media flows may start from either end.
 */
function mediaAnnouncements(flow: ControlFlow, fromClient: boolean, text: string): Announcement[] {
  const out: Announcement[] = [];
  const sender = fromClient ? flow.clientIp : flow.serverIp;
  const conns = [...text.matchAll(SDP_CONN)];
  const sdpAddr = conns.length
    ? conns[0]![1] === "6"
      ? ipv6Text(conns[0]![2]!)
      : ipv4Of(conns[0]![2]!.split("."))
    : null;
  for (const m of text.matchAll(SDP_MEDIA)) {
    const port = Number(m[2]);
    if (!validPort(port)) continue;
    // 0.0.0.0 puts a stream on hold; an unusable address falls back to the sender's.
    const ip = sdpAddr && sdpAddr !== "0.0.0.0" ? sdpAddr : sender;
    out.push({ l4: "udp", ip, port, peerIp: null, once: false });
    if (validPort(port + 1)) out.push({ l4: "udp", ip, port: port + 1, peerIp: null, once: false });
  }
  if (flow.protocol === "rtsp") {
    for (const t of text.matchAll(RTSP_TRANSPORT)) {
      for (const r of t[0].matchAll(PORT_RANGE)) {
        const ip = r[1]!.toLowerCase() === "client_port" ? flow.clientIp : flow.serverIp;
        const lo = Number(r[2]);
        const hi = r[3] ? Number(r[3]) : lo;
        for (let port = lo; port <= Math.min(hi, lo + 3); port++)
          if (validPort(port)) out.push({ l4: "udp", ip, port, peerIp: null, once: false });
      }
    }
  }
  return out;
}

/**
 * TFTP (RFC 1350): a read or write request to the server's port is answered from a new
 * port of the server, to the client's port: the transfer is a new flow.
 */
function tftpAnnouncements(flow: ControlFlow, fromClient: boolean, payload: Buffer): Announcement[] {
  if (!fromClient || payload.length < 4 || payload[0] !== 0) return [];
  const op = payload[1];
  if (op !== 1 && op !== 2) return [];
  return [{ l4: "udp", ip: flow.clientIp, port: flow.clientPort, peerIp: flow.serverIp, once: true }];
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p > 0 && p < 65536;
}

function ipv4Of(parts: readonly string[]): string | null {
  if (parts.length !== 4) return null;
  const n = parts.map(Number);
  return n.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? n.join(".") : null;
}

/** An IPv6 address in the RFC 5952 form the capture decoder prints, or null. */
function ipv6Text(text: string): string | null {
  try {
    const host = new URL(`http://[${text}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return null;
  }
}
