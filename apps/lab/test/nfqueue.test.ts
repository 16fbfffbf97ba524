// The NFQUEUE data plane for real, as root, in network namespaces this test creates and
// always removes: client ns -> router ns (forwarding, the mangle rules the agent renders,
// the data plane under `ip netns exec`) -> server ns. Marks are read back from the router's
// conntrack (the protocol field, 0xff00).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { NetnsLab, labUnavailable, removeStaleLabs } from "../src/netns-lab.ts";
import { installRenderedRules } from "../src/rendered-rules.ts";
import { DataPlaneProcess, RUN_DP } from "./support/data-plane-process.ts";

const NODE = process.execPath;

const skip: string | false = labUnavailable() ?? false;

// Marks as the rules and the data plane agree on: l7 mark << 8 inside 0xff00 (the protocol
// field; the rules save the app and hostname-rule fields to the connection too).
const PROTOCOL_FIELD = 0xff00;
const UNKNOWN = 2 << 8;
const HELLO = 3 << 8;
const HTTP = 4 << 8;
const UDPPING = 5 << 8;
const ZZZ = 6 << 8;
const MARKS = new Map([
  ["hello", 3],
  ["http", 4],
  ["udpping", 5],
]);

const SERVER_JS = `
import net from "node:net";
import http from "node:http";
import dgram from "node:dgram";
let pending = 4;
const up = () => { if (--pending === 0) console.log("listening"); };
const tcp = (s) => { s.setNoDelay(true); s.on("data", (d) => s.write("ok " + d.length + "\\n")); s.on("error", () => {}); };
for (const p of [7000, 7003]) net.createServer(tcp).listen(p, "::", up);
http.createServer((req, res) => res.end("hi\\n")).listen(8080, "::", up);
const u = dgram.createSocket("udp6");
u.on("message", (m, r) => u.send("pong " + m.length, r.port, r.address));
u.bind(7001, "::", up);
`;

// A TCP client: sends each message after the previous reply; with --hold, stays connected
// and sends stdin lines ("END" closes). Reports JSON lines.
const TCP_CLIENT_JS = `
import net from "node:net";
import readline from "node:readline";
const [host, port, ...rest] = process.argv.slice(1);
const hold = rest[0] === "--hold";
const pending = hold ? rest.slice(1) : rest;
const out = (o) => console.log(JSON.stringify(o));
const s = net.connect({ host, port: Number(port) });
s.setNoDelay(true);
const next = () => { if (pending.length) s.write(pending.shift()); else if (!hold) s.end(); };
s.on("connect", () => { out({ event: "connected", localPort: s.localPort }); next(); });
let buf = "";
s.on("data", (d) => {
  buf += d;
  for (let i; (i = buf.indexOf("\\n")) >= 0; ) { out({ event: "reply", line: buf.slice(0, i) }); buf = buf.slice(i + 1); next(); }
});
if (hold) readline.createInterface({ input: process.stdin }).on("line", (l) => (l === "END" ? s.end() : s.write(l)));
s.on("close", () => { out({ event: "closed" }); process.exit(0); });
s.on("error", (e) => { out({ event: "error", message: e.message }); process.exit(1); });
setTimeout(() => { out({ event: "timeout" }); process.exit(2); }, hold ? 120000 : 10000);
`;

const UDP_CLIENT_JS = `
import dgram from "node:dgram";
const [host, port, count, msg] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
let left = Number(count);
const replies = [];
s.on("message", (m) => { replies.push(m.toString()); if (--left > 0) s.send(msg, Number(port), host); else done(); });
const done = () => { console.log(JSON.stringify({ localPort: s.address().port, replies })); process.exit(0); };
s.bind(0, () => s.send(msg, Number(port), host));
setTimeout(done, 3000);
`;

let lab: NetnsLab;
let dir: string;
let patterns: string;
let dp: DataPlaneProcess | null = null;
let server: ChildProcess | null = null;

