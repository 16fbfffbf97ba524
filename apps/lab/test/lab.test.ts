// `sluice lab`: the real three-namespace lab, as root. Brings it up (twice: `lab up` must
// rebuild an existing lab), checks the topology, the servers through the box, NAT, the
// traffic mix as conntrack in sluice-box sees it, recovery from a box that resets
// everything, then `lab down`. Tears down in after() whatever happens.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  execInNs,
  GENERATOR_KINDS,
  isLabProcess,
  LAB,
  labDown,
  labProbe,
  labStatus,
  labUp,
  SERVER_KINDS,
  type DnsProbeResult,
  type HttpProbeResult,
  type LabState,
  type TlsProbeResult,
} from "../src/index.ts";

const LAB_CLI = fileURLToPath(new URL("../src/lab-cli.ts", import.meta.url));
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : "needs root (network namespaces, iptables, conntrack): run the suite as root";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Destination ports of the flows conntrack tracks in sluice-box (IPv4 and IPv6). */
async function conntrackPorts(): Promise<{ ports: Set<number>; lines: string[] }> {
  const lines: string[] = [];
  for (const family of ["ipv4", "ipv6"]) {
    const r = await execInNs(LAB.ns.box, ["conntrack", "-L", "-f", family], { allowFail: true });
    lines.push(...r.stdout.split("\n").filter(Boolean));
  }
  const ports = new Set<number>();
  for (const l of lines) {
    const m = l.match(/ dport=(\d+)/); // the first dport: the original direction's
    if (m) ports.add(Number(m[1]));
  }
  return { ports, lines };
}

