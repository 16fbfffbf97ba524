// The lab's servers, run in sluice-wan (one process each, see proc.ts). Every server
// listens on :: (IPv4 and IPv6), survives any client misbehaviour, and never exits on
// its own.

import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { LAB, ZONE_NAMES, zoneFqdn } from "./constants.ts";
import { errText, log, logRare, noise, Pacer, SocketReader, streamNoise, writeAsync } from "./util.ts";
import {
  answerDnsQuery,
  BT_BLOCK,
  BT_HANDSHAKE_LEN,
  BT_MSG,
  btHandshake,
  btMessage,
  btPeerId,
  btPieceHeader,
  parseBtHandshake,
  parseRtp,
  RSYNC_GREETING,
  SSH_MAX_PACKET,
  SSH_MSG,
  SSH_SERVER_BANNER,
  sshEncryptedPacket,
  sshKexEcdhReply,
  sshKexinit,
  sshNewkeys,
} from "./wire.ts";
import type { ProcConfig } from "./proc-config.ts";

const MB = 1024 * 1024;

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "::", ipv6Only: false }, () => {
      server.off("error", reject);
      server.on("error", (e) => logRare("server-error", `server error: ${errText(e)}`));
      resolve();
    });
  });
}

/** Stable pseudo-random size for a path, so the same URL always has the same length. */
function sizeFor(path: string, lo: number, hi: number): number {
  const h = createHash("sha1").update(path).digest().readUInt32BE(0);
  return lo + (h % (hi - lo + 1));
}

const LOREM =
  "Sluice lab page. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod " +
  "tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud. ";

function htmlPage(title: string, size: number, links: string[]): Buffer {
  const head =
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
    `<link rel="stylesheet" href="/static/site.css"><script src="/static/app.js"></script></head>\n<body>\n` +
    links.map((l) => `<a href="${l}">${l}</a>`).join("\n") +
    "\n";
  const tail = "\n</body></html>\n";
  let body = "";
  while (head.length + body.length + tail.length < size) body += `<p>${LOREM}</p>\n`;
  return Buffer.from((head + body).slice(0, Math.max(head.length, size - tail.length)) + tail);
}

function textAsset(size: number, kind: "css" | "js"): Buffer {
  const unit =
    kind === "css"
      ? ".card{margin:0 auto;padding:1em 2em;border:1px solid #ccc;font:14px/1.4 sans-serif}\n"
      : "function f(a,b){return a.map(function(x){return x*b+1;}).filter(Boolean);}\n";
  return Buffer.from(unit.repeat(Math.ceil(size / unit.length)).slice(0, size));
}

function jpeg(size: number): Buffer {
  const head = Buffer.from("ffd8ffe000104a46494600010101004800480000", "hex"); // SOI + JFIF APP0
  return Buffer.concat([head, noise(Math.max(0, size - head.length - 2)), Buffer.from([0xff, 0xd9])]);
}

function mpegTs(size: number): Buffer {
  const n = Math.max(1, Math.floor(size / 188));
  const out = Buffer.from(noise(n * 188));
  for (let i = 0; i < n; i++) {
    out[i * 188] = 0x47; // sync byte
    out[i * 188 + 1] = 0x01;
    out[i * 188 + 2] = 0x00;
  }
  return out;
}

interface Counters {
  requests: number;
  bytes: number;
}

