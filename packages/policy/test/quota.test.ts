// Quotas in the policy: allowances parse, and what is wrong is named by its field.

import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultPolicy, formatBytes, parseBytes, parseIpPrefix, validatePolicy } from "../src/index.ts";

const issues = (quotas: unknown[], extra: Record<string, unknown> = {}) => {
  const r = validatePolicy({ ...defaultPolicy(), ...extra, quotas });
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};
const q = (extra: Record<string, unknown>) => ({
  name: "kid",
  address: "10.1.0.2",
  allowance: "1GB",
  period: "day",
  demoteTo: "bulk",
  ...extra,
});

test("allowances in bytes, decimal and binary units", () => {
  assert.equal(parseBytes("1GB"), 1e9);
  assert.equal(parseBytes("1.5 mb"), 1.5e6);
  assert.equal(parseBytes("2GiB"), 2 * 1024 ** 3);
  assert.equal(parseBytes(1234), 1234);
  assert.equal(parseBytes("1 parsec"), null);
  assert.equal(formatBytes(1_500_000), "1.5 MB");
  const r = validatePolicy({ ...defaultPolicy(), quotas: [q({ allowance: "500MiB" })] });
  assert.ok(r.ok);
  assert.equal(r.policy.quotas[0]!.allowance, 500 * 1024 ** 2);
});

test("a valid host, prefix and class quota pass", () => {
  assert.deepEqual(
    issues([
      q({}),
      q({ name: "lab", address: "10.1.0.0/24", period: "week" }),
      q({ name: "v6", address: "fd00::/64", period: "month" }),
      q({ name: "p2p", address: undefined, class: "p2p", demoteTo: "default" }),
    ]),
    [],
  );
});

test("no demotion class, an unknown one, a non-leaf, the class itself: errors with paths", () => {
  assert.deepEqual(issues([q({ demoteTo: undefined })]), [
    "quotas[0].demoteTo: a quota needs demoteTo: the class its traffic goes to once the allowance is spent",
  ]);
  assert.deepEqual(issues([q({ demoteTo: "nowhere" })]), [
    'quotas[0].demoteTo: no class named "nowhere" in upload or download',
  ]);
  assert.deepEqual(issues([q({ address: undefined, class: "p2p", demoteTo: "p2p" })]), [
    'quotas[0].demoteTo: demoting class "p2p" to itself changes nothing',
  ]);
  assert.deepEqual(issues([q({ address: undefined, class: "nope" })]), [
    'quotas[0].class: no class named "nope" in upload or download',
  ]);
});

test("allowance ≤ 0, bad periods, targets and duplicate names: errors with paths", () => {
  assert.deepEqual(issues([q({ allowance: 0 })]), [
    "quotas[0].allowance: an allowance must be more than 0 bytes (got 0)",
  ]);
  assert.deepEqual(issues([q({ allowance: "-5MB" })]), [
    "quotas[0].allowance: an allowance must be more than 0 bytes (got -5MB)",
  ]);
  assert.match(
    issues([q({ allowance: "lots" })])[0]!,
    /^quotas\[0\]\.allowance: "lots" is not an amount of data/,
  );
  assert.match(issues([q({ period: "year" })])[0]!, /^quotas\[0\]\.period: /);
  assert.match(
    issues([q({ class: "p2p" })])[0]!,
    /^quotas\[0\]: a quota counts exactly one of address, class/,
  );
  assert.deepEqual(issues([q({ address: "10.1.0.300" })]), [
    'quotas[0].address: "10.1.0.300" is not an IP address or prefix (examples: 10.1.0.2, 10.1.0.0/24, fd00::/64)',
  ]);
  assert.deepEqual(issues([q({ address: "10.1.0.5/24" })]), [
    'quotas[0].address: "10.1.0.5/24" has bits set after the prefix length',
  ]);
  assert.deepEqual(issues([q({}), q({ address: "10.1.0.3" })]), [
    'quotas[1].name: duplicate quota name "kid" (also quotas[0])',
  ]);
  assert.deepEqual(issues([q({})], { download: "ifb" }), [
    "quotas: quotas need download shaped on the LAN interface: traffic on an IFB is not seen by nftables",
  ]);
});

test("addresses and prefixes parse to nft's canonical text", () => {
  assert.deepEqual(parseIpPrefix("10.1.0.2"), {
    family: 4,
    address: "10.1.0.2",
    length: 32,
    hostBits: false,
  });
  assert.deepEqual(parseIpPrefix("FD00:0:0:0::5"), {
    family: 6,
    address: "fd00::5",
    length: 128,
    hostBits: false,
  });
  assert.deepEqual(parseIpPrefix("fd00::/64"), { family: 6, address: "fd00::", length: 64, hostBits: false });
  assert.equal(parseIpPrefix("::ffff:10.0.0.1")?.address, "::ffff:a00:1");
  for (const bad of ["10.1.0", "10.01.0.1", "1::2::3", "fd00::/129", "10.0.0.0/33", "x", ""])
    assert.equal(parseIpPrefix(bad), null, bad);
});
