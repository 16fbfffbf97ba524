// A SIP call and a TFTP download for the lab tests, as the kernel's conntrack helpers see
// them (no SIP or TFTP server package is installed). Run inside a namespace:
//   node sip-tftp.ts server ADDR            SIP on udp/5060 (answers an INVITE with SDP, RTP
//                                           port 30000) and TFTP on udp/69 (any file: BLOCKS
//                                           blocks of 512 bytes, sent from a new port)
//   node sip-tftp.ts client SERVER LOCAL    an INVITE with SDP, then RTP from LOCAL:40000 to the
//                                           port the answer named; then a TFTP read; prints
//                                           {"rtpPackets":N,"tftpBytes":N}

import { createSocket, type Socket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { once } from "node:events";

export const SERVER_RTP_PORT = 30000;
export const CLIENT_RTP_PORT = 40000;
export const TFTP_BLOCKS = 100;
const RTP_PACKETS = 50;

function sdp(addr: string, port: number): string {
  return [
    "v=0",
    `o=- 1 1 IN IP4 ${addr}`,
    "s=call",
    `c=IN IP4 ${addr}`,
    "t=0 0",
    `m=audio ${port} RTP/AVP 0`,
    "a=rtpmap:0 PCMU/8000",
    "",
  ].join("\r\n");
}

function sipMessage(first: string, headers: string[], body: string): Buffer {
  return Buffer.from(
    [
      first,
      ...headers,
      "Content-Type: application/sdp",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "",
      body,
    ].join("\r\n"),
  );
}

async function bind(port: number, address?: string): Promise<Socket> {
  const s = createSocket("udp4");
  s.bind({ port, ...(address ? { address } : {}) });
  await once(s, "listening");
  return s;
}

async function server(): Promise<void> {
  const sip = await bind(5060);
  const rtp = await bind(SERVER_RTP_PORT);
  rtp.on("message", () => {}); // a media sink
  sip.on("message", (msg, rinfo) => {
    const text = msg.toString("latin1");
    if (!text.startsWith("INVITE ")) return;
    const headers = text
      .split("\r\n")
      .filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l))
      .map((l) => (/^To:/i.test(l) ? `${l};tag=srv1` : l));
    const local = process.argv[3] ?? "127.0.0.1";
    const ok = sipMessage(
      "SIP/2.0 200 OK",
      [...headers, `Contact: <sip:bob@${local}:5060>`],
      sdp(local, SERVER_RTP_PORT),
    );
    sip.send(ok, rinfo.port, rinfo.address);
  });
  const tftp = await bind(69);
  tftp.on("message", (msg, rinfo) => {
    if (msg.readUInt16BE(0) !== 1) return; // RRQ
    void sendFile(rinfo.address, rinfo.port);
  });
  process.stdout.write("listening\n");
}

/** A TFTP transfer from a new port (which is why conntrack needs a helper to relate it). */
async function sendFile(addr: string, port: number): Promise<void> {
  const s = await bind(0);
  const data = randomBytes(512);
  for (let block = 1; block <= TFTP_BLOCKS; block++) {
    const pkt = Buffer.concat([Buffer.from([0, 3, block >> 8, block & 255]), data]);
    for (let attempt = 0; attempt < 5; attempt++) {
      s.send(pkt, port, addr);
      const acked = await Promise.race([
        once(s, "message").then(([m]) => (m as Buffer).readUInt16BE(0) === 4),
        new Promise((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (acked) break;
    }
  }
  s.close();
}

async function client(serverAddr: string, local: string): Promise<void> {
  const sip = await bind(0, local);
  const sport = sip.address().port;
  const callId = `${randomBytes(6).toString("hex")}@${local}`;
  const invite = sipMessage(
    `INVITE sip:bob@${serverAddr} SIP/2.0`,
    [
      `Via: SIP/2.0/UDP ${local}:${sport};branch=z9hG4bK${randomBytes(4).toString("hex")}`,
      "Max-Forwards: 70",
      `From: <sip:alice@${local}>;tag=cli1`,
      `To: <sip:bob@${serverAddr}>`,
      `Call-ID: ${callId}`,
      "CSeq: 1 INVITE",
      `Contact: <sip:alice@${local}:${sport}>`,
    ],
    sdp(local, CLIENT_RTP_PORT),
  );
  sip.send(invite, 5060, serverAddr);
  const [answer] = (await Promise.race([
    once(sip, "message"),
    new Promise((_, reject) => setTimeout(() => reject(new Error("no answer to the INVITE")), 5000)),
  ])) as [Buffer];
  const port = Number(/m=audio (\d+)/.exec(answer.toString("latin1"))?.[1]);
  sip.close();
  const rtp = await bind(CLIENT_RTP_PORT, local);
  for (let i = 0; i < RTP_PACKETS; i++) {
    const header = Buffer.from([0x80, 0, i >> 8, i & 255, 0, 0, 0, i, 1, 2, 3, 4]);
    rtp.send(Buffer.concat([header, randomBytes(160)]), port, serverAddr);
    await new Promise((r) => setTimeout(r, 20));
  }
  rtp.close();

  const tftp = await bind(0, local);
  let bytes = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`TFTP stalled at ${bytes} bytes`)), 20000);
    tftp.on("message", (m, rinfo) => {
      if (m.readUInt16BE(0) !== 3) return;
      const block = m.readUInt16BE(2);
      if (block === Math.floor(bytes / 512) + 1) bytes += m.length - 4;
      tftp.send(Buffer.from([0, 4, block >> 8, block & 255]), rinfo.port, rinfo.address);
      if (m.length - 4 < 512 || block === TFTP_BLOCKS) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  tftp.send(Buffer.from("\0\x01file.bin\0octet\0", "latin1"), 69, serverAddr);
  await done;
  tftp.close();
  process.stdout.write(`${JSON.stringify({ rtpPackets: RTP_PACKETS, tftpBytes: bytes })}\n`);
}

// Run as a script only (the test imports the ports from this file).
if (import.meta.filename === process.argv[1]) {
  if (process.argv[2] === "server") await server();
  else if (process.argv[2] === "client") await client(process.argv[3]!, process.argv[4]!);
  else throw new Error("usage: sip-tftp.ts server ADDR | client SERVER LOCAL");
}