function httpHandler(cfg: ProcConfig, counters: Counters) {
  const bulkPace = cfg.pace.bulkBps;
  return (req: IncomingMessage, res: ServerResponse) => {
    counters.requests++;
    req.on("error", () => {});
    res.on("error", () => {});
    const url = new URL(req.url ?? "/", "http://lab");
    const path = url.pathname;
    const send = (status: number, type: string, body: Buffer) => {
      counters.bytes += body.length;
      res.writeHead(status, {
        "Content-Type": type,
        "Content-Length": body.length,
        "Cache-Control": "max-age=60",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    res.setHeader("Server", "nginx/1.22.1");
    res.setHeader("Date", new Date().toUTCString());
    if (path === "/whoami") {
      const sock = req.socket as Socket & Partial<TLSSocket>;
      const who = {
        remoteAddress: sock.remoteAddress?.replace(/^::ffff:/, ""),
        remotePort: sock.remotePort,
        host: req.headers.host ?? null,
        tls: Boolean(sock.encrypted),
        servername: typeof sock.servername === "string" ? sock.servername : null,
        alpn: sock.alpnProtocol || null,
      };
      return send(200, "application/json", Buffer.from(JSON.stringify(who) + "\n"));
    }
    if (path === "/" || path === "/index.html") {
      const links = [
        "/page/news",
        "/page/about",
        "/page/sports",
        "/img/hero.jpg",
        "/img/1.jpg",
        "/img/2.jpg",
      ];
      return send(200, "text/html; charset=utf-8", htmlPage(`${req.headers.host ?? "lab"}`, 9000, links));
    }
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/page\/([\w-]+)$/))) {
      const links = [1, 2, 3].map((i) => `/img/${m![1]}-${i}.jpg`);
      return send(200, "text/html; charset=utf-8", htmlPage(m[1]!, sizeFor(path, 4_000, 80_000), links));
    }
    if ((m = path.match(/^\/static\/[\w.-]+\.(css|js)$/))) {
      const kind = m[1] as "css" | "js";
      return send(
        200,
        kind === "css" ? "text/css" : "application/javascript",
        textAsset(sizeFor(path, 8_000, 60_000), kind),
      );
    }
    if (/^\/img\/[\w.-]+\.jpg$/.test(path))
      return send(200, "image/jpeg", jpeg(sizeFor(path, 8_000, 150_000)));
    if (/^\/video\/[\w./-]+\.ts$/.test(path)) {
      const kb = Math.min(4096, Math.max(1, Number(url.searchParams.get("kb")) || 128));
      return send(200, "video/mp2t", mpegTs(kb * 1024));
    }
    if ((m = path.match(/^\/size\/(\d+)$/)))
      return send(200, "application/octet-stream", noise(Math.min(Number(m[1]), 16 * MB)));
    if (path === "/bulk") {
      const mb = Math.min(1024, Math.max(0, Number(url.searchParams.get("mb")) || 1));
      const total = Math.round(mb * MB);
      res.writeHead(200, {
        "Content-Type": "application/octet-stream",
        "Content-Length": total,
        "Content-Disposition": `attachment; filename="bulk-${mb}mb.bin"`,
      });
      if (req.method === "HEAD") return res.end();
      const pacer = new Pacer(bulkPace);
      streamNoise(res, total, pacer, pacer.paced ? 16 * 1024 : 64 * 1024)
        .then(() => {
          counters.bytes += total;
          res.end();
        })
        .catch(() => res.destroy());
      return;
    }
    return send(404, "text/html", Buffer.from("<html><body><h1>404 Not Found</h1></body></html>\n"));
  };
}

function statsEvery(name: string, counters: Counters) {
  setInterval(() => {
    if (counters.requests)
      log(`${name}: ${counters.requests} requests, ${(counters.bytes / MB).toFixed(1)} MB (last 60 s)`);
    counters.requests = 0;
    counters.bytes = 0;
  }, 60_000).unref();
}

export async function serveHttp(cfg: ProcConfig): Promise<void> {
  const counters = { requests: 0, bytes: 0 };
  const server = createHttpServer(
    { keepAliveTimeout: 15_000, requestTimeout: 60_000 },
    httpHandler(cfg, counters),
  );
  server.on("clientError", (_e, sock) => sock.destroy());
  await listen(server, LAB.ports.http);
  statsEvery("http", counters);
}

export function tlsFiles(stateDir: string): { cert: string; key: string } {
  return { cert: join(stateDir, "tls", "cert.pem"), key: join(stateDir, "tls", "key.pem") };
}

