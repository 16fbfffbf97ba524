// The lab's traffic generators, run in sluice-lan (one process per kind, see proc.ts).
// Every generator loops forever, recovers from any error (the box may drop, reshape or
// reset traffic; the agent may restart) with exponential backoff, and only ever talks
// to the lab's own addresses.

import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect, isIPv6, type Socket } from "node:net";
import { LAB, isLabAddress, zoneFqdn } from "./constants.ts";
import type { ProcConfig } from "./proc-config.ts";
import { BT_INFO_HASH, BT_PIECE_LEN, BT_PIECES, tlsFiles } from "./servers.ts";
import {
  Backoff,
  errText,
  log,
  logRare,
  noise,
  Pacer,
  pick,
  randInt,
  sleep,
  SocketReader,
  streamNoise,
  writeAsync,
} from "./util.ts";
import {
  BT_BLOCK,
  BT_HANDSHAKE_LEN,
  BT_MSG,
  btHandshake,
  btMessage,
  btPeerId,
  btRequest,
  DNS_TYPE,
  encodeDnsQuery,
  parseBtHandshake,
  parseDnsMessage,
  parseRtp,
  recordAddress,
  RSYNC_GREETING,
  RTP_PAYLOAD,
  rtpPacket,
  SSH_CLIENT_BANNER,
  SSH_MAX_PACKET,
  SSH_MSG,
  sshEncryptedPacket,
  sshKexEcdhInit,
  sshKexinit,
  sshNewkeys,
  type DnsMessage,
} from "./wire.ts";

const [C10, C11, C12, C13] = [0, 1, 2, 3].map((i) => ({ v4: LAB.v4.clients[i]!, v6: LAB.v6.clients[i]! }));
const MB = 1024 * 1024;

function serverFor(local: string): string {
  return isIPv6(local) ? LAB.v6.server : LAB.v4.server;
}

function assertLab(...addrs: string[]): void {
  for (const a of addrs) if (!isLabAddress(a)) throw new Error(`refusing to use a non-lab address: ${a}`);
}

// ---------------------------------------------------------------- stats

const stats = { sessions: 0, errors: 0, bytes: 0 };

function startStats(kind: string): void {
  setInterval(() => {
    log(
      `${kind}: ${stats.sessions} sessions, ${(stats.bytes / MB).toFixed(1)} MB, ${stats.errors} errors (last 60 s)`,
    );
    stats.sessions = stats.errors = stats.bytes = 0;
  }, 60_000).unref();
}

/** Runs `body` forever; errors are logged (rarely) and followed by an exponential backoff. */
async function forever(name: string, body: () => Promise<void>): Promise<never> {
  const backoff = new Backoff(1_000, 30_000);
  for (;;) {
    const started = Date.now();
    try {
      await body();
      stats.sessions++;
      backoff.ok();
    } catch (e) {
      stats.errors++;
      logRare(name, `${name}: ${errText(e)}`);
      await backoff.fail();
    }
    if (Date.now() - started < 200) await sleep(200); // never spin, whatever body does
  }
}

// ---------------------------------------------------------------- helpers

function connectTcp(host: string, port: number, localAddress: string, timeoutMs = 10_000): Promise<Socket> {
  assertLab(host, localAddress);
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, localAddress, noDelay: true, allowHalfOpen: true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect ${host}:${port} timed out`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      sock.on("error", () => {}); // readers see errors via 'close'
      resolve(sock);
    });
    sock.once("error", (e) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    });
  });
}

function bindUdp(localAddress: string, port = 0): Promise<UdpSocket> {
  assertLab(localAddress);
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(localAddress) ? "udp6" : "udp4");
    sock.once("error", (e) => {
      sock.close();
      reject(e);
    });
    sock.bind({ address: localAddress, port }, () => {
      sock.removeAllListeners("error");
      sock.on("error", () => {});
      resolve(sock);
    });
  });
}

/** One DNS query from `local` to the lab's server, with a fresh source port (as a stub resolver). */
export async function dnsQuery(
  name: string,
  type: number,
  local: string,
  timeoutMs = 2_000,
): Promise<DnsMessage> {
  const server = serverFor(local);
  assertLab(server);
  const sock = await bindUdp(local);
  try {
    const id = randInt(1, 0xffff);
    return await new Promise<DnsMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DNS ${name} timed out`)), timeoutMs);
      sock.on("message", (msg, rinfo) => {
        if (rinfo.port !== LAB.ports.dns) return;
        try {
          const m = parseDnsMessage(msg);
          if (m.id !== id) return;
          clearTimeout(timer);
          resolve(m);
        } catch {
          // not a DNS answer: keep waiting
        }
      });
      sock.send(encodeDnsQuery(id, name, type), LAB.ports.dns, server, (e) => {
        if (e) {
          clearTimeout(timer);
          reject(e);
        }
      });
    });
  } finally {
    sock.close();
  }
}

