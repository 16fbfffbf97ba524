// An RTSP session with RTP media over UDP for the lab tests (no RTSP server package is
// installed). Run inside a namespace:
//   node rtsp-server.ts server                      RTSP on tcp/554 (IPv4 and IPv6): OPTIONS,
//                                                   DESCRIBE, SETUP (server_port 6970-6971),
//                                                   PLAY, TEARDOWN; after PLAY it waits for
//                                                   the client's first RTP packet and streams
//                                                   to where it came from (as servers do for
//                                                   clients behind NAT) at MEDIA_MBIT
//   node rtsp-server.ts client SERVER LOCAL [SECONDS]
//                                                   the exchange from LOCAL, then a first RTP
//                                                   packet from client_port (and an RTCP one
//                                                   from client_port + 1), then receives the
//                                                   media; prints {"setupMs":N,"rtpBytes":N,
//                                                   "seconds":N,"mbit":N}

import { createServer, connect, type Socket as TcpSocket } from "node:net";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { isIPv6 } from "node:net";

export const RTSP_PORT = 554;
export const SERVER_MEDIA_PORT = 6970;
export const CLIENT_MEDIA_PORT = 41000;
/** What the server sends: about twice the lab's capped class. */
const MEDIA_MBIT = 8;
const PAYLOAD = 1200;

/** Reads RTSP messages (headers and a Content-Length body) from a TCP stream. */
function messages(sock: TcpSocket, on: (text: string) => void): void {
  let buf = "";
  sock.setEncoding("latin1");
  sock.on("data", (d: string) => {
    buf += d;
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/^Content-Length:\s*(\d+)/im.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      on(buf.slice(0, end + 4 + len));
      buf = buf.slice(end + 4 + len);
    }
  });
}

async function udp(family: "udp4" | "udp6", port: number, address?: string): Promise<Socket> {
  // IPv6 only: the IPv4 socket has the same port
  const s = createSocket({ type: family, ipv6Only: family === "udp6" });
  s.bind({ port, ...(address ? { address } : {}) });
  await once(s, "listening");
  return s;
}

async function server(): Promise<void> {
  const media = {
    udp4: await udp("udp4", SERVER_MEDIA_PORT),
    udp6: await udp("udp6", SERVER_MEDIA_PORT),
    rtcp4: await udp("udp4", SERVER_MEDIA_PORT + 1),
    rtcp6: await udp("udp6", SERVER_MEDIA_PORT + 1),
  };
  for (const s of [media.rtcp4, media.rtcp6]) s.on("message", () => {}); // RTCP sink
  const tcp = createServer((sock) => {
    let seconds = 3;
    messages(sock, (req) => {
      const [method] = req.split(" ");
      const cseq = /^CSeq:\s*(\d+)/im.exec(req)?.[1] ?? "0";
      const head = ["RTSP/1.0 200 OK", `CSeq: ${cseq}`];
      let body = "";
      if (method === "OPTIONS") head.push("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN");
      else if (method === "DESCRIBE") {
        body = [
          "v=0",
          "o=- 1 1 IN IP4 0.0.0.0",
          "s=lab",
          "t=0 0",
          "m=video 0 RTP/AVP 96",
          "a=rtpmap:96 H264/90000",
          "",
        ].join("\r\n");
        head.push("Content-Type: application/sdp");
      } else if (method === "SETUP") {
        const cp = /client_port=(\d+-\d+)/.exec(req)?.[1] ?? "0-0";
        seconds = Number(/x-seconds=(\d+)/.exec(req)?.[1] ?? seconds);
        head.push(
          "Session: 4711;timeout=60",
          `Transport: RTP/AVP;unicast;client_port=${cp};server_port=${SERVER_MEDIA_PORT}-${SERVER_MEDIA_PORT + 1}`,
        );
      } else if (method === "PLAY") head.push("Session: 4711", "RTP-Info: url=trackID=1;seq=1");
      else if (method === "TEARDOWN") head.push("Session: 4711");
      else head[0] = "RTSP/1.0 405 Method Not Allowed";
      head.push(`Content-Length: ${Buffer.byteLength(body, "latin1")}`);
      sock.write(`${head.join("\r\n")}\r\n\r\n${body}`, "latin1");
      if (method === "PLAY") {
        // The client's first packet opens its NAT: stream to where it came from.
        const s =
          isIPv6(sock.remoteAddress ?? "") && !sock.remoteAddress?.startsWith("::ffff:")
            ? media.udp6
            : media.udp4;
        s.once("message", (_m, rinfo) => void stream(s, rinfo.address, rinfo.port, seconds));
      }
    });
    sock.on("error", () => {});
  });
  tcp.listen({ port: RTSP_PORT, ipv6Only: false });
  await once(tcp, "listening");
  process.stdout.write("listening\n");
}