export async function serveHttps(cfg: ProcConfig): Promise<void> {
  const files = tlsFiles(cfg.stateDir);
  const counters = { requests: 0, bytes: 0 };
  const server = createHttpsServer(
    {
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      ALPNProtocols: ["http/1.1"],
      keepAliveTimeout: 15_000,
      requestTimeout: 60_000,
    },
    httpHandler(cfg, counters),
  );
  server.on("tlsClientError", (e) => logRare("tls-client", `tls client error: ${errText(e)}`, 60_000));
  server.on("clientError", (_e, sock) => sock.destroy());
  await listen(server, LAB.ports.https);
  statsEvery("https", counters);
}

// ---------------------------------------------------------------- SSH-like

async function sshSession(sock: Socket): Promise<void> {
  sock.setTimeout(10 * 60_000, () => sock.destroy());
  const rd = new SocketReader(sock);
  await writeAsync(sock, `${SSH_SERVER_BANNER}\r\n`);
  const banner = await rd.line(255, 10_000);
  if (!banner.startsWith("SSH-2.0-")) {
    await writeAsync(sock, "Invalid SSH identification string.\r\n");
    throw new Error(`bad client banner ${JSON.stringify(banner.slice(0, 40))}`);
  }
  await writeAsync(sock, sshKexinit(true));
  const plain = async (want: number) => {
    const len = (await rd.exact(4, 15_000)).readUInt32BE(0);
    if (len < 5 || len > 35_000) throw new Error(`bad packet length ${len}`);
    const body = await rd.exact(len, 15_000);
    if (body[1] !== want) throw new Error(`expected SSH message ${want}, got ${body[1]}`);
  };
  await plain(SSH_MSG.KEXINIT);
  await plain(SSH_MSG.KEX_ECDH_INIT);
  await writeAsync(sock, Buffer.concat([sshKexEcdhReply(), sshNewkeys()]));
  await plain(SSH_MSG.NEWKEYS);
  // "Encrypted" session: answer each client packet; larger ones are commands with output.
  for (;;) {
    const len = (await rd.exact(4, 10 * 60_000)).readUInt32BE(0);
    if (len < 16 || len > SSH_MAX_PACKET) throw new Error(`bad encrypted packet length ${len}`);
    await rd.exact(len + 16, 30_000);
    if (len >= 96) {
      let out = 2_000 + Math.floor(Math.random() * 30_000);
      while (out > 0) {
        const n = Math.min(out, 16_000);
        await writeAsync(sock, sshEncryptedPacket(n));
        out -= n;
      }
    } else {
      await writeAsync(sock, sshEncryptedPacket(len + Math.floor(Math.random() * 64)));
    }
  }
}

function tcpServer(name: string, port: number, session: (sock: Socket) => Promise<void>): Promise<void> {
  let sessions = 0;
  // allowHalfOpen: a client may half-close (end of a backup) and still read the reply.
  const server = createNetServer({ noDelay: true, allowHalfOpen: true }, (sock) => {
    sessions++;
    sock.on("error", () => {});
    session(sock).then(
      () => {
        // Let the buffered output drain, then close; never leave the socket behind.
        sock.end();
        setTimeout(() => sock.destroy(), 30_000).unref();
      },
      (e) => {
        const msg = errText(e);
        if (!/closed|ECONNRESET|EPIPE/.test(msg))
          logRare(`${name}-session`, `${name}: session ended: ${msg}`, 30_000);
        sock.destroy();
      },
    );
  });
  setInterval(() => {
    if (sessions) log(`${name}: ${sessions} new connections (last 60 s)`);
    sessions = 0;
  }, 60_000).unref();
  return listen(server, port);
}

export function serveSsh(_cfg: ProcConfig): Promise<void> {
  return tcpServer("ssh", LAB.ports.ssh, sshSession);
}

// ---------------------------------------------------------------- DNS

export function labZone(): Map<string, { a: string[]; aaaa: string[] }> {
  const zone = new Map<string, { a: string[]; aaaa: string[] }>();
  for (const label of ZONE_NAMES) zone.set(zoneFqdn(label), { a: [LAB.v4.server], aaaa: [LAB.v6.server] });
  return zone;
}

