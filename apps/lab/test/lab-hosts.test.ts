// LAN hosts in the lab, on real traffic through the box: a class shared among hosts gives a
// host with one download about as much as a host with twenty (and, as a control, the same
// class shared per flow does not); a device rule limits that host's download and not the
// other's, whether given by address or by MAC (through the DHCP lease file); a device rule
// outside the LAN is refused with its field path; upload is shared by the host's address
// before NAT. Needs root; uses the lab's namespaces.
import { test } from "node:test";
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PolicyInput } from "@sluice/policy";
import { AgentApiError } from "@sluice/agent-contract";
import { LAB, execInNs, LabAgent } from "../src/index.ts";
import { classBytes } from "./support/kernel-views.ts";
import { rootOnly as opts, labWithAgent, labPolicy, applyPolicy } from "./support/lab-suite.ts";

const PATTERNS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const LEASES = join(mkdtempSync(join(tmpdir(), "sluice-leases-")), "dnsmasq.leases");
const agent = new LabAgent(PATTERNS, ["--leases", LEASES]);
const client = agent.client;
const [HOST_A, HOST_B, HOST_C] = LAB.v4.clients as readonly string[];

/**
 * Downloads from the lab server in the LAN namespace, `n` connections per local address,
 * and prints each address's Mbit/s over the same window (after a warm-up, so slow start
 * and classification are behind it). One process, so both hosts are measured together.
 */
async function download(hosts: Record<string, number>, warmMs = 2000, windowMs = 5000) {
  const script = `
const http = require("http");
const hosts = ${JSON.stringify(Object.entries(hosts).map(([a, n]) => ({ a, n, bytes: 0 })))};
let counting = false, start = 0;
for (const h of hosts)
  for (let i = 0; i < h.n; i++)
    http.get({ host: ${JSON.stringify(LAB.v4.server)}, path: "/bulk?mb=1000", localAddress: h.a, agent: false }, (res) => {
      res.on("data", (d) => { if (counting) h.bytes += d.length; });
      res.on("error", () => {});
    }).on("error", () => {});
setTimeout(() => { counting = true; start = Date.now(); }, ${warmMs});
setTimeout(() => {
  const secs = (Date.now() - start) / 1000;
  console.log(JSON.stringify(Object.fromEntries(hosts.map((h) => [h.a, (h.bytes * 8) / secs / 1e6]))));
  process.exit(0);
}, ${warmMs + windowMs});`;
  const r = await execInNs(LAB.ns.lan, ["node", "-e", script]);
  return JSON.parse(r.stdout) as Record<string, number>;
}

/**
 * Uploads from the LAN namespace to a sink in the WAN namespace, `n` connections per local
 * address, for `ms`. What each host sent is read from the box's counters (the test's own
 * sink sees every connection masqueraded to the box's address).
 */
function upload(hosts: Record<string, number>, ms: number) {
  const script = `
const net = require("net");
const chunk = Buffer.alloc(65536, 7);
for (const [a, n] of ${JSON.stringify(Object.entries(hosts))})
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: ${JSON.stringify(LAB.v4.server)}, port: ${SINK_PORT}, localAddress: a });
    const pump = () => { while (s.write(chunk)); };
    s.on("connect", pump);
    s.on("drain", pump);
    s.on("error", () => {});
  }
setTimeout(() => process.exit(0), ${ms});`;
  return execInNs(LAB.ns.lan, ["node", "-e", script], { allowFail: true });
}

const SINK_PORT = 5999;

function policy(shared: "host" | "flow", devices: PolicyInput["devices"] = undefined): PolicyInput {
  const tree = [
    { name: "shared", rate: "10mbit", ceil: "20mbit", priority: 3, fairness: shared },
    { name: "other", rate: "5mbit", ceil: "20mbit", priority: 3, default: true },
  ];
  return labPolicy(
    `lab-hosts-${shared}`,
    tree,
    // the upload test's raw TCP is unknown (unset while inspected): shared too
    [
      { protocol: "http", class: "shared" },
      { protocol: "unknown", class: "shared" },
      { protocol: "unset", class: "shared" },
    ],
    devices ? { devices } : {},
    "20mbit",
  );
}

