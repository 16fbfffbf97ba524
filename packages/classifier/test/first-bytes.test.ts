import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import RE2 from "re2";
import { firstBytes, passesWindow, unionFirstBytes, windowGate } from "../src/first-bytes.ts";
import { loadPatternDirs } from "../src/index.ts";

const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));

const bytesOf = (f: Uint8Array | null) => (f === null ? null : [...f.keys()].filter((b) => f[b]));

/** Every packet of protocols/fixtures as a latin1 string (hex packets decoded). */
function fixturePayloads(): string[] {
  const out: string[] = [];
  const dir = join(PROTOCOLS, "fixtures");
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    const doc = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<
      string,
      { packets?: { hex?: string; text?: string }[] }[]
    >;
    for (const cases of Object.values(doc))
      if (Array.isArray(cases))
        for (const c of cases)
          for (const p of c.packets ?? [])
            out.push(
              p.hex !== undefined
                ? Buffer.from(p.hex.replace(/[^0-9a-fA-F]/g, ""), "hex").toString("latin1")
                : (p.text ?? ""),
            );
  }
  return out;
}

test("first bytes of anchored sources: literals, escapes, classes, groups", () => {
  assert.deepEqual(bytesOf(firstBytes("^\\x{16}\\x{01}")), [0x16]);
  assert.deepEqual(bytesOf(firstBytes("^ab|^\\x{00}")), [0x00, 0x61]);
  assert.deepEqual(bytesOf(firstBytes("^[Gg][Ee][Tt]")), [0x47, 0x67]);
  assert.deepEqual(bytesOf(firstBytes("^[\\x{80}-\\x{82}\\x{2d}]x")), [0x2d, 0x80, 0x81, 0x82]);
  assert.deepEqual(bytesOf(firstBytes("^(?:\\x{80}a|\\x{81}(?:b|c))+d")), [0x80, 0x81]);
  assert.deepEqual(bytesOf(firstBytes("^x{1,3}y")), [0x78]);
  assert.deepEqual(bytesOf(firstBytes("^\\.x")), [0x2e]);
  // An atom that may be absent: its first bytes and those of the atom after it.
  assert.deepEqual(bytesOf(firstBytes("^a?b")), [0x61, 0x62]);
  assert.deepEqual(bytesOf(firstBytes("^a*b")), [0x61, 0x62]);
  assert.deepEqual(bytesOf(firstBytes("^a{0,3}b")), [0x61, 0x62]);
  assert.deepEqual(bytesOf(firstBytes("^(?:ab)?c")), [0x61, 0x63]);
  assert.deepEqual(bytesOf(firstBytes("^a??[xy]{0}z|^q")), [0x61, 0x71, 0x78, 0x79, 0x7a]);
  // A negated class: every byte outside it.
  assert.equal(bytesOf(firstBytes("^[^a]x"))!.length, 255);
  assert.equal(bytesOf(firstBytes("^[^a]x"))!.includes(0x61), false);
  assert.deepEqual(bytesOf(firstBytes("^[^\\x{0}-\\x{10ffff}]")), []);
});

test("first bytes: anything not followed means any byte (null)", () => {
  for (const src of [
    "^.x", // any character
    "^(?:a|)b", // empty branch
    "^(?:a?)b", // group that may be empty
    "^a?", // a branch that may match nothing
    "^a?b*|^c",
    "abc", // unanchored
    "^abc|def", // one unanchored branch
    "^\\db", // an escape other than \x{..}
    "^$",
  ])
    assert.equal(firstBytes(src), null, src);
  assert.equal(unionFirstBytes([firstBytes("^a"), null]), null);
  assert.deepEqual(bytesOf(unionFirstBytes([firstBytes("^a"), firstBytes("^b")])), [0x61, 0x62]);
});

test("no pattern of protocols/ matches a fixture payload whose first byte is outside its first bytes", () => {
  // Real payloads near a match: every fixture packet, its first byte replaced by each byte
  // value the reader says cannot begin a match.
  const payloads = fixturePayloads().filter((s) => s.length);
  assert.ok(payloads.length > 100, `${payloads.length} fixture payloads`);
  let checked = 0;
  const set = loadPatternDirs([PROTOCOLS]);
  for (const p of set.patterns) {
    for (const [src, keepNul] of [
      [p.re2, false],
      [p.packetRe2, true],
    ] as const) {
      if (src === null) continue;
      const first = firstBytes(src);
      if (first === null) continue;
      const re = new RE2(src);
      // Packet patterns (where the set uses the answer): every byte; the rest a sample.
      for (let b = keepNul ? 0 : 1; b < 256; b += keepNul ? 1 : 13) {
        if (first[b]) continue;
        for (const payload of payloads) {
          const tail = keepNul ? payload.slice(1) : payload.slice(1).replaceAll("\0", "");
          const subject = String.fromCharCode(b) + tail;
          assert.ok(
            !re.test(subject),
            `${p.name}: ${src} matched a payload beginning with 0x${b.toString(16)}`,
          );
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 50000, `${checked} checks`);
});

test("window gates: a required character behind a few optional ones", () => {
  // The test sources have no `|` inside a group or class: split at every one.
  const gate = (src: string) => {
    const g = windowGate(src.split("|"));
    return g && { window: g.window, chars: bytesOf(g.chars) };
  };
  // openvpn's shape: two optional characters, then one of a few.
  assert.deepEqual(gate("^[\\x{01}-\\x{ff}]?[\\x{01}-\\x{ff}]?[8Pp].{6}|^x?[8@]z"), {
    window: 3,
    chars: [0x38, 0x40, 0x50, 0x70],
  });
  assert.deepEqual(gate("^\\x{16}\\x{03}"), { window: 1, chars: [0x16] });
  for (const src of ["^.?a", "^a?b?c?d?e", "^(?:ab)?c", "^a?|^b", "abc", "^a?\\bc", "^a?.b"])
    assert.equal(windowGate(src.split("|")), null, src);
  const g = windowGate(["^[\\x{01}-\\x{ff}]?[\\x{01}-\\x{ff}]?[8\\x{e9}]"])!;
  const utf8 = (s: string) => Buffer.from(s, "utf8");
  assert.ok(passesWindow(utf8("ab8"), g));
  assert.ok(passesWindow(utf8("\u00ff\u00e9"), g)); // é, two bytes in the subject, second character
  assert.ok(!passesWindow(utf8("abc8"), g)); // fourth: too late
  assert.ok(!passesWindow(utf8("\u00c3\u00a9"), g)); // Ã then ©: é's two bytes, not é
  assert.ok(!passesWindow(utf8(""), g));
});

test("no anchored pattern of protocols/ matches a fixture payload that fails its window gate", () => {
  // Every fixture payload (NULs dropped), its first characters replaced by ones outside
  // the gate: near misses of the patterns that have one.
  const payloads = fixturePayloads()
    .map((s) => s.replaceAll("\0", ""))
    .filter((s) => s.length);
  const set = loadPatternDirs([PROTOCOLS]);
  let checked = 0;
  for (const p of set.patterns.filter((x) => x.anchored)) {
    const g = windowGate(p.branches);
    if (!g || g.window < 2) continue;
    const re = new RE2(p.re2);
    for (let b = 1; b < 256; b += 7) {
      if (g.chars[b]) continue;
      for (const payload of payloads) {
        const subject = String.fromCharCode(b).repeat(g.window) + payload.slice(g.window);
        assert.ok(!passesWindow(Buffer.from(subject, "utf8"), g));
        assert.ok(!re.test(subject), `${p.name} matched ${JSON.stringify(subject.slice(0, 40))}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1000, `${checked} checks`);
});
