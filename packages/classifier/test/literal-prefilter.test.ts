import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  ByteCensus,
  containsLiteral,
  indexOfByte,
  requiredLiteral,
  requiredLiterals,
} from "../src/literal-prefilter.ts";
import { compilePatterns, loadPatternDirs, type PatternSet } from "../src/index.ts";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const OURS = join(ROOT, "protocols");
const CLASSIC = resolve(ROOT, "../shared/l7-protocols/protocols");

test("the required run of a branch: literals, escapes and case pairs; quantified, grouped and zero-width parts end it", () => {
  const lit = (b: string) => requiredLiteral(b)?.bytes.toString("latin1") ?? null;
  assert.equal(lit("\\x{13}[Bb][Ii][Tt]x"), "\x13bitx");
  assert.equal(
    lit(
      "(?:[Ii][Nn]|[Aa][Cc][Kk])\\x{20}[Ss][Ii][Pp][Ss]?\\x{3a}[\\x{21}-\\x{7e}]+\\x{20}[Ss][Ii][Pp]\\x{2f}2",
    ),
    " sip/2",
  );
  assert.equal(lit("ab?cde"), "cde"); // b is optional: not part of a run
  assert.equal(lit("ab\\bcd"), null); // \b ends the run: "ab", "cd" are too short
  assert.equal(lit("[ab]cd[0-9]ef"), null); // neither a case pair nor a range is one character
  assert.equal(lit("xy\\x{e9}zz"), null); // bytes >= 0x80 are two bytes in the subject
  assert.equal(lit("abcx{2}d"), "abc"); // x{2}: quantified, ends the run
  const sip = requiredLiteral("[Ss][Ii][Pp]\\x{2f}2\\x{2e}0")!;
  assert.equal(sip.at, 3); // the search starts at the first byte that is not a letter
  assert.ok(containsLiteral(Buffer.from("xx SiP/2.0 200"), sip));
  assert.ok(!containsLiteral(Buffer.from("xx SIP/2.1 SIP2.0 SIP/2."), sip));
  const letters = requiredLiteral("[Hh][Tt][Tt][Pp]")!;
  assert.equal(letters.at, 0);
  assert.ok(containsLiteral(Buffer.from("..HtTp"), letters));
  assert.ok(containsLiteral(Buffer.from("..hTtP"), letters));
  assert.ok(!containsLiteral(Buffer.from("..htt"), letters));
});

test("wide runs: characters >= 0x80 as the subject spells them, groups of plain alternatives as one run each", () => {
  const lits = (b: string, min = 1) =>
    requiredLiterals(b, min, true)?.map((l) => l.bytes.toString("hex")) ?? null;
  // h323: `\x08` then one of two runs.
  assert.deepEqual(lits("^[\\x{01}-\\x{ff}]{0,160}\\x{06}?\\x{08}(?:\\x{91}j|\\x{81}u)[\\x{01}-\\x{07}]"), [
    "08c2916a",
    "08c28175",
  ]);
  assert.deepEqual(lits("xy\\x{e9}zz"), ["7879c3a97a7a"]); // é is two bytes in the subject
  assert.deepEqual(lits("a(?:b|c)?de"), ["6465"]); // an optional group ends the run
  assert.deepEqual(lits("(?:ab|c[Dd])e"), ["616265", "636465"]);
  assert.deepEqual(lits("a(?:b+|c)de"), ["6465"]); // a quantified alternative: not plain
  assert.deepEqual(lits("a(?:b|(?:c))de"), ["6465"]); // a nested group: not plain
  assert.deepEqual(lits("a(?:b|)de"), ["6465"]); // an empty alternative: not plain
  // A group that is not plain: the union of its alternatives' own runs (dhcpv6).
  assert.deepEqual(
    lits(
      "^[\\x{01}-\\x{0b}][\\x{01}-\\x{ff}]{1,120}(?:\\x{01}[\\x{0a}-\\x{1e}][\\x{01}-\\x{ff}]{0,120}\\x{08}\\x{02}|\\x{08}\\x{02}[\\x{01}-\\x{ff}]{0,120}\\x{01})",
      2,
    ),
    ["0802", "0802"],
  );
  assert.equal(lits("a(?:bc+|x*)d", 2), null); // an alternative without a run: nothing known
  assert.deepEqual(lits("(?:[Aa]b+|c)", 1), ["61", "63"]);
  // More than eight runs at once: the group ends the run instead.
  assert.deepEqual(lits("(?:a|b|c)(?:d|e|f)xyz"), ["78797a"]);
  // Not wide: as requiredLiteral.
  assert.deepEqual(
    requiredLiterals("(?:ab|cd)e\\x{e9}", 1, false)?.map((l) => l.bytes.toString("latin1")),
    ["e"],
  );
  const h323 = requiredLiterals("^.{0,160}\\x{08}(?:\\x{91}j|\\x{81}u)", 1, true)!;
  const subject = (s: string) => Buffer.from(s, "utf8");
  assert.ok(h323.some((l) => containsLiteral(subject("abc\x08\x81uq"), l)));
  assert.ok(h323.some((l) => containsLiteral(subject("\x08\x91J"), l))); // letters fold: more, never fewer
  assert.ok(!h323.some((l) => containsLiteral(subject("\x08\x91k \x08 \x81u"), l)));
});