const apply = (p: PolicyInput) => applyPolicy(agent, p);

writeFileSync(LEASES, ""); // the agent reads it at start
labWithAgent(agent, { tearDown: () => rmSync(dirname(LEASES), { recursive: true, force: true }) });

test(
  "a class shared among hosts: one host's 20 downloads do not starve another host's one",
  opts,
  async () => {
    await apply(policy("host"));
    const status = await client.call<{ variant: { hostFair: string } }>("GET", "/v1/status");
    const fair = await download({ [HOST_A!]: 20, [HOST_B!]: 1 });
    const shareB = fair[HOST_B!]! / (fair[HOST_A!]! + fair[HOST_B!]!);
    console.log(
      `fairness host (${status.variant.hostFair}): ${HOST_A} ×20 ${fair[HOST_A!]!.toFixed(2)} Mbit/s, ${HOST_B} ×1 ${fair[HOST_B!]!.toFixed(2)} Mbit/s (share ${shareB.toFixed(2)})`,
    );
    assert.ok(
      shareB >= 0.35 && shareB <= 0.65,
      `the one-download host got ${(shareB * 100).toFixed(0)}%, expected about half`,
    );
    assert.ok(fair[HOST_A!]! + fair[HOST_B!]! > 14, "together they still fill most of the 20 Mbit/s link");

    // The control: the same class shared per flow gives the twenty-download host most of it.
    await apply(policy("flow"));
    const flow = await download({ [HOST_A!]: 20, [HOST_B!]: 1 });
    const flowShareB = flow[HOST_B!]! / (flow[HOST_A!]! + flow[HOST_B!]!);
    console.log(
      `fairness flow: ${HOST_A} ×20 ${flow[HOST_A!]!.toFixed(2)} Mbit/s, ${HOST_B} ×1 ${flow[HOST_B!]!.toFixed(2)} Mbit/s (share ${flowShareB.toFixed(2)})`,
    );
    assert.ok(flowShareB < 0.25, `per flow, the one-download host got ${(flowShareB * 100).toFixed(0)}%`);
  },
);

test("upload shared among hosts too: by the source address before NAT", opts, async () => {
  await apply(policy("host"));
  const sink = spawn(
    "ip",
    [
      "netns",
      "exec",
      LAB.ns.wan,
      "node",
      "-e",
      `require("net").createServer((s) => { s.resume(); s.on("error", () => {}); }).listen(${SINK_PORT})`,
    ],
    { stdio: "ignore" },
  );
  try {
    await sleep(1500); // the sink listening
    const sending = upload({ [HOST_A!]: 20, [HOST_B!]: 1 }, 12_000);
    await sleep(2500);
    const at0 = Date.now();
    const b0 = await classBytes("wan0");
    await sleep(5000);
    const b1 = await classBytes("wan0");
    const secs = (Date.now() - at0) / 1000;
    await sending;
    // the class's buckets: bucket b takes the hosts whose address ends in b (mod 64)
    const bucket = (host: string) => `1:${(0x1000 + (Number(host.split(".")[3]) % 64)).toString(16)}`;
    const mbit = (host: string) =>
      (((b1.get(bucket(host)) ?? 0) - (b0.get(bucket(host)) ?? 0)) * 8) / secs / 1e6;
    const [a, b] = [mbit(HOST_A!), mbit(HOST_B!)];
    console.log(
      `upload, fairness host: ${HOST_A} ×20 ${a.toFixed(2)} Mbit/s, ${HOST_B} ×1 ${b.toFixed(2)} Mbit/s`,
    );
    assert.ok(
      a + b > 14,
      `the two hosts' buckets carried ${(a + b).toFixed(2)} Mbit/s of the 20 Mbit/s link`,
    );
    const share = b / (a + b);
    assert.ok(share >= 0.35 && share <= 0.65, `the one-upload host got ${(share * 100).toFixed(0)}%`);
  } finally {
    sink.kill("SIGTERM");
  }
});

