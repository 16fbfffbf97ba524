import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaultPolicy, fairLeaves, kernelIssues, parseRate, validatePolicy } from "../src/index.ts";

test("absurd rates are refused in words: 99999gbit, digits that overflow to Infinity", () => {
  assert.equal(parseRate(`1${"0".repeat(400)}mbit`), null);
  const p = defaultPolicy();
  for (const [rate, why] of [
    ["99999gbit", /"99999gbit" is more than 100gbit: no link is that fast/],
    [`1${"0".repeat(400)}mbit`, /is not a rate/],
  ] as const) {
    const r = validatePolicy({ ...p, interfaces: { ...p.interfaces, wan: { device: "wan0", rate } } });
    assert.equal(r.ok, false);
    if (r.ok) continue;
    const issue = r.issues.find((i) => i.path === "interfaces.wan.rate");
    assert.match(issue?.message ?? "", why);
    assert.doesNotMatch(JSON.stringify(r.issues), /Infinity/);
  }
  const fast = { ...p, interfaces: { ...p.interfaces, wan: { device: "wan0", rate: "100gbit" } } };
  assert.equal(validatePolicy(fast).ok, true, "100gbit is the highest rate taken");
});

test("leaves the kernel lacks and download on an IFB without one are flagged at their field", () => {
  const p = defaultPolicy();
  p.classes.upload[1]!.leaf = "cake";
  p.classes.download[0]!.leaf = "sfq";
  const bare = { qdiscs: { htb: true, sfq: false, fq_codel: false, cake: false, pfifo: true }, ifb: false };
  assert.deepEqual(fairLeaves(bare), []);
  const issues = kernelIssues({ ...p, download: "ifb" }, bare);
  assert.deepEqual(
    issues.map((i) => i.path),
    ["classes.upload[1].leaf", "classes.download[0].leaf", "download"],
  );
  assert.match(issues[0]!.message, /no cake \(sch_cake missing\).*pick one of auto, pfifo/);
  const full = { qdiscs: { sfq: true, fq_codel: true, cake: true, pfifo: true }, ifb: true };
  assert.deepEqual(kernelIssues({ ...p, download: "ifb" }, full), []);
  assert.deepEqual(fairLeaves(full), ["sfq", "fq_codel", "cake"]);
});

test("the kernel check runs before the schema: any shape of input gives issues or none, never a throw", () => {
  // savePolicy checks the kernel first (both kinds of issue come back at once), so the
  // classes and devices lists may be anything here
  const kernel = {
    qdiscs: { htb: true, sfq: false, fq_codel: false, cake: false, pfifo: true },
    ifb: false,
    hosts: { sfqFlow: false, nftables: false },
  };
  const list = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 }),
  );
  fc.assert(
    fc.property(
      fc.record({
        classes: fc.oneof(fc.anything({ maxDepth: 1 }), fc.record({ upload: list, download: list })),
        devices: list,
        download: fc.constantFrom("ifb", "lan", 3, undefined),
      }),
      (p) => {
        const issues = kernelIssues(p as Parameters<typeof kernelIssues>[0], kernel);
        assert.ok(issues.every((i) => typeof i.path === "string" && i.message.length > 0));
      },
    ),
  );
  // and list items that are objects are still checked where they stand
  const issues = kernelIssues(
    { classes: { upload: [null, { leaf: "cake", fairness: "host" }], download: {} }, devices: [1, {}] },
    kernel,
  );
  assert.deepEqual(
    issues.map((i) => i.path),
    ["classes.upload[1].leaf", "classes.upload[1].fairness", "devices[1]"],
  );
});