export function serveDns(_cfg: ProcConfig): Promise<void> {
  const zone = labZone();
  let queries = 0;
  const sock = createSocket({ type: "udp6", ipv6Only: false });
  sock.on("message", (msg, rinfo) => {
    queries++;
    const reply = answerDnsQuery(msg, zone);
    if (reply) sock.send(reply, rinfo.port, rinfo.address, () => {});
  });
  sock.on("error", (e) => logRare("dns-error", `dns: ${errText(e)}`));
  setInterval(() => {
    if (queries) log(`dns: ${queries} queries (last 60 s)`);
    queries = 0;
  }, 60_000).unref();
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(LAB.ports.dns, "::", () => {
      sock.off("error", reject);
      resolve();
    });
  });
}

// ---------------------------------------------------------------- BitTorrent-like peer

export const BT_PIECE_LEN = 256 * 1024;
export const BT_PIECES = 4096; // a 1 GB torrent
/** The lab torrent's info_hash (SHA-1 of a fixed name, as a real one is of the info dict). */
export const BT_INFO_HASH = createHash("sha1").update("sluice-lab: debian-12.8.0-amd64-DVD-1.iso").digest();

async function btSession(sock: Socket, cfg: ProcConfig): Promise<void> {
  sock.setTimeout(120_000, () => sock.destroy());
  const rd = new SocketReader(sock);
  const hs = parseBtHandshake(await rd.exact(BT_HANDSHAKE_LEN, 15_000));
  if (!hs.infoHash.equals(BT_INFO_HASH)) throw new Error("unknown info_hash");
  const bitfield = Buffer.alloc(BT_PIECES / 8, 0xff);
  await writeAsync(
    sock,
    Buffer.concat([btHandshake(BT_INFO_HASH, btPeerId("-TR4050-")), btMessage(BT_MSG.BITFIELD, bitfield)]),
  );
  const queue: { index: number; begin: number; length: number }[] = [];
  const signal: { wake: (() => void) | null; closed: boolean } = { wake: null, closed: false };
  const wake = () => {
    const w = signal.wake;
    signal.wake = null;
    w?.();
  };
  sock.once("close", () => {
    signal.closed = true;
    wake();
  });
  // Sender: serve queued requests, paced (or as fast as TCP allows when unpaced).
  const pacer = new Pacer(cfg.pace.btBps);
  const sender = (async () => {
    while (!signal.closed) {
      const r = queue.shift();
      if (!r) {
        await new Promise<void>((res) => (signal.wake = res));
        continue;
      }
      await pacer.take(r.length + 13);
      await writeAsync(sock, Buffer.concat([btPieceHeader(r.index, r.begin, r.length), noise(r.length)]));
    }
  })();
  sender.catch(() => sock.destroy());
  for (;;) {
    const len = (await rd.exact(4, 180_000)).readUInt32BE(0);
    if (len === 0) continue; // keep-alive
    if (len > 1 + 2 * BT_BLOCK + 8) throw new Error(`message too long (${len})`);
    const m = await rd.exact(len, 30_000);
    const id = m[0];
    if (id === BT_MSG.INTERESTED) await writeAsync(sock, btMessage(BT_MSG.UNCHOKE));
    else if (id === BT_MSG.REQUEST && len === 13) {
      const r = { index: m.readUInt32BE(1), begin: m.readUInt32BE(5), length: m.readUInt32BE(9) };
      if (
        r.index >= BT_PIECES ||
        r.length === 0 ||
        r.length > 2 * BT_BLOCK ||
        r.begin + r.length > BT_PIECE_LEN
      ) {
        throw new Error("bad request");
      }
      if (queue.length < 512) queue.push(r);
      wake();
    } else if (id === BT_MSG.CANCEL && len === 13) {
      const [i, b] = [m.readUInt32BE(1), m.readUInt32BE(5)];
      const at = queue.findIndex((q) => q.index === i && q.begin === b);
      if (at >= 0) queue.splice(at, 1);
    }
  }
}

export function serveBittorrent(cfg: ProcConfig): Promise<void> {
  return tcpServer("bittorrent", LAB.ports.bittorrent, (s) => btSession(s, cfg));
}