async function startDataPlane(extra: string[] = []): Promise<DataPlaneProcess> {
  const p = new DataPlaneProcess(lab, ["--queues", "0", "--protocols", patterns, "--events", ...extra]);
  await p.waitFor((l) => l.event === "ready", "ready line");
  return p;
}

function tcpClient(host: string, port: number, ...messages: string[]) {
  const r = lab.exec(lab.client, NODE, [
    "--input-type=module",
    "-e",
    TCP_CLIENT_JS,
    host,
    String(port),
    ...messages,
  ]);
  const lines = r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; localPort?: number; line?: string });
  const localPort = lines.find((l) => l.event === "connected")?.localPort;
  assert.ok(localPort, `tcp client failed: ${r.stdout} ${r.stderr}`);
  return {
    localPort,
    replies: lines.filter((l) => l.event === "reply").map((l) => l.line),
    closed: lines.at(-1),
  };
}

function udpClient(host: string, port: number, count: number, msg: string) {
  const r = lab.exec(lab.client, NODE, [
    "--input-type=module",
    "-e",
    UDP_CLIENT_JS,
    host,
    String(port),
    String(count),
    msg,
  ]);
  return JSON.parse(r.stdout) as { localPort: number; replies: string[] };
}

function curl(host: string, port: number) {
  const url = host.includes(":") ? `http://[${host}]:${port}/` : `http://${host}:${port}/`;
  const r = lab.exec(lab.client, "curl", ["-s", "-m", "5", "-w", "|%{local_port}", url]);
  assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
  const at = r.stdout.lastIndexOf("|");
  return { body: r.stdout.slice(0, at).trim(), localPort: Number(r.stdout.slice(at + 1)) };
}

/** The protocol field of a connection's mark in the router's conntrack. */
function ctMark(family: 4 | 6, l4: string, sport: number, dport: number): number {
  const e = lab.conntrack(family).find((c) => c.l4 === l4 && c.sport === sport && c.dport === dport);
  assert.ok(e, `no conntrack entry for ${l4} ${sport}->${dport}`);
  return e.mark & PROTOCOL_FIELD;
}

/**
 * With no data plane bound, --queue-bypass lets a connection through unclassified: its
 * protocol field stays 0, or becomes "unknown" once it passes the window (the rules' own
 * verdict for a window that never reached userspace); never a protocol.
 */
function assertNoVerdict(field: number) {
  assert.ok(field === 0 || field === UNKNOWN, `mark field 0x${field.toString(16)}: 0 or unknown expected`);
}

/** Packets counted by the router's NFQUEUE rules (both families). */
function queuedPackets(): number {
  let n = 0;
  for (const cmd of ["iptables", "ip6tables"]) {
    const out = lab.mustExec(lab.router, cmd, ["-t", "mangle", "-L", "SLUICE_FWD", "-v", "-x", "-n"]);
    for (const line of out.split("\n")) if (/NFQUEUE/.test(line)) n += Number(line.trim().split(/\s+/)[0]);
  }
  return n;
}

/** Packets counted by a rule in the router's mangle FORWARD chain matching `pattern`. */
function forwardCounter(pattern: RegExp): number {
  const out = lab.mustExec(lab.router, "iptables", ["-t", "mangle", "-L", "FORWARD", "-v", "-x", "-n"]);
  const line = out.split("\n").find((l) => pattern.test(l));
  assert.ok(line, `no FORWARD rule matching ${pattern}`);
  return Number(line.trim().split(/\s+/)[0]);
}

