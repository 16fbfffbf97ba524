// Schedules and quotas on real traffic in the lab (root): a window that starts at the next
// minute really lowers a class's rate at the boundary (the real agent on the system clock);
// a host past a 1 MB allowance really lands in the demotion class, and a restarted agent
// keeps the amount it used.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { PolicyInput } from "@sluice/policy";
import { LAB, execInNs, LabAgent } from "../src/index.ts";
import { classBytes } from "./support/kernel-views.ts";
import { rootOnly as opts, labWithAgent, labPolicy, applyPolicy, curlFromLan } from "./support/lab-suite.ts";

const PATTERNS = fileURLToPath(new URL("../../agent/test/fixtures/patterns", import.meta.url));
const agent = new LabAgent(PATTERNS);
const client = agent.client;
const HOST = LAB.v4.clients[0];
const OTHER = LAB.v4.clients[1];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

function curl(from: string, path: string, maxTime = 20) {
  return curlFromLan(`http://${LAB.v4.server}${path}`, {
    from,
    maxTime,
    write: "%{http_code} %{size_download}",
  });
}

/** http → "web" (40 Mbit/s), "capped" 5 Mbit/s; a default class. */
function basePolicy(): PolicyInput {
  const tree = [
    { name: "web", rate: "20mbit", ceil: "40mbit", priority: 1 },
    { name: "capped", rate: "5mbit", ceil: "5mbit", priority: 4 },
    { name: "other", rate: "10mbit", ceil: "40mbit", priority: 3, default: true },
  ];
  return labPolicy("lab-schedule-quota", tree, [{ protocol: "http", class: "web" }]);
}

labWithAgent(agent);

/** Download rate of class `id` on lan0 over `ms`. */
async function rate(id: string, ms: number): Promise<number> {
  const t0 = Date.now();
  const a = await classBytes("lan0");
  const m0 = (t0 + Date.now()) / 2;
  await sleep(ms);
  const t1 = Date.now();
  const b = await classBytes("lan0");
  const m1 = (t1 + Date.now()) / 2;
  return (((b.get(id) ?? 0) - (a.get(id) ?? 0)) * 8) / ((m1 - m0) / 1000) / 1e6;
}

test(
  "a window starting at the next minute caps the web class from 40 to 5 Mbit/s at the boundary",
  opts,
  async () => {
    // The next whole UTC minute at least 30 s ahead (applies on a loaded machine take a
    // while): the agent's own clock must reach it and switch.
    let start = Math.ceil(Date.now() / 60000) * 60000;
    if (start - Date.now() < 30000) start += 60000;
    // the class's rate before: the policy without the window, a download lasting past the start
    await applyPolicy(agent, basePolicy());
    const before = curl(HOST, `/bulk?mb=1000`, 7);
    await sleep(2000);
    const beforeRate = await rate("1:10", 3000);
    await before;
    const d = new Date(start);
    const hhmm = (x: Date) => x.toISOString().slice(11, 16);
    const end = new Date(start + 10 * 60000);
    const policy: PolicyInput = {
      ...basePolicy(),
      timeZone: "UTC",
      schedules: [
        {
          name: "capped-now",
          days: [DAYS[d.getUTCDay()]!],
          start: hhmm(d),
          end: hhmm(end) === "00:00" ? "24:00" : hhmm(end),
          classes: [{ class: "web", ceil: "5mbit", rate: "5mbit" }],
        },
      ],
    };
    await applyPolicy(agent, policy);
    const status = await client.call<{ schedule?: { active: string[]; next: { at: string } | null } }>(
      "GET",
      "/v1/status",
    );
    if (Date.now() < start - 500) {
      assert.deepEqual(status.schedule?.active, []);
      assert.equal(status.schedule?.next?.at, new Date(start).toISOString());
    }
    // wait for the switch: the history says so
    let entry: { note?: string; status: string } | undefined;
    while (!entry && Date.now() < start + 40000) {
      const h = await client.call<{ note?: string; status: string }[]>("GET", "/v1/history");
      entry = h.find((e) => e.note === "schedule: capped-now started" && e.status !== "applying");
      if (!entry) await sleep(250);
    }
    assert.ok(entry, "a history entry for the window's start");
    assert.equal(entry.status, "applied");
    assert.ok(Date.now() >= start, "not before the boundary");
    const after = curl(HOST, `/bulk?mb=1000`, 8);
    await sleep(2500); // the download ramps up (and HTB's bucket drains)
    const afterRate = await rate("1:10", 4000);
    console.log(
      `web class: ${beforeRate.toFixed(1)} Mbit/s before the window, ${afterRate.toFixed(2)} after its start (cap 5)`,
    );
    assert.ok(beforeRate > 12, `before the window the class ran at ${beforeRate.toFixed(1)} Mbit/s`);
    assert.ok(
      afterRate >= 4.25 && afterRate <= 5.75,
      `after the boundary ${afterRate.toFixed(2)} Mbit/s, expected 5 ± 15%`,
    );
    await after;
  },
);

