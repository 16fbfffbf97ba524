// Related connections on the real box (the lab's three namespaces): a passive FTP download
// (curl, EPSV and PASV, IPv4 through the box's NAT and IPv6) from a small FTP server in the
// WAN namespace. The kernel's FTP helper, assigned by Sluice's nftables table, expects the
// data connection; it carries the control connection's mark from its first packet, with
// the protocol field set to ftp-data, never reaches the queue, and is shaped by a rule on
// ftp-data, or, without one, by the FTP session's own rule. Needs root; uses the lab's own
// namespaces and the repository's protocols/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PolicyInput } from "@sluice/policy";
import type { ProtocolsResponse } from "@sluice/agent-contract";
import { LAB, labUp, labDown, execInNs } from "../src/index.ts";
import { parseConntrackLine } from "@sluice/agent/src/stats/parse.ts";
import { LabAgent, classBytes } from "./support/lab-agent.ts";

const root = process.getuid?.() === 0;
const opts = { skip: root ? false : "needs root (network namespaces)" };
const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const FTP_SERVER = fileURLToPath(new URL("./support/ftp-server.ts", import.meta.url));
const agent = new LabAgent(PROTOCOLS);
const client = agent.client;
/** The file: 1.5 MB, about 3 s through a 4 Mbit/s class. */
const SIZE = 1_500_000;
const CAPPED = "1:11";
let server: ChildProcess | null = null;
let marks = new Map<string, number>();

// Classes 1:10 fast, 1:11 capped (4 Mbit/s hard), 1:12 other (default).
function policy(rules: PolicyInput["rules"]): PolicyInput {
  const tree = [
    { name: "fast", rate: "20mbit", ceil: "40mbit", priority: 0 },
    { name: "capped", rate: "4mbit", ceil: "4mbit", priority: 4 },
    { name: "other", rate: "8mbit", ceil: "40mbit", priority: 3, default: true },
  ];
  return {
    version: 1,
    name: "lab-related",
    interfaces: { wan: { device: "wan0", rate: "40mbit" }, lan: { device: "lan0", rate: "40mbit" } },
    classes: { upload: tree, download: tree },
    rules,
  };
}

/** A passive download by curl from a LAN client: EPSV by default, PASV with `pasv`. */
async function download(url: string, pasv = false): Promise<{ size: number; mbit: number }> {
  const r = await execInNs(LAB.ns.lan, [
    "curl",
    "-s",
    "-g",
    ...(pasv ? ["--disable-epsv"] : []),
    "--max-time",
    "30",
    "-o",
    "/dev/null",
    "-w",
    "%{size_download} %{speed_download}",
    url,
  ]);
  const [size, speed] = r.stdout.trim().split(" ").map(Number) as [number, number];
  return { size, mbit: (speed * 8) / 1e6 };
}

/** The box's conntrack entries between a LAN client and the server, per family. */
async function ftpConnections(family: "ipv4" | "ipv6", serverAddr: string) {
  const r = await execInNs(LAB.ns.box, ["conntrack", "-L", "-f", family, "-p", "tcp"], { allowFail: true });
  return r.stdout
    .split("\n")
    .map(parseConntrackLine)
    .filter((c) => c !== null)
    .filter((c) => c.dst === serverAddr);
}

const field = (mark: number) => (mark & 0xff00) >>> 8;

async function flushConntrack(): Promise<void> {
  await execInNs(LAB.ns.box, ["conntrack", "-F"], { allowFail: true });
  await execInNs(LAB.ns.box, ["conntrack", "-F", "-f", "ipv6"], { allowFail: true });
}

before(async () => {
  if (!root) return;
  await labUp({ traffic: false });
  await agent.start();
  marks = new Map(
    (await client.call<ProtocolsResponse>("GET", "/v1/protocols")).map((p) => [p.name, p.mark]),
  );
  server = spawn("ip", ["netns", "exec", LAB.ns.wan, process.execPath, FTP_SERVER, "21", String(SIZE)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    server!.once("exit", (code) => reject(new Error(`the FTP server exited (${code})`)));
    server!.stdout!.once("data", () => resolve());
  });
});

