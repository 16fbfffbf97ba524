// The Devices page's procedures: device rules saved into the edited policy with field-path
// errors (a host outside the LAN), refused where the agent's kernel cannot match them
// (this TestAgent's fake kernel has no nftables), and the devices the agent knows from
// its DHCP lease file, with names.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MINIMAL_CAPABILITIES } from "@sluice/agent/src/kernel/capabilities.ts";
import { IssuesError } from "../src/issues.ts";
import { harness, adminBrowser, trpcError, type Browser, type Harness } from "./harness.ts";

const issuesOf = (e: Error) => (e.cause instanceof IssuesError ? e.cause.issues : []);

const dir = mkdtempSync(join(tmpdir(), "sluice-api-leases-"));
const leases = join(dir, "dnsmasq.leases");
let h: Harness;
let admin: Browser;

before(async () => {
  writeFileSync(
    leases,
    "0 02:00:00:00:00:20 192.168.77.20 living-room-tv *\n0 02:00:00:00:00:21 192.168.77.21 * *\n",
  );
  h = await harness({}, { leasesFile: leases });
  admin = await adminBrowser(h);
  // the default policy guarantees the whole link: make room beside its classes
  const api = await admin.api();
  const { policy } = await api.policy.getPolicy();
  for (const dir of ["upload", "download"] as const)
    policy.classes[dir] = policy.classes[dir].map((c) => ({ ...c, rate: 1e6 }));
  await api.policy.savePolicy({ policy: policy as unknown as Record<string, unknown> });
});
after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

test("listDevices: the agent's leases with their names, the policy's rules and networks", async () => {
  const r = await (await admin.api()).devices.listDevices();
  assert.equal(r.agentError, null);
  assert.equal(r.leasesFile, leases);
  assert.deepEqual(
    r.known.map((d) => [d.address, d.mac, d.name, d.source]),
    [
      ["192.168.77.20", "02:00:00:00:00:20", "living-room-tv", "dhcp"],
      ["192.168.77.21", "02:00:00:00:00:21", null, null],
    ],
  );
  assert.deepEqual(r.rules, []);
  assert.equal(r.networks, null);
  assert.ok(r.parents.download.includes("bulk") && !r.parents.download.includes("default"));
});

test("saveDevices: a host outside the LAN comes back with its field path; nothing is saved", async () => {
  const api = await admin.api();
  const e = await trpcError(() =>
    api.devices.saveDevices({
      networks: ["192.168.77.0/24"],
      devices: [{ name: "far", hosts: ["10.9.0.0/24"], download: { rate: "1mbit" } }],
    }),
  );
  assert.equal(e.code, "BAD_REQUEST");
  const issues = issuesOf(e);
  assert.deepEqual(
    issues.map((i) => [i.path, i.message]),
    [["devices[0].hosts[0]", "10.9.0.0/24 is outside the LAN (192.168.77.0/24)"]],
  );
  assert.deepEqual((await api.devices.listDevices()).networks, null, "the networks were not saved either");
});

test("saveDevices then Apply: the device gets its class on the box, picked by address in nftables", async () => {
  const api = await admin.api();
  const saved = await api.devices.saveDevices({
    networks: ["192.168.77.0/24"],
    devices: [{ name: "tv", hosts: ["192.168.77.20"], download: { rate: "2mbit", ceil: "4mbit" } }],
  });
  assert.deepEqual(saved.devices, [
    { name: "tv", hosts: ["192.168.77.20"], download: { rate: 2e6, ceil: 4e6 } },
  ]);
  assert.deepEqual((await api.devices.listDevices()).networks, ["192.168.77.0/24"]);
  // the Settings page's interfaces save keeps the networks
  await api.settings.saveInterfaces({
    wan: { device: "wan0", rate: "20mbit" },
    lan: { device: "lan0", rate: "20mbit" },
  });
  assert.deepEqual((await api.devices.listDevices()).networks, ["192.168.77.0/24"]);
  const r = await api.deploy.applyPolicy();
  assert.equal(r.entry.status, "applied");
  const tc = (await h.agent.kernel.run(["tc", "class", "show", "dev", "lan0"])).stdout;
  assert.match(tc, /class htb 1:d8 parent 1:1 .*rate 2Mbit ceil 4Mbit/);
  const nft = (await h.agent.kernel.run(["nft", "-j", "list", "table", "inet", "sluice"])).stdout;
  assert.ok(
    nft.includes("192.168.77.20") && nft.includes("1:d8"),
    "nftables sends the device's address to it",
  );
});

test("saveDevices: a kernel without nftables refuses device rules, naming the rule", async () => {
  const bare = await harness({}, { capabilities: { ...MINIMAL_CAPABILITIES, nftables: false } });
  try {
    const api = await (await adminBrowser(bare)).api();
    await bare.deps.agent.checkHealth(); // the dashboard knows the agent's kernel once it has answered
    const { policy } = await api.policy.getPolicy();
    for (const dir of ["upload", "download"] as const)
      policy.classes[dir] = policy.classes[dir].map((c) => ({ ...c, rate: 1e6 }));
    await api.policy.savePolicy({ policy: policy as unknown as Record<string, unknown> });
    const e = await trpcError(() =>
      api.devices.saveDevices({
        devices: [{ name: "tv", hosts: ["192.168.77.20"], download: { rate: "2mbit", ceil: "4mbit" } }],
      }),
    );
    assert.equal(e.code, "BAD_REQUEST");
    const issues = issuesOf(e);
    assert.deepEqual(
      issues.map((i) => i.path),
      ["devices[0]"],
    );
    assert.match(issues[0]!.message, /device rules need nftables/);
    assert.deepEqual((await api.devices.listDevices()).rules, []);
  } finally {
    await bare.close();
  }
});
