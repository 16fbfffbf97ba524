import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalAddress, defaultPolicy, metricsListenIssues, validatePolicy } from "../src/index.ts";

test("metrics are off by default, on 127.0.0.1:9712 when turned on without an address", () => {
  const r = validatePolicy(defaultPolicy());
  assert.ok(r.ok);
  assert.deepEqual(r.policy.metrics, { enabled: false, address: "127.0.0.1", port: 9712 });
  const on = validatePolicy({ ...defaultPolicy(), metrics: { enabled: true } });
  assert.ok(on.ok);
  assert.deepEqual(on.policy.metrics, { enabled: true, address: "127.0.0.1", port: 9712 });
});

test("a metrics address that is no address, a wildcard or multicast is refused at its field", () => {
  const cases = [
    ["0.0.0.0", /listens on every interface, the WAN's too/],
    ["::", /listens on every interface/],
    ["0:0:0:0:0:0:0:0", /listens on every interface/],
    ["224.0.0.1", /multicast or broadcast/],
    ["ff02::1", /multicast/],
    ["192.168.1", /is not an IPv4 or IPv6 address/],
    ["lan.example", /is not an IPv4 or IPv6 address/],
    ["10.0.0.1:9100", /is not an IPv4 or IPv6 address/],
  ] as const;
  for (const [address, why] of cases) {
    const r = validatePolicy({ ...defaultPolicy(), metrics: { enabled: true, address } });
    assert.equal(r.ok, false, address);
    if (r.ok) continue;
    assert.deepEqual(
      r.issues.map((i) => i.path),
      ["metrics.address"],
      address,
    );
    assert.match(r.issues[0]!.message, why, address);
  }
  const bad = validatePolicy({
    ...defaultPolicy(),
    metrics: { enabled: true, port: 70000, bearerTokenSha256: "secret", extra: 1 },
  });
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.deepEqual(bad.issues.map((i) => i.path).sort(), [
      "metrics",
      "metrics.bearerTokenSha256",
      "metrics.port",
    ]);
});

test("with the box's LAN addresses known, only loopback or one of them is taken", () => {
  const p = { ...defaultPolicy(), metrics: { enabled: true, address: "192.168.77.1" } };
  const lan = ["192.168.77.1", "fd00::1", "fe80::1%lan0"];
  assert.deepEqual(metricsListenIssues(p, lan), []);
  assert.deepEqual(metricsListenIssues({ ...p, metrics: { enabled: true, address: "fd00:0::1" } }, lan), []);
  assert.deepEqual(metricsListenIssues({ ...p, metrics: { enabled: true, address: "127.0.0.2" } }, lan), []);
  assert.deepEqual(metricsListenIssues({ ...p, metrics: { enabled: true, address: "::1" } }, []), []);
  const wan = metricsListenIssues({ ...p, metrics: { enabled: true, address: "203.0.113.7" } }, lan);
  assert.equal(wan.length, 1);
  assert.equal(wan[0]!.path, "metrics.address");
  assert.match(
    wan[0]!.message,
    /203\.0\.113\.7 is not loopback nor an address of \S+ \(192\.168\.77\.1, fd00::1, fe80::1\)/,
  );
  // off, or the box's addresses not known yet: nothing to check
  assert.deepEqual(
    metricsListenIssues({ ...p, metrics: { enabled: false, address: "203.0.113.7" } }, lan),
    [],
  );
  assert.deepEqual(
    metricsListenIssues({ ...p, metrics: { enabled: true, address: "203.0.113.7" } }, null),
    [],
  );
});

test("addresses compare in canonical form", () => {
  assert.equal(canonicalAddress("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(canonicalAddress("FD00:0:0::1"), "fd00::1");
  assert.equal(canonicalAddress("192.168.077.1"), null, "octal-looking octets are refused, not guessed");
  assert.equal(canonicalAddress("256.0.0.1"), null);
});
