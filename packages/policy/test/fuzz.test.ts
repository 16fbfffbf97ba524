// Robustness (issue 16): random and mutated policies. Validation never throws: it answers
// ok with a typed policy, or issues that each name a field path and say what is wrong.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaultPolicy, validatePolicy, validateTargetRules, type ValidationResult } from "../src/index.ts";

const ctx = {
  // the default policy's protocols and a few more
  protocols: new Set<string>([
    ...(defaultPolicy().rules ?? []).flatMap((r) => ("protocol" in r && r.protocol ? [r.protocol] : [])),
    "http",
    "ssh",
  ]),
  apps: new Set(["youtube", "steam"]),
  categories: new Set(["gaming", "video"]),
  maxAppId: 120,
};

/** A value at a random path of `doc` replaced by a random one (or deleted). */
function mutatedPolicy(): fc.Arbitrary<unknown> {
  const value = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.constantFrom(
      "0",
      "-1",
      "1e309",
      "NaN",
      "10gbit",
      "0mbit",
      "999999999tbit",
      "",
      "*.x",
      "a*a*a*b",
      "\n",
    ),
    fc.integer(),
    fc.double(),
    fc.constantFrom("5mbit", "100kbit", 3, true, "web", "bulk", "lan0", "ifb", 0xff00),
  );
  return fc
    .tuple(
      fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.option(value)), {
        minLength: 1,
        maxLength: 3,
      }),
    )
    .map(([edits]) => {
      const doc = defaultPolicy() as unknown as Record<string, unknown>;
      (doc.rules as unknown[]).push(
        { app: "youtube", class: "bulk" },
        { hostname: "*.example.com", class: "web" },
      );
      for (const [path, v] of edits) {
        let node: unknown = doc;
        for (let i = 0; i < path.length; i++) {
          if (node === null || typeof node !== "object") break;
          const keys = Object.keys(node);
          if (keys.length === 0) break;
          const k = keys[path[i]! % keys.length]!;
          if (i === path.length - 1 || typeof (node as Record<string, unknown>)[k] !== "object") {
            if (v === null) Reflect.deleteProperty(node, k);
            else (node as Record<string, unknown>)[k] = v;
            break;
          }
          node = (node as Record<string, unknown>)[k];
        }
      }
      return doc;
    });
}

function check(r: ValidationResult): void {
  if (r.ok) {
    assert.ok(r.policy.classes.upload.length > 0 && r.policy.classes.download.length > 0);
    return;
  }
  assert.ok(r.issues.length > 0);
  for (const i of r.issues) {
    assert.equal(typeof i.path, "string");
    assert.ok(typeof i.message === "string" && i.message.length > 0, JSON.stringify(i));
  }
}

test("random and mutated policies: valid, or issues with a path and a message", { timeout: 120_000 }, () => {
  let ok = 0;
  let refused = 0;
  fc.assert(
    fc.property(
      fc.oneof({ weight: 1, arbitrary: fc.anything() }, { weight: 6, arbitrary: mutatedPolicy() }),
      (input) => {
        const r = validatePolicy(input, ctx);
        check(r);
        if (r.ok) ok++;
        else refused++;
      },
    ),
    { numRuns: 3000 },
  );
  console.log(`# policy fuzz: ${ok} valid, ${refused} refused`);
  assert.ok(ok > 0 && refused > 0, "the inputs reach both outcomes");
});

test("random rule lists: valid, or issues with a path and a message", () => {
  const rule = fc.oneof(
    fc.anything({ maxDepth: 1 }),
    fc.record(
      {
        protocol: fc.constantFrom("http", "nosuch", ""),
        app: fc.constantFrom("youtube", "nosuch"),
        category: fc.constantFrom("gaming", "x"),
        hostname: fc.oneof(fc.constantFrom("*.example.com", "a..b", "**.x", "cdn*.x.*"), fc.string()),
        class: fc.constantFrom("web", "bulk", "nosuch", "interactive"),
        comment: fc.string(),
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(fc.array(rule, { maxLength: 6 }), (rules) => {
      const p = validatePolicy(defaultPolicy());
      assert.ok(p.ok);
      const r = validateTargetRules(rules, p.policy.classes, ctx);
      if (!r.ok)
        for (const i of r.issues)
          assert.ok(i.message.length > 0 && i.path.startsWith("rules"), JSON.stringify(i));
    }),
    { numRuns: 2000 },
  );
});
