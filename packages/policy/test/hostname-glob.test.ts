// Hostname globs: linear-time matching (issue 17.3) with the semantics of the regex the
// matcher replaced, checked on random globs and names.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hostnameGlobMatcher, isHostnameGlob } from "../src/index.ts";

/** The earlier matcher (a backtracking RegExp), kept as the reference for the semantics. */
function regexGlobMatcher(glob: string): (host: string) => boolean {
  const g = glob.toLowerCase();
  const body = (s: string) =>
    s
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
      .join("[^.]*");
  const re = g.startsWith("*.") ? new RegExp(`^(?:.+\\.)?${body(g.slice(2))}$`) : new RegExp(`^${body(g)}$`);
  return (host) => re.test(host.toLowerCase().replace(/\.$/, ""));
}

test("a glob with many stars against a long label finishes (no backtracking)", { timeout: 60_000 }, () => {
  // The probe's case: accepted by the validator, 20.9 s with the regex on 60 characters.
  const probe = "a*a*a*a*a*a*a*a*b";
  assert.ok(isHostnameGlob(probe));
  assert.equal(hostnameGlobMatcher(probe)("a".repeat(60)), false);
  // Worse: 31 stars (the longest label a glob may have) against 200 000 characters. A
  // backtracking matcher explores about C(200000, 30) ways and would never return; this
  // one scans the label once per literal piece.
  const worst = `${"a*".repeat(31)}b`;
  assert.ok(isHostnameGlob(worst));
  const m = hostnameGlobMatcher(`*.${worst}.example.com`);
  const label = "a".repeat(200_000);
  assert.equal(m(`x.${label}.example.com`), false);
  assert.equal(m(`x.${label}b.example.com`), true);
  assert.equal(m(`${label}ab.example.com`), true);
});

test("the same answers as the regex semantics on random globs and names", () => {
  // A small alphabet so that random globs and names often (nearly) match.
  const ch = fc.constantFrom("a", "b", "A", ".", "-", "*", "\n", "+", "(", "\\", "é", "İ");
  const glob = fc.oneof(
    fc.string({ unit: ch, maxLength: 12 }),
    fc.string({ unit: ch, maxLength: 10 }).map((s) => `*.${s}`),
  );
  const host = fc.string({ unit: ch, maxLength: 16 }).filter((h) => !h.includes("*"));
  fc.assert(
    fc.property(glob, host, (g, h) => {
      assert.equal(hostnameGlobMatcher(g)(h), regexGlobMatcher(g)(h), `glob ${JSON.stringify(g)}`);
    }),
    { numRuns: 20_000 },
  );
});

test("the same answers on names built from the glob (mostly matches)", () => {
  const label = fc.string({ unit: fc.constantFrom("a", "b", "c", "*"), minLength: 1, maxLength: 6 });
  const fill = fc.string({ unit: fc.constantFrom("a", "b", "c", ".", "\r"), maxLength: 4 });
  const sample = fc
    .tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 4 }), fc.array(fill, { maxLength: 12 }))
    .map(([sub, labels, fills]) => {
      const g = `${sub ? "*." : ""}${labels.join(".")}`;
      // a name: each star replaced by a random fill, maybe a subdomain and a trailing dot
      let i = 0;
      const name = labels.join(".").replace(/\*/g, () => fills[i++ % Math.max(1, fills.length)] ?? "");
      return { g, h: `${fills[0] ?? ""}${sub ? "x." : ""}${name}${fills.length % 2 ? "." : ""}` };
    });
  fc.assert(
    fc.property(sample, ({ g, h }) => {
      assert.equal(
        hostnameGlobMatcher(g)(h),
        regexGlobMatcher(g)(h),
        `${JSON.stringify(g)} ${JSON.stringify(h)}`,
      );
    }),
    { numRuns: 20_000 },
  );
});
