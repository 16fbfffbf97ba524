// Boots the appliance ISO in QEMU (software emulation, no KVM) twice on one data disk and
// checks what an admin would: the agent's capability probe chose SFQ leaves and nftables class maps,
// the dashboard answers through a port forward on the LAN port, the first visit's setup
// creates the admin, and after a reboot the admin and the policy are still there. Prints
// the time from power-on to each milestone. Run through deploy/iso/boot-test.sh.
//
// Network: two virtio NICs on QEMU user-mode networking with restrict=on (no packet leaves
// the VM; only the explicit host port forward reaches it): WAN (slirp DHCP) and LAN
// (192.168.77.0/24, where the box is 192.168.77.1; host 127.0.0.1:PORT → 192.168.77.1:80).
//
// usage: node boot-test.ts [--iso FILE] [--work DIR] [--uefi] [--usb] [--boots N] [--no-diskless]
//                          [--cpu MODEL] [--timeout SECONDS]
//   --boots N      N boots on one data disk (the first formats it); then one more without any
//                  data disk unless --no-diskless. Crashes of the agent and the dashboard are
//                  counted over all of them.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { createSocket } from "node:dgram";
import { loadavg as osLoadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  allowNegative: true,
  options: {
    iso: { type: "string", default: resolve(HERE, "../out/sluice.iso") },
    work: { type: "string" },
    uefi: { type: "boolean", default: false },
    usb: { type: "boolean", default: false },
    boots: { type: "string", default: "2" },
    timeout: { type: "string", default: "1200" },
    memory: { type: "string", default: "2048" },
    // one more boot without any data disk (settings in RAM, a warning on the console)
    diskless: { type: "boolean", default: true },
    // QEMU's "max" CPU (it has protection keys, like most recent PCs: the start-up SIGSEGV's
    // trigger) without ERMS/FSRM: with them the kernel clears pages and glibc fills memory
    // with `rep stosb`, which TCG emulates one byte per step (memset of 128 MB: 2.1 s with
    // ERMS, 0.04 s without, in qemu-x86_64 7.2); real CPUs run it at full speed, so ERMS only
    // made the emulated boot slower than a real box's for reasons the image cannot change.
    cpu: { type: "string", default: "max,erms=off,fsrm=off" },
  },
});
const ISO = resolve(opt.iso!);
if (!existsSync(ISO)) {
  console.error(`boot-test: no ISO at ${ISO}: build it first (npm run iso)`);
  process.exit(2);
}
const WORK = opt.work ? resolve(opt.work) : mkdtempSync(join(tmpdir(), "sluice-boot-"));
mkdirSync(WORK, { recursive: true });
const BOOT_TIMEOUT = Number(opt.timeout) * 1000;
const ADMIN = { username: "admin", password: "sluice-boot-test-1" };

const loadavg = () =>
  osLoadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
