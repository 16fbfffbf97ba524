// Classifier benchmark on the nDPI corpus. Every figure that is a goal is printed as a
// ratio against a baseline measured in the same run:
//   - RE2.Set (all patterns in one pass) vs a loop of single regexes, same pattern set;
//   - Sluice's protocols/ vs the classic l7-filter set, same engine;
//   - the dissectors (host names, DNS cache, applications) on vs off, same pattern set.
// The engine rows run without dissectors (plain l7-filter semantics).
// Run: npm run bench (from the repo root) or node packages/classifier/bench/throughput.ts

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  loadPatternDirs,
  loadAppCatalogue,
  readCaptureFile,
  decodeFrame,
  FlowTable,
  CaptureError,
  type DecodedPacket,
  type FlowTableOptions,
  type Matcher,
  type PatternSet,
} from "../src/index.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CORPUS = join(ROOT, "../shared/corpus/ndpi/pcap");
const CLASSIC = join(ROOT, "../shared/l7-protocols/protocols");
const OURS = join(ROOT, "protocols");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

if (!existsSync(CORPUS)) {
  console.log(`classifier bench skipped: ${CORPUS} not present`);
  process.exit(0);
}

// Decode once: the bench measures classification, not file I/O.
const packets: { p: DecodedPacket; t: number }[] = [];
for (const f of readdirSync(CORPUS).sort()) {
  try {
    for (const r of readCaptureFile(join(CORPUS, f))) {
      const d = decodeFrame(r.linkType, r.data);
      if (d.ok) packets.push({ p: d.packet, t: r.time });
    }
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
  }
}

interface Run {
  seconds: number;
  flows: number;
  inspectedBytes: number;
  inspectedPackets: number;
}

function run(matcher: Matcher, extra: Partial<FlowTableOptions>): Run {
  const table = new FlowTable(matcher, { maxFlows: 1 << 20, dissect: false, ...extra });
  let inspectedBytes = 0;
  let inspectedPackets = 0;
  table.onFlowEnd = (f) => {
    inspectedBytes += f.inspectedBytes;
  };
  // CPU time, not wall time: on a shared machine the wall clock mostly measures the others.
  const start = process.cpuUsage();
  for (const { p, t } of packets) {
    const r = table.observe(p, t);
    if (r.flow.inspecting || r.decided) inspectedPackets++;
  }
  const used = process.cpuUsage(start);
  const seconds = (used.user + used.system) / 1e6;
  const st = table.stats();
  for (const f of table.drain()) inspectedBytes += f.inspectedBytes;
  return { seconds, flows: st.created, inspectedBytes, inspectedPackets };
}

function best(matcher: Matcher, extra: Partial<FlowTableOptions> = {}): Run {
  let b: Run | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    const r = run(matcher, extra);
    if (!b || r.seconds < b.seconds) b = r;
  }
  return b!;
}

// The same work but the flow patterns' matching (packet patterns run as sets on both sides).
const sequential = (set: PatternSet): Matcher => ({
  match: (s, t) => set.matchSequential(s, t),
  get: (n) => set.get(n),
  hasPacketPatterns: (t) => set.hasPacketPatterns(t),
  matchPacket: (b, t) => set.matchPacket(b, t),
});

function memoryPerFlow(set: PatternSet): { inspecting: number; decided: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return { inspecting: NaN, decided: NaN };
  const N = 20000;
  const payload = Buffer.alloc(512, 0x7a); // 'z': matches nothing, so flows stay in inspection
  const measure = (packetsPerFlow: number) => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const table = new FlowTable(set, { maxFlows: N, window: { packets: 4, bytes: 2048 }, dissect: false });
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < packetsPerFlow; k++) {
        table.observe(
          {
            family: 4,
            l4: "udp",
            src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
            dst: "192.0.2.1",
            sport: 1024 + (i % 60000),
            dport: 9,
            ipLength: 540,
            payload,
            tcp: null,
            vlan: null,
          },
          1,
        );
      }
    }
    gc();
    const bytes = (process.memoryUsage().heapUsed - before) / N;
    if (table.size !== N) throw new Error("flows were evicted during the memory probe");
    return bytes;
  };
  return { inspecting: measure(3), decided: measure(4) };
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const ours = loadPatternDirs([OURS]);
const classic = existsSync(CLASSIC) ? loadPatternDirs([CLASSIC]) : null;

console.log(
  `classifier bench: ${packets.length} packets from the nDPI corpus, best of ${ROUNDS} rounds (CPU time)`,
);
console.log(
  `pattern sets: protocols/ ${ours.size} patterns${classic ? `, classic l7-filter ${classic.size} patterns` : ""}\n`,
);

