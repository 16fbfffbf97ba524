import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { parseDnsmasqLeases, activeLeases } from "../src/devices/leases.ts";
import { DeviceNames } from "../src/devices/names.ts";

const LEASES = [
  "1767225600 02:00:00:00:00:20 192.168.77.20 tv 01:02:00:00:00:00:20",
  "0 02:00:00:00:00:21 192.168.77.21 * *",
  "1767225600 02:00:00:00:00:22 192.168.77.22 bad\u001bname *",
  "garbage line",
  "1767225600 not-a-mac 192.168.77.23 x *",
  "duid 00:01:00:01:2c:5f:aa:bb:02:00:00:00:00:01",
  "1767225600 1234 fd00::20 tv-v6 00:01:00:01:aa",
  "",
].join("\n");

test("dnsmasq leases: IPv4 with MAC, DHCPv6 after the duid line, odd lines skipped", () => {
  const l = parseDnsmasqLeases(LEASES);
  assert.deepEqual(l, [
    { expires: 1767225600, mac: "02:00:00:00:00:20", address: "192.168.77.20", hostname: "tv" },
    { expires: 0, mac: "02:00:00:00:00:21", address: "192.168.77.21", hostname: null },
    { expires: 1767225600, mac: "02:00:00:00:00:22", address: "192.168.77.22", hostname: null },
    { expires: 1767225600, mac: null, address: "fd00::20", hostname: "tv-v6" },
  ]);
  assert.deepEqual(
    activeLeases(l, 1767225601).map((x) => x.address),
    ["192.168.77.21"],
    "expired leases drop out; an infinite one stays",
  );
});

test("device names: the lease's name, else reverse DNS asked in the background; MACs to addresses", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-names-"));
  const file = join(dir, "leases");
  writeFileSync(file, LEASES);
  const asked: string[] = [];
  let now = 1767225000 * 1000;
  const names = new DeviceNames({
    leasesFile: file,
    now: () => now,
    reverse: async (a) => {
      asked.push(a);
      if (a === "192.168.77.21") return ["printer.lan."];
      throw new Error("NXDOMAIN");
    },
  });
  try {
    assert.equal(names.nameOf("192.168.77.20"), "tv");
    assert.equal(names.nameOf("192.168.77.21"), null, "not known yet: asked in the background");
    await tick();
    await tick();
    assert.equal(names.nameOf("192.168.77.21"), "printer.lan");
    assert.equal(names.nameOf("192.168.77.99"), null);
    await tick();
    await tick();
    assert.equal(names.nameOf("192.168.77.99"), null, "no PTR: stays nameless, not asked again at once");
    assert.deepEqual(asked, ["192.168.77.21", "192.168.77.99"]);
    assert.deepEqual(
      [...names.macAddresses()],
      [
        ["02:00:00:00:00:20", ["192.168.77.20"]],
        ["02:00:00:00:00:21", ["192.168.77.21"]],
        ["02:00:00:00:00:22", ["192.168.77.22"]],
      ],
    );
    assert.deepEqual(names.list()[1], {
      address: "192.168.77.21",
      mac: "02:00:00:00:00:21",
      name: "printer.lan",
      source: "dns",
      expires: null,
    });
    // The file changes (dnsmasq rewrites it): the next look reads it again.
    writeFileSync(file, "0 02:00:00:00:00:30 192.168.77.30 laptop *\n");
    now += 1500;
    assert.equal(names.nameOf("192.168.77.30"), "laptop");
    assert.equal(names.nameOf("192.168.77.20"), null);
    // Past a lease's expiry its name goes.
    writeFileSync(file, "1767225100 02:00:00:00:00:31 192.168.77.31 old *\n");
    assert.deepEqual([...names.macAddresses()], [["02:00:00:00:00:31", ["192.168.77.31"]]]);
    now = 1767225200 * 1000;
    assert.deepEqual([...names.macAddresses()], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("device names without a lease file or DNS server: nothing, quietly", () => {
  const names = new DeviceNames({ leasesFile: "/nonexistent/leases" });
  assert.equal(names.nameOf("192.168.77.20"), null);
  assert.deepEqual(names.list(), []);
  assert.deepEqual(new DeviceNames({ leasesFile: null }).macAddresses(), new Map());
});