/** TCP flows in sluice-box by original tuple, with their byte counts (both directions). */
async function tcpFlows(): Promise<Map<string, { dport: number; bytes: number }>> {
  const flows = new Map<string, { dport: number; bytes: number }>();
  for (const l of (await conntrackPorts()).lines) {
    const t = l.match(/^tcp .*? (src=\S+ dst=\S+ sport=\d+ dport=(\d+))/);
    if (!t) continue;
    const bytes = [...l.matchAll(/ bytes=(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    flows.set(t[1]!, { dport: Number(t[2]), bytes });
  }
  return flows;
}

/** Every live process that is one of the lab's, found by scanning /proc. */
function labProcessesRunning(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => pid !== process.pid && isLabProcess(pid));
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

function labCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", LAB_CLI, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("sluice lab (real namespaces, as root)", { skip }, () => {
  let first: LabState;
  let state: LabState;
  let upAt = 0;

  before(async () => {
    // A first lab without traffic but with a WAN cap, then `lab up` again over it.
    first = await labUp({ traffic: false, rateMbit: 50 });
    const tbf = await execInNs(LAB.ns.wan, ["tc", "qdisc", "show", "dev", LAB.ifaces.wan]);
    assert.match(tbf.stdout, /qdisc tbf .*rate 50Mbit/, "--rate puts a tbf on sluice-wan's eth0");
    state = await labUp();
    upAt = Date.now();
    process.stderr.write(
      `# lab up: ${first.upMs} ms (from scratch, no traffic), ${state.upMs} ms (rebuild, traffic)\n`,
    );
  });

  after(async () => {
    const r = await labDown();
    if (r.errors.length) process.stderr.write(`# lab down errors: ${r.errors.join("; ")}\n`);
  });

  it("lab up rebuilds an existing lab: the first lab's processes are gone, the cap too", async () => {
    for (const p of first.procs)
      assert.equal(isLabProcess(p.pid), false, `${p.name} (pid ${p.pid}) still running`);
    const q = await execInNs(LAB.ns.wan, ["tc", "qdisc", "show", "dev", LAB.ifaces.wan]);
    assert.doesNotMatch(q.stdout, /tbf/);
  });

  it("the generators run and conntrack in sluice-box sees the whole mix within 15 s", async (t) => {
    const s = labStatus();
    assert.deepEqual(
      s.procs.filter((p) => p.role === "server").map((p) => p.kind),
      SERVER_KINDS,
    );
    assert.deepEqual(
      s.procs.filter((p) => p.role === "generator").map((p) => p.kind),
      GENERATOR_KINDS,
    );
    for (const p of s.procs) assert.ok(p.running, `${p.name} is running`);
    const want = [80, 443, 22, 53, 6881, 5004, 873];
    const seen = new Set<number>();
    let lines: string[] = [];
    // 15 s from the end of `lab up` (this test runs first after it); at least one look.
    const deadline = Math.max(upAt + 15_000, Date.now() + 1_000);
    while (Date.now() < deadline && !want.every((p) => seen.has(p))) {
      const c = await conntrackPorts();
      c.ports.forEach((p) => seen.add(p));
      lines = c.lines;
      await sleep(500);
    }
    assert.deepEqual(
      want.filter((p) => !seen.has(p)),
      [],
      `ports seen: ${[...seen].sort((a, b) => a - b)}`,
    );
    t.diagnostic(`all ${want.length} ports seen ${((Date.now() - upAt) / 1000).toFixed(1)} s after lab up`);
    // NAT in conntrack too: replies of LAN flows come back to the box's WAN address;
    // accounting is on (packets= / bytes= in every entry).
    const lan4 = lines.filter((l) => / src=10\.77\.1\.\d+ dst=10\.77\.2\.2 /.test(l));
    assert.ok(lan4.length > 0);
    for (const l of lan4) assert.match(l, /src=10\.77\.2\.2 dst=10\.77\.2\.1 /);
    assert.ok(lines.every((l) => /packets=\d+ bytes=\d+/.test(l)));
    assert.ok(
      lines.some((l) => / src=fd77:1::/.test(l)),
      "IPv6 flows are tracked too",
    );
  });

  it("creates the three namespaces, links and addresses; the box forwards and masquerades", async () => {
    const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    for (const n of Object.values(LAB.ns)) assert.match(ns, new RegExp(`^${n}\\b`, "m"));
    const s = labStatus();
    assert.equal(s.up, true);
    const addrs = (name: string) =>
      s.namespaces
        .find((n) => n.name === name)!
        .addresses.map((a) => `${a.ifname} ${a.address}/${a.prefixLen}`);
    assert.deepEqual(
      addrs(LAB.ns.box).sort(),
      ["lan0 10.77.1.1/24", "lan0 fd77:1::1/64", "wan0 10.77.2.1/24", "wan0 fd77:2::1/64"].sort(),
    );
    for (const c of [...LAB.v4.clients.map((a) => `${a}/24`), ...LAB.v6.clients.map((a) => `${a}/64`)]) {
      assert.ok(addrs(LAB.ns.lan).includes(`eth0 ${c}`), `sluice-lan has ${c}`);
    }
    assert.deepEqual(addrs(LAB.ns.wan).sort(), ["eth0 10.77.2.2/24", "eth0 fd77:2::2/64"]);
    const sysctl = await execInNs(LAB.ns.box, [
      "sysctl",
      "-n",
      "net.ipv4.ip_forward",
      "net.ipv6.conf.all.forwarding",
      "net.netfilter.nf_conntrack_acct",
    ]);
    assert.deepEqual(sysctl.stdout.trim().split("\n"), ["1", "1", "1"]);
    const nat = await execInNs(LAB.ns.box, ["iptables", "-t", "nat", "-S", "POSTROUTING"]);
    assert.match(nat.stdout, /-A POSTROUTING -s 10\.77\.1\.0\/24 -o wan0 -j MASQUERADE/);
    // The box's qdiscs are left to the agent.
    const q = await execInNs(LAB.ns.box, ["tc", "qdisc", "show"]);
    assert.doesNotMatch(q.stdout, /htb|tbf/);
  });

  it("HTTP from sluice-lan through the box over IPv4: the server sees the box's address (NAT)", async () => {
    for (const local of LAB.v4.clients) {
      const r = await labProbe<HttpProbeResult>({ kind: "http", path: "/whoami", local });
      assert.equal(r.status, 200);
      const who = JSON.parse(r.body!) as { remoteAddress: string };
      assert.equal(who.remoteAddress, LAB.v4.boxWan, `from ${local}`);
    }
    const page = await labProbe<HttpProbeResult>({ kind: "http", path: "/", name: "www.example.lab" });
    assert.equal(page.status, 200);
    assert.match(page.body!, /<html/);
    const bulk = await labProbe<HttpProbeResult>({ kind: "http", path: "/bulk?mb=1" });
    assert.equal(bulk.bytes, 1024 * 1024);
  });

  it("HTTP over IPv6, routed without NAT", async () => {
    const r = await labProbe<HttpProbeResult>({ kind: "http", path: "/whoami", local: LAB.v6.clients[2] });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body!) as { remoteAddress: string }).remoteAddress, LAB.v6.clients[2]);
  });

  it("DNS answers A and AAAA for the lab zone, NXDOMAIN outside it", async () => {
    const a = await labProbe<DnsProbeResult>({ kind: "dns", name: "www.example.lab", type: "A" });
    assert.deepEqual([a.rcode, a.authoritative, a.addresses], [0, true, [LAB.v4.server]]);
    const aaaa = await labProbe<DnsProbeResult>({
      kind: "dns",
      name: "video.example.lab",
      type: "AAAA",
      local: LAB.v6.clients[0],
    });
    assert.deepEqual([aaaa.rcode, aaaa.addresses], [0, [LAB.v6.server]]);
    const nx = await labProbe<DnsProbeResult>({ kind: "dns", name: "nosuch.example.lab", type: "A" });
    assert.deepEqual([nx.rcode, nx.addresses], [3, []]);
  });

  it("TLS: a full handshake with SNI, the lab's certificate, verified against it", async () => {
    const t = await labProbe<TlsProbeResult>({ kind: "tls", servername: "video.example.lab" });
    assert.equal(t.authorized, true, String(t.authorizationError));
    assert.equal(t.subject.CN, "example.lab");
    assert.match(t.subjectAltName ?? "", /DNS:\*\.example\.lab/);
    assert.match(t.protocol ?? "", /^TLSv1\.[23]$/);
    assert.equal(t.alpn, "http/1.1");
    assert.equal(t.whoami?.servername, "video.example.lab", "the server saw the SNI");
    assert.equal(t.whoami?.remoteAddress, LAB.v4.boxWan);
    // A name outside the certificate: the handshake completes, verification fails.
    const other = await labProbe<TlsProbeResult>({ kind: "tls", servername: "www.elsewhere.test" });
    assert.equal(other.authorized, false);
    assert.equal(other.whoami?.servername, "www.elsewhere.test");
    // HTTPS over IPv6 with SNI.
    const h = await labProbe<HttpProbeResult>({
      kind: "http",
      tls: true,
      name: "www.example.lab",
      path: "/whoami",
      local: LAB.v6.clients[0],
    });
    assert.equal(h.status, 200);
  });

  it("generators survive a box that resets everything: no busy loop, and they reconnect", async (t) => {
    const gens = labStatus().procs.filter((p) => p.role === "generator");
    const block = (op: "-I" | "-D") =>
      Promise.all(
        ["iptables", "ip6tables"].flatMap((t) => [
          execInNs(LAB.ns.box, [t, op, "FORWARD", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"]),
          execInNs(LAB.ns.box, [t, op, "FORWARD", "-p", "udp", "--dport", "53", "-j", "REJECT"]),
        ]),
      );
    const beforeBlock = await tcpFlows();
    const cpu0 = gens.reduce((s, p) => s + cpuSeconds(p.pid), 0);
    await block("-I");
    try {
      await sleep(8_000);
    } finally {
      await block("-D");
    }
    const cpu = gens.reduce((s, p) => s + cpuSeconds(p.pid), 0) - cpu0;
    t.diagnostic(`generators' CPU during 8 s of resets: ${cpu.toFixed(2)} s`);
    assert.ok(cpu < 3, `generators used ${cpu.toFixed(2)} s of CPU in 8 s of resets (a busy loop?)`);
    // Afterwards every kind of TCP traffic flows again: on new connections (those the
    // resets broke), or on old ones that sent nothing while blocked (an idle SSH session).
    const want = [80, 443, 22, 6881];
    const alive = new Set<number>();
    const reconnected = new Set<number>();
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline && !(want.every((p) => alive.has(p)) && reconnected.has(6881))) {
      await sleep(1_000);
      for (const [tuple, f] of await tcpFlows()) {
        const old = beforeBlock.get(tuple);
        if (!old) reconnected.add(f.dport);
        if (!old || f.bytes > old.bytes) alive.add(f.dport);
      }
    }
    assert.deepEqual(
      want.filter((p) => !alive.has(p)),
      [],
      `traffic again to: ${[...alive]}`,
    );
    assert.ok(reconnected.has(6881), "the BitTorrent download reconnected");
    for (const p of gens) assert.ok(isLabProcess(p.pid), `${p.name} still running`);
  });

  it("lab status (CLI) reports the lab", async () => {
    const r = await labCli("status");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^lab: up since/);
    for (const k of [...SERVER_KINDS, ...GENERATOR_KINDS])
      assert.match(r.stdout, new RegExp(`${k}\\s+running`));
    const j = await labCli("status", "--json");
    assert.equal((JSON.parse(j.stdout) as { up: boolean }).up, true);
  });

  it("lab down removes the namespaces and every lab process, and is safe to repeat", async () => {
    const pids = labStatus().procs.map((p) => p.pid);
    const r = await labDown();
    assert.deepEqual(r.errors, []);
    assert.deepEqual([...r.namespacesRemoved].sort(), Object.values(LAB.ns).sort());
    assert.match((await labCli("status")).stdout, /^lab: down/);
    assert.doesNotMatch(
      spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout,
      new RegExp(`^${LAB.prefix}-`, "m"),
    );
    for (const pid of pids) assert.equal(isLabProcess(pid), false, `pid ${pid} gone`);
    assert.deepEqual(labProcessesRunning(), []);
    const again = await labCli("down");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to remove/);
  });
});