/** User + system CPU time of a process, from /proc (Linux), in ms. */
function qemuCpuMs(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return null;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}[()][A-Z0-9]|\r`, "g");
/** Console lines written through the journal carry "[  12.3] unit[pid]: ": drop that. */
const unprefix = (s: string) => s.replace(/^\[\s*[\d.]+\] [\w@.-]+\[\d+\]: ?/gm, "");
/** The serial log without terminal escapes (GRUB draws its menu with them). */
const plain = (s: string) => s.replace(ANSI, "");

function freeUdpPort(): Promise<number> {
  return new Promise((done) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => done(p));
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => res(typeof a === "object" && a ? a.port : 0));
    });
  });
}

function sendTo(sock: string, text: string): Promise<void> {
  return new Promise((res) => {
    const c = connect(sock, () => {
      c.write(text, () => setTimeout(() => (c.end(), res()), 300));
    });
    c.on("error", () => res());
  });
}

// ---- HTTP against the dashboard, with a cookie jar (tRPC over plain JSON) ------------------------
class Http {
  readonly jar = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  private cookie() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  async req(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ) {
    const r = await fetch(this.base + path, {
      method: init.method ?? "GET",
      redirect: "manual",
      // 3 minutes: a route's first request loads its code, which took more than a minute
      // of emulated CPU on a loaded host (a sign-in timed out at 60 s while a build ran)
      signal: AbortSignal.timeout(init.timeoutMs ?? 180_000),
      headers: {
        ...(this.jar.size ? { cookie: this.cookie() } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    for (const c of r.headers.getSetCookie()) {
      const [kv] = c.split(";");
      const i = kv!.indexOf("=");
      const k = kv!.slice(0, i).trim();
      const v = kv!.slice(i + 1).trim();
      if (v) this.jar.set(k, v);
      else this.jar.delete(k);
    }
    const text = await r.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* a page */
    }
    return { status: r.status, location: r.headers.get("location"), text, json };
  }
  async query(proc: string) {
    const r = await this.req(`/api/trpc/${proc}`);
    return { ...r, data: (r.json as { result?: { data?: unknown } } | null)?.result?.data };
  }
  async mutate(proc: string, input: unknown) {
    const r = await this.req(`/api/trpc/${proc}`, {
      method: "POST",
      body: input,
      headers: { "x-csrf-token": this.jar.get("sluice_csrf") ?? "", origin: this.base },
    });
    return { ...r, data: (r.json as { result?: { data?: unknown } } | null)?.result?.data };
  }
}

// ---- one boot ------------------------------------------------------------------------------------
const MILESTONES: [string, RegExp][] = [
  ["GRUB menu", /GNU GRUB|Booting `Sluice/],
  ["initramfs", /Loading, please wait/],
  ["boot medium found (initramfs)", /sluice-init: boot medium/],
  ["systemd", /Welcome to .*Debian/],
  ["data disk mounted (or RAM)", /sluice-storage: (persistent data on|WARNING)/],
  ["network ports chosen", /sluice-firstboot: WAN=/],
  ["console login prompt", /login:/],
  ["agent up: policy applied, control socket", /sluice-agent: control socket up/],
  ["dashboard answers in the VM", /SLUICE-WEB-(READY|ABSENT)/],
  ["sluice status on the console", /SLUICE-STATUS-END/],
  ["welcome text on the console", /SLUICE-BANNER-END/],
];
const POLICY = "policy applied (agent's journal)";
/** The dashboard's first answer inside the box on the guest's own clock (kernel start = 0). */
const WEB_GUEST = "dashboard answers in the VM, guest clock since kernel start";
const WEB_HOST = "dashboard through the port forward (host)";

interface BootResult {
  log: string;
  times: Map<string, number>;
  /** QEMU's CPU time (both vCPUs) at each milestone: less dependent on the machine's load. */
  cpu: Map<string, number>;
  status: string;
  web: boolean;
  failures: string[];
  /** Crashes of the agent or the dashboard seen in the journal (SIGSEGV, core dumps, aborts). */
  crashes: string[];
  disk: boolean;
  /** sluice-diag's boot-time section (systemd-analyze time, blame, critical chain) and boot-cpu. */
  bootTime?: string;
}

function qemuArgs(port: number, n: number, disk: boolean): string[] {
  const a = [
    "-accel",
    "tcg",
    "-machine",
    "pc",
    "-cpu",
    opt.cpu!,
    "-smp",
    "2",
    "-m",
    opt.memory!,
    "-display",
    "none",
    "-vga",
    "std",
    "-no-reboot",
    ...(opt.usb
      ? // the ISO written to a USB stick (the hybrid image's MBR/GPT side), read-only
        [
          "-device",
          "qemu-xhci,addr=0x5",
          "-drive",
          `if=none,id=stick,file=${ISO},format=raw,readonly=on`,
          "-device",
          "usb-storage,drive=stick,bootindex=0",
        ]
      : ["-cdrom", ISO, "-boot", "d"]),
    ...(disk ? ["-drive", `file=${join(WORK, "data.qcow2")},if=virtio,format=qcow2`] : []),
    "-netdev",
    "user,id=wan,restrict=on",
    "-device",
    "virtio-net-pci,netdev=wan,addr=0x3,mac=52:54:00:5a:00:01",
    "-netdev",
    `user,id=lan,restrict=on,net=192.168.77.0/24,host=192.168.77.2,dhcpstart=192.168.77.60,hostfwd=tcp:127.0.0.1:${port}-192.168.77.1:80,hostfwd=udp:127.0.0.1:${dnsPort}-192.168.77.1:53`,
    "-device",
    "virtio-net-pci,netdev=lan,addr=0x4,mac=52:54:00:5a:00:02",
    "-chardev",
    `socket,id=ser0,path=${join(WORK, "serial.sock")},server=on,wait=off,logfile=${join(WORK, `serial-${n}.log`)}`,
    "-serial",
    "chardev:ser0",
    "-monitor",
    `unix:${join(WORK, "monitor.sock")},server=on,wait=off`,
  ];
  if (opt.uefi) a.push("-bios", "/usr/share/ovmf/OVMF.fd");
  return a;
}

