import { test } from "node:test";
import assert from "node:assert/strict";
import {
  validatePolicy,
  defaultPolicy,
  parseHostMatch,
  insideNetwork,
  kernelIssues,
  type PolicyInput,
} from "../src/index.ts";

/** The default policy with room beside its classes (they guarantee 5 of the 20 Mbit/s). */
function roomy(): PolicyInput {
  const p = defaultPolicy();
  for (const dir of ["upload", "download"] as const)
    p.classes[dir] = p.classes[dir].map((c) => ({ ...c, rate: "1mbit" }));
  return p;
}

function withHosts(extra: Partial<PolicyInput> & { lanNetworks?: string[] }): PolicyInput {
  const p = roomy();
  const { lanNetworks, ...rest } = extra;
  if (lanNetworks) p.interfaces.lan.networks = lanNetworks;
  return { ...p, ...rest };
}

function issues(p: unknown, lanNetworks?: string[]) {
  const r = validatePolicy(p, lanNetworks ? { lanNetworks } : {});
  return r.ok ? [] : r.issues;
}

test("host entries: addresses, networks and MACs parse; anything else says what it is not", () => {
  assert.deepEqual(parseHostMatch("192.168.77.20"), { kind: "address", family: 4, text: "192.168.77.20" });
  assert.deepEqual(parseHostMatch("FD00:0::20"), { kind: "address", family: 6, text: "fd00::20" });
  assert.deepEqual(parseHostMatch("192.168.77.64/28"), {
    kind: "prefix",
    family: 4,
    text: "192.168.77.64/28",
    address: "192.168.77.64",
    bits: 28,
  });
  assert.deepEqual(parseHostMatch("10.0.0.1/32"), { kind: "address", family: 4, text: "10.0.0.1" });
  assert.deepEqual(parseHostMatch("02-00-AA-bb-00-20"), { kind: "mac", text: "02:00:aa:bb:00:20" });
  for (const bad of ["10.1", "0x0a.0.0.1", "192.168.77.300", "10.0.0.0/33", "host", "02:00:aa:bb:00"])
    assert.match((parseHostMatch(bad) as { error: string }).error, /is not/);
  assert.match(
    (parseHostMatch("192.168.77.5/24") as { error: string }).error,
    /host bits set: the network is 192\.168\.77\.0\/24/,
  );
});

test("insideNetwork: containment by family and prefix length", () => {
  const m = (s: string) => parseHostMatch(s) as Exclude<ReturnType<typeof parseHostMatch>, { error: string }>;
  assert.equal(insideNetwork(m("192.168.77.20"), "192.168.77.0/24"), true);
  assert.equal(insideNetwork(m("192.168.77.64/26"), "192.168.77.0/24"), true);
  assert.equal(insideNetwork(m("192.168.0.0/16"), "192.168.77.0/24"), false);
  assert.equal(insideNetwork(m("10.0.0.1"), "192.168.77.0/24"), false);
  assert.equal(insideNetwork(m("fd00::20"), "192.168.77.0/24"), false);
  assert.equal(insideNetwork(m("fd00::20"), "fd00::/64"), true);
});

test("a device rule on a prefix outside the LAN is refused with its field path", () => {
  const p = withHosts({
    lanNetworks: ["192.168.77.0/24"],
    devices: [{ name: "kids", hosts: ["192.168.77.20", "10.9.0.0/24"], download: { rate: "2mbit" } }],
  });
  assert.deepEqual(issues(p), [
    { path: "devices[0].hosts[1]", message: "10.9.0.0/24 is outside the LAN (192.168.77.0/24)" },
  ]);
  // The agent's LAN addresses stand in when the policy names no network.
  const q = withHosts({ devices: [{ name: "tv", hosts: ["10.9.0.0/24"], upload: { rate: "1mbit" } }] });
  assert.deepEqual(
    issues(q, ["192.168.77.1/24".replace(".1/", ".0/")]).map((i) => i.path),
    ["devices[0].hosts[0]"],
  );
  assert.equal(issues(q).length, 0, "no LAN known: not checked");
});