after(async () => {
  if (!root) return;
  server?.removeAllListeners("exit");
  server?.kill("SIGTERM");
  await agent.kill("SIGTERM");
  await labDown();
});

test(
  "a passive FTP download is ftp-data from its first packet and shaped by the ftp-data rule",
  opts,
  async () => {
    const applied = await client.call<{ entry: { status: string } }>("POST", "/v1/apply", {
      policy: policy([
        { protocol: "ftp", class: "fast" },
        { protocol: "ftp-data", class: "capped" },
      ]),
      user: "test",
    });
    assert.equal(applied.entry.status, "applied");
    const status = await client.call<{ variant: { helpers: string[] } }>("GET", "/v1/status");
    assert.ok(status.variant.helpers.includes("ftp"), "the probe found the kernel's FTP helper");
    await flushConntrack();
    const before = await classBytes("lan0");
    const epsv = await download(`ftp://${LAB.v4.server}/file.bin`);
    const pasv = await download(`ftp://${LAB.v4.server}/file.bin`, true);
    const after = await classBytes("lan0");
    console.log(
      `EPSV ${epsv.mbit.toFixed(2)} Mbit/s, PASV ${pasv.mbit.toFixed(2)} Mbit/s through "capped" (4 Mbit/s)`,
    );
    assert.equal(epsv.size, SIZE);
    assert.equal(pasv.size, SIZE);

    const conns = await ftpConnections("ipv4", LAB.v4.server);
    const control = conns.filter((c) => c.dport === 21);
    const data = conns.filter((c) => c.dport !== 21);
    assert.equal(control.length, 2, "two control connections");
    assert.equal(data.length, 2, "two data connections");
    for (const c of control) assert.equal(field(c.mark), marks.get("ftp"), "the control connection is ftp");
    for (const d of data) {
      assert.equal(field(d.mark), marks.get("ftp-data"), `data connection :${d.dport} is ftp-data`);
      assert.ok(d.bytes >= SIZE, `it carried the file (${d.bytes} bytes)`);
    }
    const capped = after.get(CAPPED)! - before.get(CAPPED)!;
    assert.ok(capped >= 2 * SIZE, `the capped class sent both files (${capped} bytes)`);
    for (const r of [epsv, pasv]) assert.ok(r.mbit <= 4.4, `shaped to 4 Mbit/s (${r.mbit.toFixed(2)})`);

    // Never queued: the data plane decided only the control connections.
    const flows = await client.call<{ decided: { protocol: string; server: string }[] }>("GET", "/v1/flows");
    assert.ok(!flows.decided.some((f) => f.protocol === "ftp-data" || f.protocol === "unknown"));
    const counter = await execInNs(LAB.ns.box, [
      "nft",
      "-j",
      "list",
      "counter",
      "inet",
      "sluice",
      `proto_${marks.get("ftp-data")}`,
    ]);
    const bytes = Number(/"bytes":\s*(\d+)/.exec(counter.stdout)?.[1]);
    assert.ok(bytes >= 2 * SIZE, `ftp-data's counter: ${bytes} bytes`);
  },
);

test(
  "without a rule of its own, the data connection follows the FTP session's rule (IPv6 too)",
  opts,
  async () => {
    await client.call("POST", "/v1/apply", {
      policy: policy([{ protocol: "ftp", class: "capped" }]),
      user: "test",
    });
    await flushConntrack();
    const before = await classBytes("lan0");
    const v6 = await download(`ftp://[${LAB.v6.server}]/file.bin`);
    const after = await classBytes("lan0");
    assert.equal(v6.size, SIZE);
    const data = (await ftpConnections("ipv6", LAB.v6.server)).filter((c) => c.dport !== 21);
    assert.equal(data.length, 1);
    assert.equal(field(data[0]!.mark), marks.get("ftp-data"));
    const capped = after.get(CAPPED)! - before.get(CAPPED)!;
    assert.ok(capped >= SIZE, `the FTP session's class sent the file (${capped} bytes)`);
    assert.ok(v6.mbit <= 4.4, `shaped to 4 Mbit/s (${v6.mbit.toFixed(2)})`);
  },
);