async function boot(
  n: number,
  port: number,
  disk: boolean,
  check: (ctx: BootResult, http: Http) => Promise<void>,
): Promise<BootResult> {
  const logFile = join(WORK, `serial-${n}.log`);
  const timeline = join(WORK, `serial-${n}.timeline`);
  writeFileSync(logFile, "");
  writeFileSync(timeline, "");
  const res: BootResult = {
    log: "",
    times: new Map(),
    cpu: new Map(),
    status: "",
    web: false,
    failures: [],
    crashes: [],
    disk,
  };
  const t0 = Date.now();
  console.log(
    `\n== boot ${n}${disk ? "" : " (no data disk)"}: qemu-system-x86_64 -accel tcg -cpu ${opt.cpu} (serial log: ${logFile})`,
  );
  const q: ChildProcess = spawn("qemu-system-x86_64", qemuArgs(port, n, disk), {
    stdio: ["ignore", "inherit", "inherit"],
  });
  let exited = false;
  q.on("exit", () => (exited = true));
  const http = new Http(`http://127.0.0.1:${port}`);
  const mark = (name: string) => {
    if (res.times.has(name)) return;
    res.times.set(name, Date.now() - t0);
    const cpu = qemuCpuMs(q.pid);
    if (cpu !== null) res.cpu.set(name, cpu);
    console.log(`  ${fmt(Date.now() - t0)}  ${name}${cpu !== null ? `  (QEMU CPU ${fmt(cpu).trim()})` : ""}`);
  };
  let httpOk = false;
  const deadline = t0 + BOOT_TIMEOUT;
  // The dashboard is asked through the forward once the box has given its LAN port an address
  // (before that a request only waits in QEMU's user network, retransmitted with back-off):
  // one request at a time, the next 0.25 s after one is refused (the box answers a closed
  // port with a reset at once), another one only when the newest has waited 3 s, at most
  // three open: QEMU's user network accepts the host's connection at once and retransmits a
  // SYN the box did not answer with growing back-off (a lost SYN once held two open requests
  // for 50 s while the dashboard answered in the VM). So the box renders the test's first page
  // once, not a pile of requests queued since power-on, and the milestone is within a few
  // seconds of the dashboard's answer at worst. Each attempt is logged in web-attempts-N.txt
  // (start, end, outcome).
  // Without the "ports chosen" line (no LAN port?) the test asks anyway after 2 minutes.
  const attempts: string[] = [];
  const pending = new Set<number>();
  let lastEnd = 0;
  const tryWeb = () => {
    const start = Date.now();
    pending.add(start);
    void new Http(http.base)
      .req("/", { timeoutMs: 120_000 })
      .then((r) => {
        attempts.push(`${fmt(start - t0)} → ${fmt(Date.now() - t0)}  HTTP ${r.status}`);
        if (!httpOk && (r.status === 200 || r.status === 307 || r.status === 302)) {
          httpOk = true;
          res.web = true;
          mark(WEB_HOST);
          console.log(`            HTTP ${r.status}${r.location ? ` → ${r.location}` : ""}`);
        }
      })
      .catch((e: Error) => {
        const cause = (e.cause as { code?: string } | undefined)?.code ?? e.name;
        attempts.push(`${fmt(start - t0)} → ${fmt(Date.now() - t0)}  ${cause}`);
      })
      .finally(() => {
        pending.delete(start);
        lastEnd = Date.now();
      });
  };
  const webDue = () => {
    if (httpOk) return false;
    if (!res.times.has("network ports chosen") && Date.now() - t0 < 120_000) return false;
    if (pending.size === 0) return Date.now() - lastEnd >= 250;
    return pending.size < 3 && Date.now() - Math.max(...pending) >= 3000;
  };
  let seenLines = 0;
  try {
    while (Date.now() < deadline && !exited) {
      res.log = plain(existsSync(logFile) ? readFileSync(logFile, "latin1") : "");
      // the serial console, line by line, with the time each line was first seen
      const lines = res.log.split("\n");
      if (lines.length - 1 > seenLines) {
        const at = fmt(Date.now() - t0);
        appendFileSync(
          timeline,
          lines
            .slice(seenLines, -1)
            .map((l) => `${at}  ${l}\n`)
            .join(""),
        );
        seenLines = lines.length - 1;
      }
      for (const [name, re] of MILESTONES) if (re.test(res.log)) mark(name);
      if (res.log.includes("SLUICE-WEB-ABSENT")) httpOk = true;
      if (webDue()) tryWeb();
      if (httpOk && MILESTONES.every(([name]) => res.times.has(name))) break;
      await sleep(httpOk ? 250 : 50);
    }
    writeFileSync(join(WORK, `web-attempts-${n}.txt`), attempts.join("\n") + "\n");
    if (exited) res.failures.push("QEMU exited before the box was up");
    else if (Date.now() >= deadline) res.failures.push(`not up within ${BOOT_TIMEOUT / 1000} s`);
    const m = /SLUICE-STATUS-BEGIN\n([\s\S]*?)SLUICE-STATUS-END/.exec(res.log);
    res.status = unprefix(m?.[1] ?? "").trim();
    if (!exited && !res.failures.length) {
      await check(res, http);
      await diag(res, logFile);
    }
  } catch (e) {
    res.failures.push(`error: ${(e as Error).message}`);
  } finally {
    if (!exited) {
      const t = Date.now();
      await sendTo(join(WORK, "monitor.sock"), "system_powerdown\n");
      for (let i = 0; i < 240 && !exited; i++) await sleep(500);
      if (!exited) {
        console.log("  ACPI power-off ignored: poweroff from the serial console");
        await sendTo(join(WORK, "serial.sock"), "\nroot\n");
        await sleep(5000);
        await sendTo(join(WORK, "serial.sock"), "sync; poweroff\n");
        for (let i = 0; i < 240 && !exited; i++) await sleep(500);
      }
      if (!exited) {
        res.failures.push("the box did not power off");
        q.kill("SIGKILL");
      } else
        console.log(`  ${fmt(Date.now() - t0)}  powered off (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    res.log = plain(readFileSync(logFile, "latin1"));
  }
  return res;
}

// ---- inside the box: log in on the serial console and run sluice-diag ----------------------------
async function diag(res: BootResult, logFile: string) {
  const sock = join(WORK, "serial.sock");
  const read = () => plain(readFileSync(logFile, "latin1"));
  const before = read().length;
  await sendTo(sock, "\n");
  await sleep(3000);
  await sendTo(sock, "root\n");
  await sleep(10_000);
  // the markers are assembled by printf so the echoed command line does not match them
  // a LAN client's DNS query just before sluice-diag reads conntrack: its entry lives 30 s
  // (the checks and the login take longer than that on a loaded machine)
  await lanDnsA("sluice.lan", 1);
  await sendTo(sock, "printf 'SLUICE-%s-BEGIN\\n' DIAG; sluice-diag; printf 'SLUICE-%s-END\\n' DIAG\n");
  let out = "";
  for (let i = 0; i < 120; i++) {
    const m = /SLUICE-DIAG-BEGIN\n([\s\S]*?)SLUICE-DIAG-END/.exec(read().slice(before));
    if (m) {
      out = m[1]!;
      break;
    }
    await sleep(1000);
  }
  await sendTo(sock, "exit\n");
  if (!out) {
    expect(res, false, "sluice-diag on the serial console (root login)");
    return;
  }
  console.log(out.replace(/^/gm, "    | ").trimEnd());
  const sections = new Map<string, string>();
  for (const part of ("\n" + out).split(/\n== /).slice(1)) {
    const nl = part.indexOf("\n");
    sections.set(nl < 0 ? part.trim() : part.slice(0, nl).trim(), nl < 0 ? "" : part.slice(nl + 1));
  }
  const section = (name: string) => sections.get(name) ?? "";
  const ports = Object.fromEntries([...section("ports").matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1]!, m[2]!]));
  const { WAN: wan = "?", LAN: lan = "?" } = ports;
  expect(
    res,
    new RegExp(`^${lan}\\s+UP\\s+192\\.168\\.77\\.1/24`, "m").test(section("addresses")),
    `LAN ${lan} has 192.168.77.1/24`,
  );
  expect(
    res,
    new RegExp(`^${wan}\\s+UP\\s+10\\.0\\.2\\.15/24`, "m").test(section("addresses")),
    `WAN ${wan} has its DHCP lease (10.0.2.15)`,
  );
  expect(res, /ip_forward = 1/.test(section("forwarding")), "IPv4 forwarding on");
  expect(res, new RegExp(`-o ${wan} -j MASQUERADE`).test(section("nat")), "MASQUERADE on WAN (nat table)");
  expect(
    res,
    /udp \S+:67 .*dnsmasq/.test(section("listening")) &&
      /192\.168\.77\.1:53 .*dnsmasq/.test(section("listening")),
    "dnsmasq serves DHCP and DNS on LAN",
  );
  expect(
    res,
    /\/run\/sluice\/agent\.sock root:sluice 660/.test(section("socket")),
    "agent socket root:sluice 0660",
  );
  if (res.web) {
    expect(
      res,
      /^sluice\s+\d+\s+\d+\s+.*(next|apps\/web\/server\.[jt]s)/m.test(section("processes")),
      "dashboard runs as user sluice",
    );
    expect(
      res,
      // server.ts (node:http + Next) shows as Node's "MainThread"; `next start` as next-server
      /tcp 0\.0\.0\.0:80 .*(next-server|node|MainThread)/.test(section("listening")),
      "dashboard listens on all addresses, port 80",
    );
  }
  const q = section("qdiscs");
  expect(
    res,
    (q.match(/qdisc htb 1: root/g) ?? []).length >= 2 && /qdisc sfq/.test(q),
    "HTB with SFQ leaves on both ports",
  );
  const dns = section("dns-path");
  expect(
    res,
    /^\s*[1-9]\d*\s+\d+\s+NFQUEUE/m.test(dns) && /dport=53 .*mark=[1-9]/.test(dns),
    "a LAN client's DNS answer (sluice.lan) passed the agent's DNS-answer queue and was marked",
  );
  const f = section("filters");
  expect(
    res,
    [1, 2, 3].every((prio) => new RegExp(`pref ${prio} fw`).test(f)) ||
      ["host", "app", "protocol"].every((field) => new RegExp(`map dev\\d+_${field}`).test(f)),
    "class selection for hostname rules, apps and protocols (fw filters prio 1-3, or nftables maps)",
  );
  expect(res, section("failed-units").trim() === "", "no failed systemd unit");
  // the agent's "policy applied", from its journal: the kernel clock, placed on the power-on
  // clock by the firstboot line that is both in the journal and on the console
  const mono = (re: RegExp) => {
    const m = new RegExp(`^\\[\\s*([\\d.]+)\\].*(?:${re.source})`, "m").exec(section("policy-time"));
    return m ? Number(m[1]) * 1000 : null;
  };
  const [portsMono, policy] = [
    mono(/sluice-firstboot: WAN=/),
    mono(/policy applied|last good policy in place/),
  ];
  const portsAt = res.times.get("network ports chosen");
  if (portsMono !== null && policy !== null && portsAt !== undefined)
    res.times.set(POLICY, Math.round(portsAt + policy - portsMono));
  // the console report's line carries the kernel's timestamp: the guest's clock, which the
  // emulator keeps in step with the host's (so it stretches with the load like the wall clock)
  const webGuest = /^\[\s*([\d.]+)\] console-report\.sh\[\d+\]: SLUICE-WEB-READY/m.exec(res.log);
  if (webGuest) res.times.set(WEB_GUEST, Math.round(Number(webGuest[1]) * 1000));
  // where the boot went (systemd-analyze time, blame, critical chain): printed with the results
  // and the CPU per unit when the dashboard first answered (console-report's snapshot)
  const cpu = section("boot-cpu").trim();
  res.bootTime = section("boot-time").trim() + (cpu ? `\n-- CPU until the dashboard answered:\n${cpu}` : "");
  const restarts = section("restarts");
  res.crashes = restarts
    .split("\n")
    .filter((l) =>
      /SEGV|Segmentation|segfault at|traps:|code=dumped|core dump|Fatal error|Check failed/.test(l),
    );
  const restarted = /NRestarts=[1-9]/.test(restarts) || /Main process exited/.test(restarts);
  expect(
    res,
    !restarted && !res.crashes.length,
    `the agent and the dashboard never crashed or restarted${restarted || res.crashes.length ? `:\n${restarts}\n${section("agent-log")}` : ""}`,
  );
}

// ---- the checks ----------------------------------------------------------------------------------
function expect(res: BootResult, ok: boolean, what: string) {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) res.failures.push(what);
}

function checkStatus(res: BootResult) {
  console.log(res.status.replace(/^/gm, "    | "));
  expect(
    res,
    /leaf=sfq/.test(res.status) && /filter=(nft|fw)/.test(res.status),
    "variant leaf=sfq filter=nft (or fw without nftables)",
  );
  expect(res, /data plane: running/.test(res.status), "NFQUEUE data plane running");
  expect(res, /applications: \d+ in \d+ categories/.test(res.status), "application catalogue loaded");
}

/** Asks the box's DNS (through the UDP forward, as a LAN client) for a name's A record. */
async function lanDnsA(name: string, attempts = 5): Promise<string | null> {
  const q = Buffer.concat([
    Buffer.from([0x5e, 0x1c, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const answer = await new Promise<Buffer | null>((done) => {
      const sock = createSocket("udp4");
      const timer = setTimeout(() => (sock.close(), done(null)), 3000);
      sock.once("message", (m) => (clearTimeout(timer), sock.close(), done(m)));
      sock.send(q, dnsPort, "127.0.0.1");
    });
    // the last 4 bytes of a one-answer A response are the address
    if (answer && answer.readUInt16BE(0) === 0x5e1c && answer.readUInt16BE(6) > 0)
      return [...answer.subarray(-4)].join(".");
  }
  return null;
}

async function firstBoot(res: BootResult, http: Http) {
  checkStatus(res);
  // A LAN client's DNS query (through the UDP forward): dnsmasq's answer passes the agent's
  // DNS-answer queue (OUTPUT → SLUICE_OUT); diag checks it did. (QEMU's user network does
  // not bring UDP replies back to the host here, with or without Sluice: the answer itself
  // is checked inside the box.)
  await lanDnsA("sluice.lan", 1);
  if (res.disk)
    expect(
      res,
      /sluice-storage: formatting the empty disk \/dev\/vda/.test(res.log),
      "empty data disk formatted (SLUICE-DATA)",
    );
  else
    expect(
      res,
      /sluice-storage: WARNING: no disk labelled SLUICE-DATA/.test(res.log) &&
        /WARNING: no disk labelled SLUICE-DATA/.test(
          /SLUICE-BANNER-BEGIN([\s\S]*)SLUICE-BANNER-END/.exec(res.log)?.[1] ?? "",
        ),
      "no data disk: settings in RAM, and the console says they are lost at reboot",
    );
  expect(res, /sluice-firstboot: WAN=\S+ LAN=\S+/.test(res.log), "WAN and LAN ports chosen");
  expect(
    res,
    /policy: #1 "default" applied .* by first boot/.test(res.status),
    "initial policy applied on the detected ports",
  );
  expect(
    res,
    /SLUICE-BANNER-BEGIN[\s\S]*192\.168\.77\.1[\s\S]*first visit[\s\S]*SLUICE-BANNER-END/.test(res.log),
    "console shows the dashboard URL and the first-visit note",
  );
  if (!res.web) {
    console.log("  (no dashboard in this image: the agent's policy history is what must survive)");
    return;
  }
  const s = await http.query("auth.getSession");
  expect(
    res,
    (s.data as { needsSetup?: boolean })?.needsSetup === true,
    "dashboard asks for setup (no admin yet)",
  );
  const r = await http.mutate("auth.setupAdmin", ADMIN);
  expect(
    res,
    r.status === 200 && (r.data as { role?: string })?.role === "admin",
    `setup creates the admin (HTTP ${r.status} ${r.status === 200 ? "" : r.text.slice(0, 200)})`,
  );
  const after = await http.query("auth.getSession");
  expect(
    res,
    (after.data as { user?: { username?: string } })?.user?.username === ADMIN.username,
    "signed in as the new admin",
  );
}

async function secondBoot(res: BootResult, http: Http) {
  checkStatus(res);
  await lanDnsA("sluice.lan", 1); // checked by diag, as on the first boot
  expect(
    res,
    /sluice-storage: persistent data on \/dev\/vda/.test(res.log) &&
      !/formatting the empty disk/.test(res.log),
    "data disk mounted again, not reformatted",
  );
  expect(
    res,
    /policy: #1 "default" applied .* by first boot/.test(res.status),
    "the same last good policy (#1) restored from the data disk",
  );
  if (!res.web) return;
  const s = await http.query("auth.getSession");
  expect(res, (s.data as { needsSetup?: boolean })?.needsSetup === false, "no setup asked: the admin exists");
  const r = await http.mutate("auth.login", ADMIN);
  expect(res, r.status === 200, `the admin signs in (HTTP ${r.status})`);
  const after = await http.query("auth.getSession");
  expect(
    res,
    (after.data as { user?: { username?: string } })?.user?.username === ADMIN.username,
    "session is the admin's",
  );
}

/**
 * The core dumps the box left on the data disk (/var/lib/sluice/crash, see the image's
 * sysctl.d/50-sluice-core.conf): copied out of the disk image with debugfs (nothing mounted),
 * each with gdb's backtrace of the crashed thread against the build machine's Node binary
 * (the image's is the same build, stripped).
 */
function coreDumps(qcow: string) {
  const raw = join(WORK, "data.raw");
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (run("qemu-img", ["convert", "-O", "raw", qcow, raw]).status !== 0) return;
  const ls = run("debugfs", ["-R", "ls -p /crash", raw]).stdout ?? "";
  const names = [...ls.matchAll(/^\/\d+\/\d+\/\d+\/\d+\/(core\.[^/]+)\/\d*\/$/gm)].map((m) => m[1]!);
  console.log(`== core dumps on the data disk: ${names.length ? names.join(", ") : "none"}`);
  const node = process.env.SLUICE_NODE ?? process.execPath;
  for (const name of names) {
    const out = join(WORK, name);
    run("debugfs", ["-R", `dump /crash/${name} ${out}`, raw]);
    const gdb = run("gdb", ["-batch", "-nx", "-ex", "bt 40", "-ex", "info threads", node, out]);
    console.log(
      `-- ${out}: the crashed thread (gdb)\n${(gdb.stdout || gdb.stderr || "gdb not found").trim()}`,
    );
  }
  spawnSync("rm", ["-f", raw]);
}

// ---- main ------------------------------------------------------------------------------------------
const disk = join(WORK, "data.qcow2");
const mk = spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "512M"], { encoding: "utf8" });
if (mk.status !== 0) {
  console.error(`qemu-img: ${mk.stderr}`);
  process.exit(2);
}
const port = await freePort();
const dnsPort = await freeUdpPort();
console.log(
  `boot-test: ${ISO} (${(readFileSync(ISO).length / 1048576).toFixed(1)} MiB), ${opt.uefi ? "UEFI (OVMF)" : "BIOS (SeaBIOS)"} from ${opt.usb ? "a USB stick" : "a CD"}, work dir ${WORK}, dashboard forward 127.0.0.1:${port}`,
);
const started = Date.now();
const results: BootResult[] = [];
const boots = Number(opt.boots);
for (let n = 1; n <= boots; n++) {
  const r = await boot(n, port, true, n === 1 ? firstBoot : secondBoot);
  results.push(r);
  if (r.failures.length && n === 1) break;
}
if (opt.diskless && !results[0]?.failures.length)
  results.push(await boot(results.length + 1, port, false, firstBoot));

results.forEach((r, i) => {
  if (!r.bootTime) return;
  console.log(
    `\n== boot ${i + 1}${r.disk ? "" : " (no data disk)"}: where the time went, in the guest (systemd-analyze)`,
  );
  console.log(r.bootTime.replace(/^/gm, "  "));
});
console.log(`\n== time from power-on (QEMU TCG -cpu ${opt.cpu}, 2 vCPUs; load average ${loadavg()})`);
const names = [...MILESTONES.map(([name]) => name), WEB_HOST, POLICY].filter((name) =>
  results.some((r) => r.times.has(name)),
);
names.sort((a, b) => (results[0]?.times.get(a) ?? Infinity) - (results[0]?.times.get(b) ?? Infinity));
const head = results.map((r, i) => `boot ${i + 1}${r.disk ? "" : "*"}`.padStart(10)).join("");
console.log(`  ${"milestone".padEnd(52)}${head}`);
for (const name of names)
  console.log(
    `  ${name.padEnd(52)}${results.map((r) => (r.times.has(name) ? fmt(r.times.get(name)!) : "-").padStart(10)).join("")}`,
  );
if (results.some((r) => r.times.has(WEB_GUEST)))
  console.log(
    `  ${WEB_GUEST.padEnd(52)}${results.map((r) => (r.times.has(WEB_GUEST) ? fmt(r.times.get(WEB_GUEST)!) : "-").padStart(10)).join("")}`,
  );
if (results.some((r) => !r.disk)) console.log("  (* without a data disk)");
console.log("  QEMU's CPU time (both vCPUs) at the same milestones (less dependent on the machine's load):");
for (const name of names.filter((n) => results.some((r) => r.cpu.has(n))))
  console.log(
    `  ${name.padEnd(52)}${results.map((r) => (r.cpu.has(name) ? fmt(r.cpu.get(name)!) : "-").padStart(10)).join("")}`,
  );
const order = results.map((r) =>
  !r.times.has(WEB_HOST) || !r.times.has(POLICY)
    ? "-"
    : r.times.get(POLICY)! <= r.times.get(WEB_HOST)!
      ? "yes"
      : "no",
);
console.log(
  `  ${"policy applied before the dashboard answered".padEnd(52)}${order.map((o) => o.padStart(10)).join("")}`,
);
const crashed = results.filter((r) => r.crashes.length);
console.log(
  `== crashes of the agent or the dashboard: ${crashed.length} in ${results.length} boots${crashed.length ? `\n${crashed.flatMap((r) => r.crashes).join("\n")}` : ""}`,
);
if (crashed.some((r) => r.disk)) coreDumps(disk);
const failures = results.flatMap((r, i) => r.failures.map((f) => `boot ${i + 1}: ${f}`));
writeFileSync(
  join(WORK, "result.json"),
  JSON.stringify(
    {
      iso: ISO,
      results: results.map((r) => ({
        times: Object.fromEntries(r.times),
        cpu: Object.fromEntries(r.cpu),
        status: r.status,
        web: r.web,
        failures: r.failures,
        crashes: r.crashes,
        disk: r.disk,
        bootTime: r.bootTime,
      })),
    },
    null,
    2,
  ),
);
if (failures.length) {
  console.log(`\nboot-test: FAILED\n${failures.map((f) => `  ${f}`).join("\n")}\n(serial logs in ${WORK})`);
  process.exit(1);
}
console.log(
  `\nboot-test: passed (${results.length} boots in ${((Date.now() - started) / 60_000).toFixed(1)} min; serial logs in ${WORK})`,
);
