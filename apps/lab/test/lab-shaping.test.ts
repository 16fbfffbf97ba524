// The agent in the lab (three namespaces, real servers): connections through the box get
// the right connection marks and land in the right classes; a rate-limited class carries
// its rate under a saturating flow while a higher-priority class keeps its guarantee; the
// data plane fails open and resumes. Needs root; uses the lab's own namespaces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultPolicy, type PolicyInput } from "@sluice/policy";
import { LAB, execInNs, LabAgent } from "../src/index.ts";
import { conntrack, classBytes } from "./support/kernel-views.ts";
import { rootOnly as opts, labWithAgent, labPolicy, applyPolicy, curlFromLan } from "./support/lab-suite.ts";

const PATTERNS = fileURLToPath(new URL("../../agent/test/fixtures/patterns", import.meta.url));
const agent = new LabAgent(PATTERNS);
const BOX = LAB.ns.box;
const LANNS = LAB.ns.lan;
const SERVER = LAB.v4.server;
// Marks of the fixture pattern set (alphabetical, 3 up): bittorrent 3, dns 4, edonkey 5, ftp 6,
// gnutella 7, http 8, quic 9, rsync 10, rtp 11, sip 12, smtp 13, ssh 14, ssl 15, stun 16.
const MARK = { http: 8 << 8, rsync: 10 << 8, ssh: 14 << 8, unknown: 2 << 8 };

function curl(path: string, extra: string[] = []) {
  return curlFromLan(`http://${SERVER}${path}`, { extra });
}

/** A policy over a 40 Mbit/s link: http → "capped" (5 Mbit/s hard), rsync → "priority" (20 Mbit/s guaranteed). */
function shapingPolicy(): PolicyInput {
  const tree = [
    { name: "priority", rate: "20mbit", ceil: "40mbit", priority: 0 },
    { name: "capped", rate: "5mbit", ceil: "5mbit", priority: 4 },
    { name: "other", rate: "10mbit", ceil: "40mbit", priority: 3, default: true },
  ];
  return labPolicy("lab-test", tree, [
    { protocol: "http", class: "capped" },
    { protocol: "rsync", class: "priority" },
    { protocol: "ssh", class: "priority" },
  ]);
}

labWithAgent(agent);

test("connections through the box get the right connection marks and class counters grow", opts, async () => {
  await applyPolicy(agent, defaultPolicy());
  const before = await classBytes("lan0");
  for (let i = 0; i < 3; i++) assert.equal((await curl("/")).stdout, "200");
  await execInNs(
    LANNS,
    [
      "node",
      "-e",
      `const s=require("net").connect(22,"${SERVER}");s.on("data",()=>{s.write("SSH-2.0-test\\r\\n");setTimeout(()=>s.destroy(),300)});s.on("error",()=>{})`,
    ],
    { allowFail: true },
  );
  await sleep(300);
  const ct = await conntrack();
  const http = ct.filter((c) => c.dport === 80);
  const ssh = ct.filter((c) => c.dport === 22);
  assert.ok(http.length >= 3, `conntrack lists ${http.length} HTTP connections`);
  for (const c of http) assert.equal(c.mark & 0xff00, MARK.http, `HTTP connection mark ${c.mark}`);
  assert.ok(
    ssh.length >= 1 && ssh.every((c) => (c.mark & 0xff00) === MARK.ssh),
    `ssh marks ${ssh.map((c) => c.mark)}`,
  );
  // Default policy: http → web (1:11), ssh → interactive (1:10), on lan0 (download).
  const after = await classBytes("lan0");
  assert.ok(after.get("1:11")! > (before.get("1:11") ?? 0), "the web class counted the HTTP replies");
  assert.ok(after.get("1:10")! > (before.get("1:10") ?? 0), "the interactive class counted the SSH banner");
});

test(
  "a 5 Mbit/s class carries 5 ± 10% under a saturating flow while a higher-priority class keeps its 20 Mbit/s",
  opts,
  async () => {
    await applyPolicy(agent, shapingPolicy());
    const bulk = curl("/bulk?mb=200", ["--max-time", "14"]);
    const rsyncClient = `const s=require("net").connect(${LAB.ports.rsync},"${SERVER}");let n=0;s.once("data",()=>{s.write("@RSYNCD: 31.0\\nbackup\\n--server\\0--sender\\0-r\\0.\\0backup/200000000\\0\\0")});s.on("data",d=>n+=d.length);setTimeout(()=>{console.log(n);process.exit(0)},14000);s.on("error",e=>{console.error(e.message);process.exit(1)})`;
    const rsync = execInNs(LANNS, ["node", "-e", rsyncClient], { allowFail: true });
    await sleep(4000); // both flows classified and saturating
    // Each read's counters are taken somewhere inside its `tc` run, which takes a while on a
    // loaded machine: time each read at its midpoint, not the whole span of both.
    const read = async () => {
      const start = Date.now();
      const bytes = await classBytes("lan0");
      return { bytes, at: (start + Date.now()) / 2 };
    };
    const r0 = await read();
    await sleep(6000);
    const r1 = await read();
    const [b0, b1] = [r0.bytes, r1.bytes];
    const secs = (r1.at - r0.at) / 1000;
    const mbit = (id: string) => ((b1.get(id)! - b0.get(id)!) * 8) / secs / 1e6;
    const capped = mbit("1:11");
    const priority = mbit("1:10");
    console.log(
      `capped class: ${capped.toFixed(2)} Mbit/s (limit 5), priority class: ${priority.toFixed(2)} Mbit/s (guarantee 20)`,
    );
    assert.ok(
      capped >= 4.5 && capped <= 5.5,
      `capped class carried ${capped.toFixed(2)} Mbit/s, expected 5 ± 10%`,
    );
    assert.ok(
      priority >= 18,
      `priority class carried ${priority.toFixed(2)} Mbit/s, below its 20 Mbit/s guarantee`,
    );
    await Promise.all([bulk, rsync]);
    const ct = await conntrack();
    assert.ok(
      ct.some((c) => c.dport === 873 && (c.mark & 0xff00) === MARK.rsync),
      "the rsync stream was classified rsync",
    );
  },
);

test("killing the agent does not stop traffic; restarting it resumes classification", opts, async () => {
  await applyPolicy(agent, defaultPolicy());
  assert.equal((await curl("/")).stdout, "200");
  await agent.kill("SIGKILL");
  await execInNs(BOX, ["conntrack", "-F"], { allowFail: true });
  // Fail-open: with no process on the queues, --queue-bypass lets packets through.
  assert.equal((await curl("/", ["--local-port", "45001"])).stdout, "200");
  const down = (await conntrack()).find((c) => c.sport === 45001);
  assert.ok(down, "the connection made while the agent was down is in conntrack");
  // Not classified from its payload: its window passed unseen, so the first packet past it
  // marked the connection unknown (or nothing yet, for a connection shorter than the window).
  assert.ok([0, 2 << 8].includes(down.mark & 0xff00), `and it was not classified (${down.mark})`);
  // The rules stayed in place.
  const rules = await execInNs(BOX, ["iptables-save", "-t", "mangle"]);
  assert.match(rules.stdout, /NFQUEUE --queue-balance 0:1 --queue-bypass/);
  await agent.start();
  assert.equal((await curl("/", ["--local-port", "45002"])).stdout, "200");
  const up = (await conntrack()).find((c) => c.sport === 45002);
  assert.equal(up!.mark & 0xff00, MARK.http, "classification resumed after the restart");
  assert.ok(existsSync(agent.socket));
});