async function resolveLab(name: string, local: string): Promise<string> {
  const m = await dnsQuery(name, isIPv6(local) ? DNS_TYPE.AAAA : DNS_TYPE.A, local);
  const addr = m.answers.map(recordAddress).find((a): a is string => a !== null);
  if (!addr) throw new Error(`DNS ${name}: no address (rcode ${m.rcode})`);
  assertLab(addr);
  return addr;
}

let labCa: Buffer | null = null;
function ca(cfg: ProcConfig): Buffer {
  labCa ??= readFileSync(tlsFiles(cfg.stateDir).cert);
  return labCa;
}

const USER_AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

interface GetOptions {
  tls: boolean;
  addr: string;
  name: string;
  path: string;
  local: string;
  agent: HttpAgent | false;
  cfg: ProcConfig;
  idleMs?: number;
  userAgent?: string;
  /** TLS: accept the lab certificate for a name it does not list (an app's SNI). */
  anyName?: boolean;
}

/** One HTTP(S) GET; resolves with the status and body length once the body is read. */
export function httpGet(o: GetOptions): Promise<{ status: number; bytes: number }> {
  assertLab(o.addr, o.local);
  return new Promise((resolve, reject) => {
    const common = {
      host: o.addr,
      port: o.tls ? LAB.ports.https : LAB.ports.http,
      path: o.path,
      localAddress: o.local,
      agent: o.agent,
      headers: {
        Host: o.name,
        "User-Agent": o.userAgent ?? USER_AGENTS[0]!,
        Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en-US,en;q=0.5",
      },
    };
    const onRes = (res: IncomingMessage) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        stats.bytes += d.length;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on("aborted", () => reject(new Error(`GET ${o.path}: aborted`)));
      res.on("error", reject);
    };
    const req = o.tls
      ? httpsRequest(
          {
            ...common,
            servername: o.name,
            ca: ca(o.cfg),
            agent: o.agent as HttpsAgent | false,
            ...(o.anyName ? { checkServerIdentity: () => undefined } : {}),
          },
          onRes,
        )
      : httpRequest(common, onRes);
    req.setTimeout(o.idleMs ?? 20_000, () => req.destroy(new Error(`GET ${o.name}${o.path}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

// ---------------------------------------------------------------- web browsing

const WORDS = ["news", "sports", "weather", "about", "blog", "shop", "travel", "science", "music", "faq"];

async function browse(cfg: ProcConfig, local: string, tls: boolean): Promise<void> {
  const name = zoneFqdn(pick(tls ? ["www", "video", "api", ""] : ["www", "cdn", "api", ""]));
  const addr = await resolveLab(name, local);
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ca: ca(cfg) })
    : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const userAgent = pick(USER_AGENTS);
  const get = (path: string) => httpGet({ tls, addr, name, path, local, agent, cfg, userAgent });
  try {
    const page = async (path: string, assets: string[]) => {
      const r = await get(path);
      if (r.status !== 200) throw new Error(`GET ${name}${path}: HTTP ${r.status}`);
      await Promise.all(assets.map(get));
    };
    await page("/", ["/static/site.css", "/static/app.js", "/img/hero.jpg", "/img/1.jpg", "/img/2.jpg"]);
    for (let i = randInt(0, 4); i > 0; i--) {
      await sleep(randInt(2_000, 10_000)); // reading
      const w = pick(WORDS);
      await page(
        `/page/${w}`,
        [1, 2, 3].map((k) => `/img/${w}-${k}.jpg`),
      );
    }
  } finally {
    agent.destroy();
  }
}

export async function genWeb(cfg: ProcConfig): Promise<void> {
  // Two "users": one on .10 (IPv4 and IPv6), one on .11; each mixes HTTP and HTTPS.
  let n = 0;
  const user = (addrs: string[]) => async () => {
    const local = addrs[n++ % addrs.length]!;
    await browse(cfg, local, Math.random() < 0.6);
    await sleep(randInt(3_000, 15_000)); // between sites
  };
  void forever("web-10", user([C10!.v4, C10!.v6, C10!.v4]));
  void forever("web-11", user([C11!.v4]));
}

// ---------------------------------------------------------------- video (HTTPS segments)

// The video player speaks to the lab server as a YouTube video host (the SNI a real player
// sends), so the box sees the app "youtube" in category video-streaming, as it would live.
export const VIDEO_HOST = "rr3---sn-lab.googlevideo.com";

export async function genVideo(cfg: ProcConfig): Promise<void> {
  void forever("video", async () => {
    const local = C11!.v4;
    const name = VIDEO_HOST;
    const addr = serverFor(local);
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: ca(cfg) });
    const until = Date.now() + randInt(3, 6) * 60_000; // then a new connection, as players do
    const stream = randInt(1000, 9999);
    try {
      for (let seg = 0; Date.now() < until; seg++) {
        const t0 = Date.now();
        const r = await httpGet({
          tls: true,
          addr,
          name,
          path: `/video/${stream}/seg-${seg}.ts?kb=128`,
          local,
          agent,
          cfg,
          anyName: true,
        });
        if (r.status !== 200) throw new Error(`video segment: HTTP ${r.status}`);
        await sleep(Math.max(200, 2_000 - (Date.now() - t0))); // 2 s segments
      }
    } finally {
      agent.destroy();
    }
  });
}

// ---------------------------------------------------------------- DNS

export async function genDns(_cfg: ProcConfig): Promise<void> {
  const labels = ["www", "video", "cdn", "api", "ssh", "bt", "backup", "voip", "", "nosuchhost", "tracker"];
  const locals = [C10!, C11!, C12!, C13!].flatMap((c) => [c.v4, c.v4, c.v6]);
  void forever("dns", async () => {
    const local = pick(locals);
    const type = isIPv6(local) || Math.random() < 0.3 ? DNS_TYPE.AAAA : DNS_TYPE.A;
    await dnsQuery(zoneFqdn(pick(labels)), type, local);
    await sleep(randInt(500, 2_500));
  });
}

// ---------------------------------------------------------------- SSH session

async function readPlainPacket(rd: SocketReader, want: number): Promise<void> {
  const len = (await rd.exact(4, 15_000)).readUInt32BE(0);
  if (len < 5 || len > 35_000) throw new Error(`ssh: bad packet length ${len}`);
  const body = await rd.exact(len, 15_000);
  if (body[1] !== want) throw new Error(`ssh: expected message ${want}, got ${body[1]}`);
}

async function sshSession(local: string): Promise<void> {
  const sock = await connectTcp(serverFor(local), LAB.ports.ssh, local);
  const rd = new SocketReader(sock);
  try {
    const banner = await rd.line(255, 15_000);
    if (!banner.startsWith("SSH-2.0-"))
      throw new Error(`ssh: bad banner ${JSON.stringify(banner.slice(0, 40))}`);
    await writeAsync(sock, `${SSH_CLIENT_BANNER}\r\n`);
    await writeAsync(sock, sshKexinit(false));
    await readPlainPacket(rd, SSH_MSG.KEXINIT);
    await writeAsync(sock, sshKexEcdhInit());
    await readPlainPacket(rd, SSH_MSG.KEX_ECDH_REPLY);
    await readPlainPacket(rd, SSH_MSG.NEWKEYS);
    await writeAsync(sock, sshNewkeys());
    // The interactive part: keystrokes and the odd command, answers read in the background.
    let readErr: unknown = null;
    let lastRead = Date.now();
    void (async () => {
      for (;;) {
        const len = (await rd.exact(4, 10 * 60_000)).readUInt32BE(0);
        if (len < 16 || len > SSH_MAX_PACKET) throw new Error(`ssh: bad encrypted length ${len}`);
        await rd.exact(len + 16, 30_000);
        stats.bytes += len + 20;
        lastRead = Date.now();
      }
    })().catch((e) => (readErr = e));
    const until = Date.now() + randInt(2, 8) * 60_000;
    while (Date.now() < until) {
      await sleep(Math.random() < 0.2 ? randInt(3_000, 15_000) : randInt(150, 1_500));
      if (readErr) throw readErr;
      if (Date.now() - lastRead > 60_000) throw new Error("ssh: no answer for 60 s");
      await writeAsync(sock, sshEncryptedPacket(Math.random() < 0.08 ? randInt(100, 300) : randInt(1, 40)));
    }
  } finally {
    sock.destroy();
  }
}

export async function genSsh(_cfg: ProcConfig): Promise<void> {
  void forever("ssh", async () => {
    await sshSession(C11!.v4);
    await sleep(randInt(2_000, 10_000));
  });
}

// ---------------------------------------------------------------- BitTorrent download

async function btDownload(local: string, peerId: Buffer): Promise<void> {
  const sock = await connectTcp(serverFor(local), LAB.ports.bittorrent, local);
  const rd = new SocketReader(sock);
  try {
    await writeAsync(sock, btHandshake(BT_INFO_HASH, peerId));
    const hs = parseBtHandshake(await rd.exact(BT_HANDSHAKE_LEN, 15_000));
    if (!hs.infoHash.equals(BT_INFO_HASH)) throw new Error("bittorrent: peer has another torrent");
    await writeAsync(sock, btMessage(BT_MSG.INTERESTED));
    // Download a run of pieces from a random start (then "another peer": a new connection).
    const blocksPerPiece = BT_PIECE_LEN / BT_BLOCK;
    const first = randInt(0, BT_PIECES - 1) * blocksPerPiece;
    const total = randInt(100, 400) * blocksPerPiece;
    let next = 0;
    let received = 0;
    let outstanding = 0;
    let choked = true;
    const fill = () => {
      while (!choked && outstanding < 16 && next < total) {
        const b = (first + next++) % (BT_PIECES * blocksPerPiece);
        sock.write(btRequest(Math.floor(b / blocksPerPiece), (b % blocksPerPiece) * BT_BLOCK, BT_BLOCK));
        outstanding++;
      }
    };
    let idle = 0;
    while (received < total) {
      // No piece for 15 s: send a keep-alive (a peer that has gone away answers with a
      // reset); after 45 s of silence, give up on this peer.
      let head: Buffer;
      try {
        head = await rd.exact(4, 15_000);
        idle = 0;
      } catch (e) {
        if (!/timed out/.test(errText(e)) || ++idle >= 3) throw e;
        sock.write(Buffer.alloc(4));
        continue;
      }
      const len = head.readUInt32BE(0);
      if (len === 0) continue;
      if (len > 9 + 2 * BT_BLOCK + 4096) throw new Error(`bittorrent: message too long (${len})`);
      const m = await rd.exact(len, 60_000);
      switch (m[0]) {
        case BT_MSG.UNCHOKE:
          choked = false;
          fill();
          break;
        case BT_MSG.CHOKE:
          choked = true; // the peer drops outstanding requests
          next -= outstanding;
          outstanding = 0;
          break;
        case BT_MSG.PIECE:
          outstanding--;
          received++;
          stats.bytes += len - 9;
          fill();
          break;
        default: // bitfield, have, ...
          break;
      }
    }
  } finally {
    sock.destroy();
  }
}

export async function genBittorrent(_cfg: ProcConfig): Promise<void> {
  // Two peer connections (IPv4 and IPv6) from .12, downloading continuously.
  for (const local of [C12!.v4, C12!.v6]) {
    const peerId = btPeerId("-qB4650-");
    void forever(`bittorrent-${local}`, async () => {
      await btDownload(local, peerId);
      await sleep(randInt(1_000, 3_000));
    });
  }
}

// ---------------------------------------------------------------- bulk HTTP downloads

export async function genBulk(cfg: ProcConfig): Promise<void> {
  let n = 0;
  void forever("bulk", async () => {
    if (n === 0) await sleep(randInt(2_000, 4_000));
    const local = n++ % 3 === 2 ? C13!.v6 : C13!.v4;
    const mb = randInt(5, 20);
    const r = await httpGet({
      tls: false,
      addr: serverFor(local),
      name: zoneFqdn("cdn"),
      path: `/bulk?mb=${mb}`,
      local,
      agent: false,
      cfg,
      idleMs: 30_000,
      userAgent: "Wget/1.21.3",
    });
    if (r.status !== 200 || r.bytes !== mb * MB) throw new Error(`bulk: HTTP ${r.status}, ${r.bytes} bytes`);
    await sleep(randInt(30_000, 90_000));
  });
}

// ---------------------------------------------------------------- rsync-like backups

async function rsyncTransfer(cfg: ProcConfig, local: string, upload: boolean, size: number): Promise<void> {
  const sock = await connectTcp(serverFor(local), LAB.ports.rsync, local);
  sock.setTimeout(60_000, () => sock.destroy(new Error("rsync: idle for 60 s")));
  const rd = new SocketReader(sock);
  try {
    const greeting = await rd.line(200, 15_000);
    if (!greeting.startsWith("@RSYNCD: ")) throw new Error(`rsync: bad greeting ${JSON.stringify(greeting)}`);
    await writeAsync(sock, `${RSYNC_GREETING}\nbackup\n`);
    const ok = await rd.line(200, 15_000);
    if (ok !== "@RSYNCD: OK") throw new Error(`rsync: ${ok}`);
    const args = upload
      ? ["--server", "-logDtpre.iLsfxCIvu", "--partial", ".", `backup/host13/home-${size}.tar`]
      : ["--server", "--sender", "-logDtpre.iLsfxCIvu", ".", `backup/restore-${size}.tar`];
    await writeAsync(sock, args.map((a) => `${a}\0`).join("") + "\0");
    const early = rd.release();
    let tail = early.subarray(-8);
    let downloaded = early.length;
    const ended = new Promise<void>((resolve, reject) => {
      sock.on("data", (d: Buffer) => {
        tail = Buffer.concat([tail, d]).subarray(-8);
        downloaded += d.length;
        if (!upload) stats.bytes += d.length;
      });
      sock.once("end", resolve);
      sock.once("close", () => reject(new Error("rsync: connection closed early")));
    });
    ended.catch(() => {}); // awaited below; an early close must not be "unhandled" meanwhile
    if (upload) {
      const pacer = new Pacer(cfg.pace.rsyncBps);
      await streamNoise(sock, size, pacer, pacer.paced ? 16 * 1024 : 64 * 1024);
      stats.bytes += size;
      sock.end();
      await ended;
      if (tail.length < 8 || Number(tail.readBigUInt64BE(0)) !== size) {
        throw new Error("rsync: the server did not confirm the whole backup");
      }
    } else {
      await ended;
      if (downloaded !== size) throw new Error(`rsync: restore got ${downloaded} of ${size} bytes`);
    }
  } finally {
    sock.destroy();
  }
}

export async function genRsync(cfg: ProcConfig): Promise<void> {
  let first = true;
  void forever("rsync", async () => {
    if (first) await sleep(randInt(3_000, 6_000));
    first = false;
    const upload = Math.random() < 0.7;
    await rsyncTransfer(cfg, Math.random() < 0.8 ? C13!.v4 : C13!.v6, upload, randInt(4, 16) * MB);
    await sleep(randInt(40_000, 100_000));
  });
}

// ---------------------------------------------------------------- RTP stream

async function rtpCall(local: string): Promise<void> {
  const server = serverFor(local);
  assertLab(server);
  const sock = await bindUdp(local, 2 * randInt(8192, 16383)); // even port, as RTP uses
  let echoes = 0;
  let sendErr: Error | null = null;
  sock.on("message", (msg, rinfo) => {
    if (rinfo.port === LAB.ports.rtp && parseRtp(msg)) {
      echoes++;
      stats.bytes += msg.length;
    }
  });
  try {
    const ssrc = randInt(1, 0x7fffffff);
    let seq = randInt(0, 0xffff);
    let ts = randInt(0, 0x7fffffff);
    const start = Date.now();
    const until = start + randInt(5, 15) * 60_000;
    let lastEchoes = 0;
    let lastEchoAt = Date.now();
    for (let i = 0; Date.now() < until; i++) {
      if (sendErr) throw sendErr;
      const payload = noise(RTP_PAYLOAD);
      sock.send(rtpPacket(seq++, ts, ssrc, payload, i === 0), LAB.ports.rtp, server, (e) => {
        if (e) sendErr = e;
      });
      stats.bytes += 12 + RTP_PAYLOAD;
      ts += RTP_PAYLOAD;
      if (echoes !== lastEchoes) {
        lastEchoes = echoes;
        lastEchoAt = Date.now();
      } else if (Date.now() - lastEchoAt > 15_000) {
        logRare("rtp-silent", "voip: no echo for 15 s (still sending)", 60_000);
      }
      await sleep(Math.max(1, start + (i + 1) * 20 - Date.now()));
    }
  } finally {
    sock.close();
  }
}

export async function genVoip(_cfg: ProcConfig): Promise<void> {
  void forever("voip", async () => {
    await rtpCall(C11!.v4);
    await sleep(randInt(1_000, 3_000));
  });
}

export const GENERATORS = {
  web: genWeb,
  video: genVideo,
  dns: genDns,
  ssh: genSsh,
  bittorrent: genBittorrent,
  bulk: genBulk,
  rsync: genRsync,
  voip: genVoip,
} as const;

export type GeneratorKind = keyof typeof GENERATORS;

export function startGeneratorStats(kind: string): void {
  startStats(kind);
}