test("device rules: bad hosts, names, limits and parents each name their field", () => {
  const p = withHosts({
    lanNetworks: ["192.168.77.0/24"],
    devices: [
      { name: "web", hosts: ["192.168.77.2"], download: { rate: "1mbit" } },
      { name: "tv", hosts: ["nonsense", "192.168.77.2"], upload: { rate: "2mbit", ceil: "1mbit" } },
      { name: "tv", hosts: ["192.168.77.3"], download: { rate: "1mbit", ceil: "99mbit" } },
      { name: "box", hosts: ["192.168.77.4"] },
      { name: "cam", hosts: ["192.168.77.5"], download: { rate: "1mbit" }, parent: "web" },
      { name: "nas", hosts: [], download: { rate: "1mbit" }, parent: "nowhere" },
    ],
  });
  const got = issues(p);
  const paths = got.map((i) => i.path);
  assert.ok(paths.includes("devices[1].hosts[0]"), JSON.stringify(got));
  assert.ok(paths.includes("devices[3]"), "a rule that limits nothing");
  assert.ok(paths.includes("devices[5].hosts"), "no hosts");
  // schema issues come first and stop the cross-field checks
  const q = withHosts({
    lanNetworks: ["192.168.77.0/24"],
    devices: [
      { name: "web", hosts: ["192.168.77.2"], download: { rate: "1mbit" } },
      { name: "tv", hosts: ["192.168.77.2"], upload: { rate: "2mbit", ceil: "1mbit" } },
      { name: "tv", hosts: ["192.168.77.3"], download: { rate: "1mbit", ceil: "99mbit" } },
      { name: "cam", hosts: ["192.168.77.5"], download: { rate: "1mbit" }, parent: "web" },
      { name: "nas", hosts: ["192.168.77.6"], download: { rate: "1mbit" }, parent: "nowhere" },
    ],
  });
  const byPath = new Map(issues(q).map((i) => [i.path, i.message]));
  assert.match(byPath.get("devices[0].name")!, /already a (upload|download) class name/);
  assert.match(byPath.get("devices[1].hosts[0]")!, /192\.168\.77\.2 is already in devices\[0\]\.hosts\[0\]/);
  assert.match(byPath.get("devices[1].upload.ceil")!, /below the rate/);
  assert.match(byPath.get("devices[2].name")!, /duplicate device name "tv"/);
  assert.match(byPath.get("devices[2].download.ceil")!, /above the download link rate/);
  assert.match(byPath.get("devices[3].parent")!, /rules\[5\] sends traffic to "web"/);
  assert.match(byPath.get("devices[4].parent")!, /no download class named "nowhere"/);
});

test("device guarantees add up with the classes beside them", () => {
  const p = {
    ...defaultPolicy(),
    devices: [{ name: "tv", hosts: ["192.168.77.9"], download: { rate: "5mbit" } }],
  };
  // the default tree already guarantees the whole 20mbit link
  assert.deepEqual(
    issues(p).map((i) => i.path),
    ["devices[0].download.rate"],
  );
  const q = roomy();
  assert.equal(
    issues({ ...q, devices: [{ name: "tv", hosts: ["192.168.77.9"], download: { rate: "5mbit" } }] }).length,
    0,
  );
});

test("a device nests in a grouping class", () => {
  const p = defaultPolicy();
  p.classes.download = [
    ...p.classes.download.map((c) => ({ ...c, rate: "1mbit" })),
    { name: "guests", rate: "4mbit", ceil: "10mbit" },
  ];
  const ok = {
    ...p,
    devices: [
      { name: "tv", hosts: ["192.168.77.9"], download: { rate: "2mbit", ceil: "8mbit" }, parent: "guests" },
    ],
  };
  assert.deepEqual(issues(ok), []);
  const over = {
    ...p,
    devices: [
      { name: "tv", hosts: ["192.168.77.9"], download: { rate: "5mbit", ceil: "12mbit" }, parent: "guests" },
    ],
  };
  const paths = issues(over).map((i) => i.path);
  assert.deepEqual(
    paths.sort(),
    ["devices[0].download.ceil", "devices[0].download.rate", "devices[0].download.rate"].sort(),
  );
});

test("fairness: host only on leaf classes; the kernel must be able to do it", () => {
  const p = defaultPolicy();
  p.classes.download[1] = { ...p.classes.download[1]!, fairness: "host" };
  assert.deepEqual(issues(p), []);
  const r = validatePolicy(p);
  assert.ok(r.ok);
  assert.equal(r.policy.classes.download[1]!.fairness, "host");
  assert.equal(r.policy.classes.download[0]!.fairness, undefined);

  const parent = defaultPolicy();
  parent.classes.upload.push({ name: "group", rate: "1mbit", fairness: "host" });
  parent.classes.upload[0] = { ...parent.classes.upload[0]!, parent: "group", rate: "500kbit" };
  assert.ok(issues(parent).some((i) => i.path === "classes.upload[5].fairness" && /leaf/.test(i.message)));

  const bad = {
    ...p,
    classes: { ...p.classes, upload: [{ ...p.classes.upload[0]!, fairness: "per-host" }] },
  };
  assert.equal(issues(bad)[0]?.path, "classes.upload[0].fairness");

  const qdiscs = { sfq: false, fq_codel: false, cake: false, pfifo: true };
  assert.deepEqual(kernelIssues(p, { qdiscs, hosts: { sfqFlow: false, nftables: true } }), []);
  assert.deepEqual(
    kernelIssues(p, { qdiscs, hosts: { sfqFlow: false, nftables: false } }).map((i) => i.path),
    ["classes.download[1].fairness"],
  );
  const ifb = { ...p, download: "ifb" as const };
  assert.match(
    kernelIssues(ifb, { qdiscs, hosts: { sfqFlow: false, nftables: true } })[0]!.message,
    /cannot share download on an IFB among hosts/,
  );
  assert.deepEqual(kernelIssues(ifb, { qdiscs, hosts: { sfqFlow: true, nftables: false } }), []);
  const dev = { ...p, devices: [{ name: "tv", hosts: ["192.168.77.9"], download: { rate: "1mbit" } }] };
  assert.deepEqual(
    kernelIssues(dev, { qdiscs, hosts: { sfqFlow: true, nftables: false } }).map((i) => i.path),
    ["devices[0]"],
  );
  assert.deepEqual(
    kernelIssues({ ...dev, download: "ifb" }, { qdiscs, hosts: { sfqFlow: true, nftables: true } }).map(
      (i) => i.path,
    ),
    ["devices[0].download"],
  );
});