before(async () => {
  if (skip) return;
  removeStaleLabs();
  lab = NetnsLab.create("t", 10);
  // Tear down even when interrupted (a lab of a killed run is removed by the next run).
  process.once("exit", () => lab.destroy());
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      lab.destroy();
      process.exit(130);
    });
  dir = mkdtempSync(join(tmpdir(), "sltest-nfq-"));
  patterns = join(dir, "protocols");
  const files: Record<string, string> = {
    "hello.pat": "# Test protocol\nhello\n^hello\n",
    "http.pat": "http\n^(get|post|head) [\\x09-\\x0d -~]* http/1\\.[01]\n",
    "udpping.pat": "# Transport: udp\nudpping\n^sluice-ping\n",
    "l7-filter.conf": "hello 3\nhttp 4\nudpping 5\n",
  };
  mkdirSync(patterns);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(patterns, name), text);

  // One queue: the per-flow figures below read one worker's counters. (With several, the
  // rules balance by a hash symmetric on the addresses, so a connection's two directions
  // still meet in one worker; queueing by CPU split them and was dropped.)
  installRenderedRules(lab, { queues: 1, packets: 10, protocolMarks: MARKS }, [4, 6]);
  // Observers for the "other mark bits survive" test: port 7003 gets low bits set before
  // Sluice's restore (0x5 in the packet mark, 0x70 in the connection's), and a counter in
  // FORWARD sees the packets' final mark.
  lab.mustExec(
    lab.router,
    "nft",
    ["-f", "-"],
    [
      "table inet others {",
      "  chain pre {",
      "    type filter hook prerouting priority mangle - 20; policy accept;",
      "    tcp dport 7003 meta mark set meta mark | 0x5",
      "    tcp dport 7003 ct state new ct mark set ct mark | 0x70",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  lab.restoreRules(
    lab.router,
    [
      "*mangle",
      "-A FORWARD -p tcp --dport 7003 -m mark --mark 0x305/0xffff",
      "-A FORWARD -p tcp --dport 7003 -m mark --mark 0x5/0xffff",
      "COMMIT",
      "",
    ].join("\n"),
    [4],
  );

  server = lab.spawn(lab.server, NODE, ["--input-type=module", "-e", SERVER_JS]);
  await new Promise<void>((resolve, reject) => {
    server!.stdout!.once("data", () => resolve());
    server!.once("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
  dp = await startDataPlane();
});

after(() => {
  if (skip) return;
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the rules' queue is bound, copying packets; connbytes turned accounting on", { skip }, () => {
  const q = lab.mustExec(lab.router, "cat", ["/proc/net/netfilter/nfnetlink_queue"]).trim().split("\n");
  // queue_number peer_portid queue_total copy_mode copy_range ...
  assert.deepEqual(
    q.map((l) => l.trim().split(/\s+/)).map((f) => [f[0], f[3], f[4]]),
    [["0", "2", "2176"]],
  );
  const v = lab.mustExec(lab.router, "sysctl", ["-n", "net.netfilter.nf_conntrack_acct"]).trim();
  assert.equal(v, "1");
});

test("a TCP flow matching a pattern gets the protocol's mark (3 << 8) in conntrack", { skip }, async () => {
  const c = tcpClient(lab.addr.server4, 7000, "hello there", "second");
  assert.deepEqual(c.replies, ["ok 11", "ok 6"]);
  assert.equal(ctMark(4, "tcp", c.localPort, 7000), HELLO);
  const ev = await dp!.flowEvent(lab.addr.client4, c.localPort);
  assert.equal(ev.protocol, "hello");
  assert.equal(ev.mark, 3);
  assert.equal(ev.l4, "tcp");
  assert.equal(ev.server, `${lab.addr.server4}:7000`);
  assert.equal(ev.decidedAtPacket, 4); // SYN, SYN-ACK, ACK, then the first data packet
});

test("a real HTTP request (curl) is classified http", { skip }, async () => {
  const r = curl(lab.addr.server4, 8080);
  assert.equal(r.body, "hi");
  assert.equal(ctMark(4, "tcp", r.localPort, 8080), HTTP);
  assert.equal((await dp!.flowEvent(lab.addr.client4, r.localPort)).protocol, "http");
});

test(
  "an unmatched TCP connection ends as unknown (2 << 8) once the 10-packet window is spent",
  { skip },
  async () => {
    const c = tcpClient(lab.addr.server4, 7000, ..."abcdefghij".split(""));
    assert.equal(c.replies.length, 10);
    assert.equal(ctMark(4, "tcp", c.localPort, 7000), UNKNOWN);
    const ev = await dp!.flowEvent(lab.addr.client4, c.localPort);
    assert.equal(ev.protocol, "unknown");
    assert.equal(ev.decidedAtPacket, 10);
  },
);

test("UDP flows are classified (IPv4 and IPv6)", { skip }, async () => {
  const u4 = udpClient(lab.addr.server4, 7001, 3, "sluice-ping!");
  assert.deepEqual(u4.replies, ["pong 12", "pong 12", "pong 12"]);
  assert.equal(ctMark(4, "udp", u4.localPort, 7001), UDPPING);
  const ev = await dp!.flowEvent(lab.addr.client4, u4.localPort);
  assert.equal(ev.l4, "udp");
  assert.equal(ev.decidedAtPacket, 1);

  const u6 = udpClient(lab.addr.server6, 7001, 2, "sluice-ping6");
  assert.equal(u6.replies.length, 2);
  assert.equal(ctMark(6, "udp", u6.localPort, 7001), UDPPING);
});

test("IPv6 TCP flows are classified (ip6tables rules, same queues)", { skip }, async () => {
  const r = curl(lab.addr.server6, 8080);
  assert.equal(r.body, "hi");
  assert.equal(ctMark(6, "tcp", r.localPort, 8080), HTTP);
  const c = tcpClient(lab.addr.server6, 7000, "hello v6");
  assert.equal(ctMark(6, "tcp", c.localPort, 7000), HELLO);
  const ev = await dp!.flowEvent(lab.addr.client6, c.localPort);
  assert.equal(ev.client, `[${lab.addr.client6}]:${c.localPort}`);
});

test("the verdict sets only the masked bits: other bits of the packet mark are kept", { skip }, () => {
  const before305 = forwardCounter(/mark match 0x305\/0xffff/);
  const c = tcpClient(lab.addr.server4, 7003, "hello low bits", "again");
  assert.equal(c.replies.length, 2);
  // The save keeps the connection's other bits (0x70), the restore the packet's (0x5).
  const e = lab.conntrack(4).find((x) => x.l4 === "tcp" && x.sport === c.localPort && x.dport === 7003);
  assert.equal(e?.mark, HELLO | 0x70);
  // Packets after the verdict carry 0x300 (restored) | 0x5 (set before Sluice's chain).
  assert.ok(forwardCounter(/mark match 0x305\/0xffff/) - before305 >= 3);
});

test(
  "after the verdict the connection's packets bypass the queue (connbytes + restored mark)",
  { skip },
  () => {
    const q0 = queuedPackets();
    const c = tcpClient(lab.addr.server4, 7000, "hello", ...Array.from({ length: 30 }, (_, i) => `m${i}`));
    assert.equal(c.replies.length, 31);
    const queued = queuedPackets() - q0;
    const e = lab.conntrack(4).find((x) => x.sport === c.localPort && x.dport === 7000)!;
    assert.equal(e.mark & PROTOCOL_FIELD, HELLO);
    assert.ok(queued <= 5, `queued ${queued} packets (decided at the 4th)`);
    assert.ok(e.packets > 30, "conntrack accounting counts the whole connection");
  },
);

test("reload swaps the pattern set without a restart (SIGHUP to run-data-plane)", { skip }, async () => {
  writeFileSync(join(patterns, "zzz.pat"), "zzz\n^zzz\n");
  appendFileSync(join(patterns, "l7-filter.conf"), "zzz 6\n");
  const before = dp!.lines.filter((l) => l.event === "reloaded").length;
  dp!.child.kill("SIGHUP");
  await dp!.waitFor(() => dp!.lines.filter((l) => l.event === "reloaded").length > before, "reloaded line");
  const c = tcpClient(lab.addr.server4, 7000, "zzz top");
  assert.equal(ctMark(4, "tcp", c.localPort, 7000), ZZZ);
  assert.equal((await dp!.flowEvent(lab.addr.client4, c.localPort)).protocol, "zzz");
});

let earlyPort = 0;
let longLived: { child: ChildProcess; localPort: number; lines: string[] } | null = null;

async function longLivedSend(msg: string): Promise<string> {
  const l = longLived!;
  const n = l.lines.length;
  l.child.stdin!.write(`${msg}\n`);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const reply = l.lines.slice(n).find((x) => x.includes('"reply"'));
    if (reply) return (JSON.parse(reply) as { line: string }).line;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`long-lived connection: no reply to ${msg}`);
}

test("SIGKILL: traffic keeps flowing (--queue-bypass), new connections get no mark", { skip }, async () => {
  // A connection classified before the data plane dies.
  const child = lab.spawn(
    lab.client,
    NODE,
    ["--input-type=module", "-e", TCP_CLIENT_JS, lab.addr.server4, "7000", "--hold", "hello long-lived"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  longLived = { child, localPort: 0, lines: [] };
  let buf = "";
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf("\n")) >= 0;) {
      longLived!.lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const deadline = Date.now() + 5000;
  while (!longLived.lines.some((l) => l.includes('"reply"')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  longLived.localPort = (JSON.parse(longLived.lines[0]!) as { localPort: number }).localPort;
  assert.equal(ctMark(4, "tcp", longLived.localPort, 7000), HELLO);
  const early = tcpClient(lab.addr.server4, 7000, "hello early");
  assert.equal(ctMark(4, "tcp", early.localPort, 7000), HELLO);

  dp!.child.kill("SIGKILL");
  await dp!.exited;
  dp = null;
  // The queues are gone from the kernel with the process.
  const q = lab.exec(lab.router, "cat", ["/proc/net/netfilter/nfnetlink_queue"]).stdout.trim();
  assert.equal(q, "", `queues still bound: ${q}`);

  const r = curl(lab.addr.server4, 8080);
  assert.equal(r.body, "hi");
  assertNoVerdict(ctMark(4, "tcp", r.localPort, 8080));
  const c = tcpClient(lab.addr.server4, 7000, "hello unclassified", "more");
  assert.deepEqual(c.replies, ["ok 18", "ok 4"]);
  assertNoVerdict(ctMark(4, "tcp", c.localPort, 7000));
  const u = udpClient(lab.addr.server4, 7001, 2, "sluice-ping");
  assert.equal(u.replies.length, 2);
  assertNoVerdict(ctMark(4, "udp", u.localPort, 7001));
  assert.equal(await longLivedSend("still there"), "ok 11");
  assert.equal(ctMark(4, "tcp", longLived.localPort, 7000), HELLO);
  earlyPort = early.localPort;
});

test(
  "restart (io libnfq): new connections are classified again, earlier marks are kept",
  { skip },
  async () => {
    dp = await startDataPlane(["--io", "libnfq"]); // the textbook callback path this time
    const r = curl(lab.addr.server4, 8080);
    assert.equal(ctMark(4, "tcp", r.localPort, 8080), HTTP);
    const c = tcpClient(lab.addr.server4, 7000, "hello again");
    assert.equal(ctMark(4, "tcp", c.localPort, 7000), HELLO);
    assert.equal(await longLivedSend("after restart"), "ok 13");
    assert.equal(ctMark(4, "tcp", longLived!.localPort, 7000), HELLO);
    assert.equal(ctMark(4, "tcp", earlyPort, 7000), HELLO);
    longLived!.child.stdin!.end("END\n");
  },
);

const ICMP_PY = `
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(3)
body = struct.pack("!HH", 0x5151, 1) + b"sluice-icmp-test"
pkt = struct.pack("!BBH", 8, 0, 0) + body
pkt = struct.pack("!BBH", 8, 0, csum(pkt)) + body
s.sendto(pkt, (sys.argv[1], 0))
while True:
    data, _ = s.recvfrom(2048)
    if data[20] == 0:
        print("reply"); break
`;

test("non-TCP/UDP packets (ICMP) are accepted with their mark untouched", { skip }, async () => {
  const r = lab.exec(lab.client, "python3", ["-c", ICMP_PY, lab.addr.server4]);
  assert.equal(r.stdout.trim(), "reply", r.stderr);
  const ct = lab.mustExec(lab.router, "conntrack", ["-L", "-p", "icmp", "-d", lab.addr.server4]);
  const line = ct.split("\n").find((l) => l.startsWith("icmp"));
  assert.ok(line, `no icmp conntrack entry: ${ct}`);
  assert.match(line, /\bmark=0\b/);
});

test("a second data plane can't bind the same queues and says why", { skip }, async () => {
  const second = new DataPlaneProcess(lab, ["--queues", "0", "--protocols", patterns]);
  const code = await second.exited;
  assert.equal(code, 1);
  assert.match(second.stderr, /nfq_create_queue\(\d\) failed/);
  // The first one is unaffected.
  const c = tcpClient(lab.addr.server4, 7000, "hello still");
  assert.equal(ctMark(4, "tcp", c.localPort, 7000), HELLO);
});

test("SIGTERM: clean stop (exit 0, final stats), queues unbound, traffic still flows", { skip }, async () => {
  const p = dp!;
  p.child.kill("SIGTERM");
  const code = await p.exited;
  dp = null;
  assert.equal(code, 0, p.stderr);
  const stopped = await p.waitFor((l) => l.event === "stopped", "stopped line");
  assert.ok((stopped.packets as number) > 0);
  assert.ok((stopped.decided as number) >= 1);
  assert.ok((stopped.passthrough as number) >= 2, "the ICMP echo and its reply were passed through");
  const q = lab.exec(lab.router, "cat", ["/proc/net/netfilter/nfnetlink_queue"]).stdout.trim();
  assert.equal(q, "");
  const r = curl(lab.addr.server4, 8080);
  assert.equal(r.body, "hi");
  assertNoVerdict(ctMark(4, "tcp", r.localPort, 8080));
});

test(
  "connections older than the rules are classified, nf_conntrack_acct on first or not",
  { skip },
  async () => {
    // connbytes turns accounting on when its rule is loaded, but connections tracked before
    // that have no counters: connbytes never matches them. The agent's layout still sees
    // them: an undecided connection that fails the window rule is queued marked unknown (the
    // "late" rule), and the data plane decides it from that packet when it matches.
    const HOLD = `const s = require("node:net").connect(7000, process.argv[1], () => console.log(s.localPort));
    require("node:readline").createInterface({ input: process.stdin }).on("line", (l) => s.write(l));
    s.on("data", () => console.log("reply"));`;
    const marks: Record<string, number> = {};
    for (const acctFirst of [false, true]) {
      const l2 = NetnsLab.create(acctFirst ? "acct1" : "acct0", 11);
      try {
        if (acctFirst) l2.sysctl(l2.router, "net.netfilter.nf_conntrack_acct", "1");
        l2.restoreRules(l2.router, "*mangle\n-A FORWARD -m conntrack --ctstate NEW\nCOMMIT\n", [4]); // conntrack on
        const srv = l2.spawn(l2.server, NODE, ["--input-type=module", "-e", SERVER_JS]);
        await new Promise((r) => srv.stdout!.once("data", r));
        const cli = l2.spawn(l2.client, NODE, ["-e", HOLD, l2.addr.server4], {
          stdio: ["pipe", "pipe", "pipe"],
        });
        const port = await new Promise<number>((r) =>
          cli.stdout!.once("data", (d: Buffer) => r(Number(String(d)))),
        );
        installRenderedRules(l2, { queues: 1, packets: 10, protocolMarks: MARKS });
        const p = l2.spawn(l2.router, NODE, [RUN_DP, "--queues", "0", "--protocols", patterns]);
        await new Promise((r) => p.stdout!.once("data", r));
        cli.stdin!.write("hello from an older connection\n");
        await new Promise<void>((r) => cli.stdout!.once("data", () => r()));
        const e = l2.conntrack(4).find((c) => c.sport === port && c.dport === 7000);
        marks[String(acctFirst)] = e ? e.mark & PROTOCOL_FIELD : -1;
      } finally {
        l2.destroy();
      }
    }
    assert.deepEqual(marks, { false: HELLO, true: HELLO });
  },
);