// ---------------------------------------------------------------- rsync-like backups

/** Largest number in the last argument, as the transfer size (the lab's convention). */
function rsyncSize(args: string[]): number {
  const m = (args.at(-1) ?? "").match(/(\d+)/);
  return Math.min(1024 * MB, m ? Number(m[1]) : MB);
}

async function rsyncSession(sock: Socket, cfg: ProcConfig): Promise<void> {
  sock.setTimeout(120_000, () => sock.destroy());
  const rd = new SocketReader(sock);
  await writeAsync(sock, `${RSYNC_GREETING}\n`);
  const hello = await rd.line(200, 15_000);
  if (!hello.startsWith("@RSYNCD: ")) throw new Error("bad rsync greeting");
  const module = (await rd.line(256, 15_000)).trim();
  if (module === "" || module === "#list") {
    await writeAsync(sock, "backup         \tSluice lab backups\n@RSYNCD: EXIT\n");
    sock.end();
    return;
  }
  if (module !== "backup") {
    await writeAsync(sock, `@ERROR: Unknown module '${module.slice(0, 64)}'\n`);
    sock.end();
    return;
  }
  await writeAsync(sock, "@RSYNCD: OK\n");
  const args: string[] = [];
  for (;;) {
    const a = (await rd.until(0, 1024, 15_000)).toString("latin1");
    if (a === "") break;
    if (args.push(a) > 64) throw new Error("too many arguments");
  }
  const size = rsyncSize(args);
  if (args.includes("--sender")) {
    // The client receives: a restore.
    const pacer = new Pacer(cfg.pace.rsyncBps);
    await streamNoise(sock, size, pacer, pacer.paced ? 16 * 1024 : 64 * 1024);
    sock.end();
    return;
  }
  // The client sends: a backup. Count until it half-closes, then report the total.
  let got = rd.release().length;
  await new Promise<void>((resolve, reject) => {
    sock.on("data", (d: Buffer) => (got += d.length));
    sock.once("end", resolve);
    sock.once("close", () => reject(new Error("closed before the end of the backup")));
  });
  const total = Buffer.alloc(8);
  total.writeBigUInt64BE(BigInt(got), 0);
  sock.end(total);
}

export function serveRsync(cfg: ProcConfig): Promise<void> {
  return tcpServer("rsync", LAB.ports.rsync, (s) => rsyncSession(s, cfg));
}

// ---------------------------------------------------------------- RTP echo

export function serveRtp(_cfg: ProcConfig): Promise<void> {
  const sock = createSocket({ type: "udp6", ipv6Only: false });
  let packets = 0;
  const ssrcs = new Map<string, number>();
  sock.on("message", (msg, rinfo) => {
    const rtp = parseRtp(msg);
    if (!rtp || rtp.pt !== 0) return;
    packets++;
    const key = `${rinfo.address}:${rinfo.port}`;
    let ssrc = ssrcs.get(key);
    if (ssrc === undefined) {
      if (ssrcs.size > 1000) ssrcs.clear();
      ssrc = (Math.random() * 0xffffffff) >>> 0;
      ssrcs.set(key, ssrc);
    }
    const echo = Buffer.from(msg);
    echo.writeUInt32BE(ssrc, 8); // our own stream, same seq/timestamp
    sock.send(echo, rinfo.port, rinfo.address, () => {});
  });
  sock.on("error", (e) => logRare("rtp-error", `rtp: ${errText(e)}`));
  setInterval(() => {
    if (packets) log(`rtp: ${packets} packets echoed from ${ssrcs.size} streams (last 60 s)`);
    packets = 0;
  }, 60_000).unref();
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(LAB.ports.rtp, "::", () => {
      sock.off("error", reject);
      resolve();
    });
  });
}

export const SERVERS = {
  http: serveHttp,
  https: serveHttps,
  ssh: serveSsh,
  dns: serveDns,
  bittorrent: serveBittorrent,
  rsync: serveRsync,
  rtp: serveRtp,
} as const;

export type ServerKind = keyof typeof SERVERS;