test(
  "a host past its 1 MB allowance lands in the demotion class; a restart keeps the count",
  opts,
  async () => {
    const policy: PolicyInput = {
      ...basePolicy(),
      quotas: [{ name: "kid", address: HOST, allowance: "1MB", period: "day", demoteTo: "capped" }],
    };
    await applyPolicy(agent, policy);
    const b0 = await classBytes("lan0");
    // 3 MB to the host: the first MB in "web", the rest demoted to "capped"
    const r = await curl(HOST, "/bulk?mb=3");
    assert.match(r.stdout, /^200 3\d{6}/);
    const b1 = await classBytes("lan0");
    const delta = (id: string) => (b1.get(id) ?? 0) - (b0.get(id) ?? 0);
    console.log(`web ${delta("1:10")} B, capped ${delta("1:11")} B`);
    assert.ok(delta("1:11") > 1.8e6, `the demotion class carried ${delta("1:11")} bytes`);
    assert.ok(
      delta("1:10") < 1.3e6 && delta("1:10") > 0.7e6,
      `the web class carried ${delta("1:10")} bytes (≈ the allowance)`,
    );
    // another host is not demoted
    const o0 = await classBytes("lan0");
    assert.match((await curl(OTHER, "/bulk?mb=2")).stdout, /^200 /);
    const o1 = await classBytes("lan0");
    assert.ok((o1.get("1:10") ?? 0) - (o0.get("1:10") ?? 0) > 1.9e6, "the other host stays in web");
    assert.ok((o1.get("1:11") ?? 0) - (o0.get("1:11") ?? 0) < 0.1e6);

    type Q = { quotas?: { name: string; used: number; allowance: number; demoted: boolean }[] };
    let used = 0;
    for (let i = 0; i < 40 && used < 1e6; i++) {
      const s = await client.call<Q>("GET", "/v1/status");
      used = s.quotas?.find((q) => q.name === "kid")?.used ?? 0;
      if (used < 1e6) await sleep(250); // the agent reads the kernel's count every 5 s
    }
    // the kernel reports a spent quota's count capped at the allowance
    assert.ok(used >= 1e6, `status reports ${used} bytes used`);

    await agent.kill("SIGTERM");
    const file = join(agent.dir, "data", "quota-usage.json");
    assert.ok(existsSync(file));
    const saved = JSON.parse(readFileSync(file, "utf8")) as { used: Record<string, { bytes: number }> };
    assert.ok(saved.used.kid!.bytes >= used, `saved ${saved.used.kid!.bytes} bytes`);
    // a reboot loses the kernel's table: remove it, then start the agent again
    await execInNs(LAB.ns.box, ["nft", "delete", "table", "inet", "sluice"]);
    await agent.start();
    const s = await client.call<Q>("GET", "/v1/status");
    const kid = s.quotas!.find((q) => q.name === "kid")!;
    assert.ok(
      kid.used >= used && kid.demoted,
      `after the restart: ${kid.used} bytes used, demoted ${kid.demoted}`,
    );
    const q = await execInNs(LAB.ns.box, ["nft", "-j", "list", "quotas", "table", "inet", "sluice"]);
    const obj = (
      JSON.parse(q.stdout) as { nftables: { quota?: { name: string; used: number } }[] }
    ).nftables.find((x) => x.quota?.name === "quota_kid")!;
    assert.ok(obj.quota!.used >= used, `the kernel carries on from ${obj.quota!.used}`);
    // and the host's next transfer is demoted from its first byte
    const c0 = await classBytes("lan0");
    assert.match((await curl(HOST, "/bulk?mb=1")).stdout, /^200 /);
    const c1 = await classBytes("lan0");
    assert.ok((c1.get("1:11") ?? 0) - (c0.get("1:11") ?? 0) > 0.95e6, "still demoted after the restart");
    assert.ok((c1.get("1:10") ?? 0) - (c0.get("1:10") ?? 0) < 0.1e6);
  },
);