test(
  "a device rule limits that host's download and not the other's; by MAC through the leases",
  opts,
  async () => {
    const limited = [{ name: "capped", hosts: [HOST_B!], download: { rate: "3mbit", ceil: "3mbit" } }];
    await apply(policy("flow", limited));
    const before = await classBytes("lan0");
    const r = await download({ [HOST_A!]: 1, [HOST_B!]: 1 });
    console.log(
      `device rule by address: ${HOST_A} ${r[HOST_A!]!.toFixed(2)} Mbit/s, ${HOST_B} ${r[HOST_B!]!.toFixed(2)} Mbit/s (limit 3)`,
    );
    assert.ok(
      r[HOST_B!]! >= 2.4 && r[HOST_B!]! <= 3.6,
      `the limited host carried ${r[HOST_B!]!.toFixed(2)} Mbit/s, expected 3 ± 20%`,
    );
    assert.ok(
      r[HOST_A!]! >= 10,
      `the other host carried ${r[HOST_A!]!.toFixed(2)} Mbit/s, expected most of the rest`,
    );
    const after = await classBytes("lan0");
    assert.ok(
      (after.get("1:d8") ?? 0) > (before.get("1:d8") ?? 0) + 1e6,
      "the device's class counted its bytes",
    );

    // By MAC: the LAN namespace's MAC leased to HOST_C with a name, as dnsmasq writes it.
    const mac = (
      await execInNs(LAB.ns.lan, ["cat", `/sys/class/net/${LAB.ifaces.lan}/address`])
    ).stdout.trim();
    writeFileSync(LEASES, `0 ${mac} ${HOST_C} kids-tablet 01:${mac}\n`);
    const byMac = [{ name: "kids", hosts: [mac], download: { rate: "2mbit", ceil: "2mbit" } }];
    await apply(policy("flow", byMac));
    const m = await download({ [HOST_A!]: 1, [HOST_C!]: 1 });
    console.log(
      `device rule by MAC: ${HOST_A} ${m[HOST_A!]!.toFixed(2)} Mbit/s, ${HOST_C} ${m[HOST_C!]!.toFixed(2)} Mbit/s (limit 2)`,
    );
    assert.ok(
      m[HOST_C!]! >= 1.6 && m[HOST_C!]! <= 2.4,
      `the leased host carried ${m[HOST_C!]!.toFixed(2)} Mbit/s, expected 2 ± 20%`,
    );
    assert.ok(m[HOST_A!]! >= 10, `the other host carried ${m[HOST_A!]!.toFixed(2)} Mbit/s`);
    const devices = await client.devices();
    assert.deepEqual(
      devices.devices.map((d) => [d.address, d.mac, d.name, d.source]),
      [[HOST_C, mac, "kids-tablet", "dhcp"]],
    );
    // Top talkers carry the lease's name.
    const stats = await client.call<{ latest: { hosts: { host: string; name?: string | null }[] } | null }>(
      "GET",
      "/v1/stats",
    );
    const talker = stats.latest?.hosts.find((h) => h.host === HOST_C);
    assert.equal(talker?.name, "kids-tablet");
  },
);

test(
  "a device rule outside the box's LAN is refused with its field path, the box unchanged",
  opts,
  async () => {
    const good = await client.call<{ policy: { id: number } | null }>("GET", "/v1/status");
    const outside = [{ name: "far", hosts: ["10.99.0.0/24"], download: { rate: "1mbit" } }];
    const err = await client
      .call("POST", "/v1/apply", { policy: policy("flow", outside), user: "test" })
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof AgentApiError, String(err));
    const issues = (err.body.issues ?? []) as { path: string; message: string }[];
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [["devices[0].hosts[0]", `10.99.0.0/24 is outside the LAN (${LAB.v4.lanNet}, ${LAB.v6.lanNet})`]],
    );
    const now = await client.call<{ policy: { id: number } | null }>("GET", "/v1/status");
    assert.equal(now.policy?.id, good.policy?.id);
  },
);