test("a byte census never rules out a run the subject contains, and rules out one missing a byte", () => {
  const census = new ByteCensus();
  // Runs and subjects over a small alphabet (letters of both cases, a high byte), so that
  // runs occur, nearly occur and occur in another case.
  const alphabet = fc.constantFrom(0x61, 0x62, 0x41, 0x42, 0x2f, 0x30, 0xc3, 0xbf);
  const run = fc
    .uint8Array({ minLength: 1, maxLength: 5 })
    .chain((u) => fc.array(alphabet, { minLength: u.length, maxLength: u.length }));
  fc.assert(
    fc.property(run, fc.array(alphabet, { maxLength: 40 }), (r, h) => {
      // A run as requiredLiterals builds it: letters in lower case.
      const bytes = Buffer.from(r.map((c) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c)));
      const lit = { bytes, at: 0 };
      const hay = Buffer.from(h);
      census.load(hay);
      const contains = containsLiteral(hay, lit);
      const may = census.mayContain(lit);
      if (contains) assert.ok(may, `${hay.toString("hex")} ${bytes.toString("hex")}`);
      // A byte of the run missing from the subject (a letter: in both cases) rules it out.
      const has = (c: number) => hay.includes(c) || (c >= 0x61 && c <= 0x7a && hay.includes(c - 0x20));
      if (![...bytes].every(has)) assert.equal(may, false);
    }),
    { numRuns: 2000 },
  );
});

test("a byte census rules out a run whose bytes all occur but not side by side", () => {
  const census = new ByteCensus();
  const run = (s: string) => ({ bytes: Buffer.from(s, "latin1"), at: 0 });
  census.load(Buffer.from("a-b s.i.p xx SIP/2.0"));
  assert.equal(census.mayContain(run("ab")), false);
  assert.equal(census.mayContain(run("aa")), false);
  assert.equal(census.mayContain(run("sip/2.0")), true);
  assert.equal(census.mayContain(run("ip/")), true); // letters in either case
  assert.equal(census.mayContain(run("sip/3")), false);
});

test("indexOfByte finds what Buffer.indexOf finds, in short and long subjects", () => {
  for (const len of [0, 1, 40, 256, 257, 3000]) {
    const hay = Buffer.alloc(len, 0x61);
    if (len > 2) hay[len - 2] = 0x13;
    if (len > 300) hay[100] = 0x13;
    for (const from of [0, 1, 99, 101, len - 3, len - 1, len, len + 5]) {
      if (from < 0) continue;
      for (const c of [0x13, 0x61, 0x00])
        assert.equal(indexOfByte(hay, c, from), hay.indexOf(c, from), `${len} ${from} ${c}`);
    }
  }
});

test("a pattern with anchored and unanchored branches matches as before the split", () => {
  const set = compilePatterns([
    { file: "mixed.pat", text: "mixed\n^start|middle[0-9]+end\n" },
    { file: "other.pat", text: "other\nstart\n" },
  ]);
  assert.equal(set.match("startxx", "tcp")?.name, "mixed");
  assert.equal(set.match("xxstart", "tcp")?.name, "other");
  assert.equal(set.match("xxMIDDLE42END", "tcp")?.name, "mixed");
  assert.equal(set.match("xxmiddleend", "tcp"), null);
});

// Subjects built from the fixtures' payloads: pieces at random offsets, random case, random
// bytes between, so that required runs appear, partly appear and cross piece boundaries.
function fixturePieces(): string[] {
  const dir = join(OURS, "fixtures");
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const j = JSON.parse(readFileSync(join(dir, f), "utf8")) as {
      positive: { packets: { text?: string; hex?: string }[] }[];
    };
    for (const c of j.positive)
      for (const p of c.packets) {
        const s = p.text ?? (p.hex ? Buffer.from(p.hex.replace(/\s+/g, ""), "hex").toString("latin1") : "");
        if (s) out.push(s.slice(0, 300));
      }
  }
  return out;
}

function agreesWithSequential(set: PatternSet, runs: number): void {
  const pieces = fixturePieces();
  const piece = fc
    .tuple(fc.constantFrom(...pieces), fc.nat(), fc.nat(), fc.boolean())
    .map(([s, a, b, up]) => {
      const from = a % s.length;
      const cut = s.slice(from, from + 1 + (b % (s.length - from)));
      return up ? cut.toUpperCase() : cut;
    });
  const noise = fc.string({
    unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)),
    maxLength: 6,
  });
  const subject = fc.array(fc.oneof(piece, noise), { minLength: 1, maxLength: 6 }).map((xs) => xs.join(""));
  fc.assert(
    fc.property(subject, fc.constantFrom("tcp" as const, "udp" as const), (s, l4) => {
      assert.equal(
        set.match(s, l4)?.name ?? null,
        set.matchSequential(s, l4)?.name ?? null,
        JSON.stringify(s),
      );
    }),
    { numRuns: runs },
  );
}

test("prefiltered RE2.Sets give the sequential loop's answers (protocols/)", () => {
  agreesWithSequential(loadPatternDirs([OURS]), 1500);
});

test(
  "prefiltered RE2.Sets give the sequential loop's answers (classic l7-protocols)",
  { skip: existsSync(CLASSIC) ? false : "../shared/l7-protocols not present" },
  () => {
    agreesWithSequential(loadPatternDirs([CLASSIC]), 1500);
  },
);
