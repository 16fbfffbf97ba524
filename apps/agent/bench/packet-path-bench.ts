// CPU per queued packet of a data-plane worker's user-space path, without a kernel:
// NFQNL_MSG_PACKET messages as the kernel writes them, parsed (netlink.ts), classified
// (PacketClassifier: junk-payload one-way UDP flows, round-robin, every packet inside its
// window) and verdicted into NFQNL_MSG_VERDICT_BATCH messages, in batches of 64 as
// queue-io.ts receives them. Stages are measured alone and together in the same run, by
// CPU time (less sensitive to other jobs than wall time).
// Env: FLOWS (20000), ROUNDS (3), PAYLOAD (junk).
// Run: node --expose-gc apps/agent/bench/packet-path-bench.ts (a GC before each round)
import { fileURLToPath } from "node:url";
import { catalogueBeside, loadAppCatalogue, loadPatternDirs } from "@sluice/classifier";
import { markFields } from "@sluice/policy";
import { PacketClassifier } from "../src/nfqueue/packet-classifier.ts";
import { VerdictBatch, VERDICT_MSG_LEN, parseMessages, type PacketView } from "../src/nfqueue/netlink.ts";

const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const FLOWS = Number(process.env.FLOWS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WINDOW = 10;
// "junk": nothing matches, every flow is inspected over its whole window (WINDOW packets
// each); "torrent": a BitTorrent DHT query, decided at its first packet (one packet each:
// the kernel keeps a decided connection's later packets out of the queue).
const PAYLOAD = process.env.PAYLOAD ?? "junk";
const PACKETS = PAYLOAD === "torrent" ? 1 : WINDOW;
const BATCH = 64;

/** One NFQNL_MSG_PACKET: nlmsghdr, nfgenmsg, packet header, mark, payload. */
function packetMessage(buf: Buffer, off: number, id: number, payload: Buffer): number {
  const attr = (o: number, type: number, len: number) => {
    buf.writeUInt16LE(4 + len, o);
    buf.writeUInt16LE(type, o + 2);
    return o + 4;
  };
  let o = off + 20;
  let a = attr(o, 1, 7); // NFQA_PACKET_HDR: id, hw protocol, hook
  buf.writeUInt32BE(id, a);
  buf.writeUInt16BE(0x0800, a + 4);
  buf[a + 6] = 0;
  o += 12;
  a = attr(o, 3, 4); // NFQA_MARK
  buf.writeUInt32BE(0, a);
  o += 8;
  a = attr(o, 10, payload.length); // NFQA_PAYLOAD
  payload.copy(buf, a);
  o += (4 + payload.length + 3) & ~3;
  buf.writeUInt32LE(o - off, off);
  buf.writeUInt16LE((3 << 8) | 0, off + 4);
  return o - off;
}

const pkt = Buffer.alloc(46, 0x78);
pkt[0] = 0x45;
pkt.writeUInt16BE(46, 2);
pkt[6] = 0x40;
pkt[7] = 0;
pkt[8] = 64;
pkt[9] = 17;
pkt.set([10, 0, 0, 2, 10, 0, 1, 2], 12);
pkt.writeUInt16BE(5000, 22);
pkt.writeUInt16BE(26, 24);
if (PAYLOAD === "torrent") pkt.write("d1:ad2:id20:", 28, "latin1");

const ring = Buffer.alloc(FLOWS * 96);
const lens = new Int32Array(FLOWS);
const verdictBuf = Buffer.alloc((BATCH * 4 + 8) * VERDICT_MSG_LEN);

function newClassifier(): PacketClassifier {
  const f = markFields();
  return new PacketClassifier({
    queue: 0,
    matcher: loadPatternDirs([PROTOCOLS]),
    window: { packets: WINDOW, bytes: 2048 },
    maxFlows: 2 * FLOWS,
    routing: { mask: f.protocol.mask, shift: f.protocol.shift, app: f.app, host: f.host, hostRules: [] },
    apps: loadAppCatalogue(catalogueBeside(PROTOCOLS)),
  });
}

/**
 * One packet of every flow per round (the generator's round-robin), as the kernel queues
 * them: each message a datagram of its own, received `BATCH` at a time. Returns the CPU
 * time (user + system, µs) per packet of parsing + (stage "full") classifying + verdicts;
 * building the messages is not counted.
 */
const classifiers = new Map<string, PacketClassifier>();
const gc = (globalThis as { gc?: () => void }).gc;

function run(stage: "parse" | "full", seed: number): number {
  // One classifier per stage for every round (as a worker keeps its own), new flows each round.
  let pc = classifiers.get(stage);
  if (!pc) classifiers.set(stage, (pc = newClassifier()));
  gc?.();
  const verdicts = new VerdictBatch(verdictBuf, 0);
  let id = 1;
  let us = 0;
  let handled = 0;
  const sink = {
    packet: (p: PacketView) => {
      const mark = stage === "full" ? pc.handle(p, ring) : p.mark | 0x100;
      handled++;
      verdicts.add(p.id, 1, mark);
    },
    error: () => {},
  };
  for (let n = 0; n < PACKETS; n++) {
    pc.setTime(1000.37 + 20 * seed + n);
    let off = 0;
    for (let flow = 0; flow < FLOWS; flow++) {
      pkt[14] = seed;
      pkt[15] = Math.floor(flow / 50_000);
      pkt.writeUInt16BE(10_000 + (flow % 50_000), 20);
      lens[flow] = packetMessage(ring, off, id++, pkt);
      off += lens[flow]!;
    }
    const t0 = process.cpuUsage();
    off = 0;
    for (let i = 0; i < FLOWS; i += BATCH) {
      const k = Math.min(BATCH, FLOWS - i);
      for (let j = 0; j < k; j++) {
        parseMessages(ring, off, lens[i + j]!, sink);
        off += lens[i + j]!;
      }
      verdicts.close();
      verdicts.reset();
    }
    const t = process.cpuUsage(t0);
    us += t.user + t.system;
  }
  return us / handled;
}

console.log(
  `packet path bench: ${FLOWS} one-way UDP flows x ${PACKETS} packets (${PAYLOAD}), batches of ${BATCH}`,
);
const res: Record<string, number[]> = { parse: [], full: [] };
for (let r = 0; r < ROUNDS; r++)
  for (const stage of ["parse", "full"] as const)
    res[stage]!.push(run(stage, r * 2 + (stage === "full" ? 1 : 0)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [k, v] of Object.entries(res))
  console.log(
    `  ${k.padEnd(6)} ${median(v).toFixed(2)} µs of CPU per packet [${v.map((x) => x.toFixed(2)).join(", ")}]`,
  );