// Warm-up, not measured: the process's first runs grow its heap (page faults, counted as
// system CPU) and compile the hot code; without it the first row measured that, not the
// table (2026-12-06: ~55k new flows/s in the first row against ~85k for the same work in
// the dissector section's rounds further down).
for (let i = 0; i < 2; i++) {
  run(ours, {});
  run(ours, { dissect: true, apps: loadAppCatalogue() });
}

const rows: [string, Run][] = [
  ["protocols/  RE2.Set", best(ours)],
  ["protocols/  sequential", best(sequential(ours))],
];
if (classic) {
  rows.push(["classic     RE2.Set", best(classic)]);
  rows.push(["classic     sequential", best(sequential(classic))]);
}
console.log("engine                  MB/s inspected  new flows/s  µs/packet  µs/inspected pkt");
for (const [name, r] of rows) {
  console.log(
    `${name.padEnd(22)}  ${fmt(r.inspectedBytes / 1e6 / r.seconds).padStart(15)}  ${fmt(r.flows / r.seconds, 0).padStart(11)}  ${fmt((r.seconds * 1e6) / packets.length, 3).padStart(9)}  ${fmt((r.seconds * 1e6) / r.inspectedPackets, 2).padStart(16)}`,
  );
}
const [set, seq] = [rows[0]![1], rows[1]![1]];
console.log(`\nratio RE2.Set ÷ sequential (protocols/): ${fmt(seq.seconds / set.seconds, 2)}× faster`);
if (classic) {
  const [cset, cseq] = [rows[2]![1], rows[3]![1]];
  console.log(`ratio RE2.Set ÷ sequential (classic):    ${fmt(cseq.seconds / cset.seconds, 2)}× faster`);
  console.log(
    `ratio protocols/ ÷ classic (RE2.Set):    ${fmt(cset.seconds / set.seconds, 2)}× the classic set's speed`,
  );
}
// Dissectors (TLS/QUIC/HTTP/DNS, DNS cache, catalogue matching): the same packets with and
// without them, rounds alternating so that both see the same machine state.
{
  const apps = loadAppCatalogue();
  let off: Run | null = null;
  let on: Run | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    const a = run(ours, { dissect: false });
    const b = run(ours, { dissect: true, apps });
    if (!off || a.seconds < off.seconds) off = a;
    if (!on || b.seconds < on.seconds) on = b;
  }
  const extraPerFlow = ((on!.seconds - off!.seconds) * 1e6) / on!.flows;
  console.log(
    `\ndissectors (protocols/, RE2.Set; TLS/QUIC/HTTP/DNS, DNS cache, ${apps.size}-app catalogue), best of ${ROUNDS} alternating rounds:`,
  );
  console.log(
    `  without: ${fmt((off!.seconds * 1e6) / packets.length, 3)} µs/packet, ${fmt(off!.flows / off!.seconds, 0)} new flows/s`,
  );
  console.log(
    `  with:    ${fmt((on!.seconds * 1e6) / packets.length, 3)} µs/packet, ${fmt(on!.flows / on!.seconds, 0)} new flows/s`,
  );
  console.log(
    `  ratio with ÷ without: ${fmt(on!.seconds / off!.seconds, 2)}× the time; extra cost per new flow: ${fmt(extraPerFlow, 2)} µs`,
  );
}

// Packet patterns (`# Subject: packet`: natpmp, memcached's binary form) cost one more set
// per UDP datagram and per TCP direction's first payload: the same packets with the set as
// it is and with its packet patterns hidden, rounds alternating.
{
  const withoutPackets: Matcher = { match: (s, t, seen) => ours.match(s, t, seen), get: (n) => ours.get(n) };
  let off: Run | null = null;
  let on: Run | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    const a = run(withoutPackets, {});
    const b = run(ours, {});
    if (!off || a.seconds < off.seconds) off = a;
    if (!on || b.seconds < on.seconds) on = b;
  }
  console.log(`
packet patterns (protocols/, RE2.Set), best of ${ROUNDS} alternating rounds:`);
  console.log(
    `  without: ${fmt((off!.seconds * 1e6) / packets.length, 3)} µs/packet; with: ${fmt((on!.seconds * 1e6) / packets.length, 3)} µs/packet`,
  );
  console.log(`  ratio with ÷ without: ${fmt(on!.seconds / off!.seconds, 2)}× the time`);
}

const mem = memoryPerFlow(ours);
console.log(
  `\nmemory per flow: ${fmt(mem.inspecting, 0)} B while inspected (1536 B of payload buffered), ${fmt(mem.decided, 0)} B once decided` +
    (Number.isNaN(mem.inspecting) ? " (run with --expose-gc)" : ""),
);