/** RTP at MEDIA_MBIT for `seconds`, then three end markers (payload type 127). */
async function stream(s: Socket, address: string, port: number, seconds: number): Promise<void> {
  const perTick = Math.max(1, Math.round((MEDIA_MBIT * 1e6) / 8 / PAYLOAD / 100)); // every 10 ms
  const end = Date.now() + seconds * 1000;
  let seq = 0;
  const packet = (pt: number) => {
    const b = Buffer.alloc(12 + PAYLOAD);
    b[0] = 0x80;
    b[1] = pt;
    b.writeUInt16BE(seq++ & 0xffff, 2);
    b.writeUInt32BE(4711, 8);
    return b;
  };
  while (Date.now() < end) {
    for (let i = 0; i < perTick; i++) s.send(packet(96), port, address);
    await new Promise((r) => setTimeout(r, 10));
  }
  for (let i = 0; i < 3; i++) s.send(packet(127), port, address);
}

async function client(serverAddr: string, local: string, seconds: number): Promise<void> {
  const v6 = isIPv6(serverAddr);
  const sock = connect({ host: serverAddr, port: RTSP_PORT, localAddress: local });
  await once(sock, "connect");
  const replies: string[] = [];
  let wake: (() => void) | null = null;
  messages(sock, (m) => {
    replies.push(m);
    wake?.();
  });
  let cseq = 0;
  const url = `rtsp://${v6 ? `[${serverAddr}]` : serverAddr}:${RTSP_PORT}/lab`;
  const ask = async (method: string, headers: string[] = []): Promise<string> => {
    sock.write([`${method} ${url} RTSP/1.0`, `CSeq: ${++cseq}`, ...headers, "", ""].join("\r\n"), "latin1");
    const deadline = Date.now() + 10_000;
    while (!replies.length) {
      if (Date.now() > deadline) throw new Error(`no reply to ${method}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return replies.shift()!;
  };
  await ask("OPTIONS");
  await ask("DESCRIBE", ["Accept: application/sdp"]);
  const t0 = Date.now();
  const setup = await ask("SETUP", [
    `Transport: RTP/AVP;unicast;client_port=${CLIENT_MEDIA_PORT}-${CLIENT_MEDIA_PORT + 1};x-seconds=${seconds}`,
  ]);
  const setupMs = Date.now() - t0;
  const sp = Number(/server_port=(\d+)/.exec(setup)?.[1]);
  await ask("PLAY", ["Session: 4711", "Range: npt=0.000-"]);
  const family = v6 ? "udp6" : "udp4";
  const rtp = await udp(family, CLIENT_MEDIA_PORT, local);
  const rtcp = await udp(family, CLIENT_MEDIA_PORT + 1, local);
  let bytes = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, (seconds + 10) * 1000);
    rtp.on("message", (m) => {
      if (m[1] === 127) {
        clearTimeout(timer);
        // packets still queued in the box's class arrive after the marker was sent
        setTimeout(resolve, 1500);
        return;
      }
      const t = Date.now();
      if (!first) first = t;
      last = t;
      bytes += m.length;
    });
  });
  // As players do: a first packet from the client's ports opens the way (and the NAT).
  const punch = Buffer.from([0x80, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x67]);
  rtp.send(punch, sp, serverAddr);
  rtcp.send(Buffer.from([0x81, 201, 0, 1, 0, 0, 0x12, 0x67]), sp + 1, serverAddr);
  await done;
  await ask("TEARDOWN", ["Session: 4711"]);
  sock.end();
  rtp.close();
  rtcp.close();
  const secs = (last - first) / 1000;
  process.stdout.write(
    `${JSON.stringify({ setupMs, rtpBytes: bytes, seconds: secs, mbit: secs > 0 ? (bytes * 8) / secs / 1e6 : 0 })}\n`,
  );
}

// Run as a script only (the test imports the ports from this file).
if (import.meta.filename === process.argv[1]) {
  if (process.argv[2] === "server") await server();
  else if (process.argv[2] === "client")
    await client(process.argv[3]!, process.argv[4]!, Number(process.argv[5] ?? 3));
  else throw new Error("usage: rtsp-server.ts server | client SERVER LOCAL [SECONDS]");
}
