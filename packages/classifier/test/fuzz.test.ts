// Robustness (issue 16): random and mutated `.pat` files and captures. The parser and the
// pattern compiler either load a file or skip it with a file, a line and a reason; the
// capture reader either reads a capture or stops with a CaptureError saying where; nothing
// else is ever thrown, and nothing hangs (each property runs a bounded number of cases
// under the test's timeout).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  compilePatterns,
  parsePatternFile,
  PatternFileError,
  classifyCaptureBuffer,
  classifyCaptureFile,
  CaptureError,
  readCaptureBuffer,
  loadPatternDirs,
} from "../src/index.ts";
import { tcpConversation, ethernetFrame, pcapFile, pcapngFile } from "./helpers/frames.ts";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const PROTOCOLS = join(ROOT, "protocols");
const patFiles = readdirSync(PROTOCOLS)
  .filter((f) => f.endsWith(".pat"))
  .map((f) => ({ file: f, text: readFileSync(join(PROTOCOLS, f), "latin1") }));
const patterns = loadPatternDirs([PROTOCOLS]);

/** Edits a text or a byte string: overwrites, insertions, deletions, duplications, truncation. */
function mutated<T extends string | Uint8Array>(seeds: readonly T[], unit: fc.Arbitrary<T>): fc.Arbitrary<T> {
  const edit = fc.record({
    kind: fc.constantFrom(
      "overwrite",
      "overwrite",
      "overwrite",
      "replace",
      "insert",
      "delete",
      "duplicate",
      "truncate",
    ),
    at: fc.nat(),
    len: fc.nat({ max: 64 }),
    with: unit,
  });
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 3 }))
    .map(([seed, edits]) => {
      let s: string | Uint8Array = seed;
      for (const e of edits) {
        const at = s.length ? e.at % (s.length + 1) : 0;
        const cat = (...parts: (string | Uint8Array)[]): string | Uint8Array =>
          typeof seed === "string" ? parts.join("") : Buffer.concat(parts as Uint8Array[]);
        if (e.kind === "overwrite") s = cat(s.slice(0, at), e.with, s.slice(at + e.with.length));
        else if (e.kind === "replace") s = cat(s.slice(0, at), e.with, s.slice(at + e.len));
        else if (e.kind === "insert") s = cat(s.slice(0, at), e.with, s.slice(at));
        else if (e.kind === "delete") s = cat(s.slice(0, at), s.slice(at + e.len));
        else if (e.kind === "duplicate") s = cat(s.slice(0, at + e.len), s.slice(at));
        else s = s.slice(0, at);
      }
      return s as T;
    });
}

const patUnit = fc.string({
  unit: fc.constantFrom("(", ")", "[", "]", "{", "}", "*", "\\", "\n", "#", "x", "ÿ", "\0", "{99999}", "\\x"),
  maxLength: 6,
});
const regexUnit = fc.constantFrom(..."()[]{}*+?|\\^$.x0,-:".split(""), "\\x", "ff", "[[:alpha:]]", "{2,}");

/** A `.pat` file and its name: random, built from the format's pieces, or a real one edited. */
const patFile = fc.oneof(
  { weight: 1, arbitrary: fc.record({ file: fc.constant("fuzz.pat"), text: fc.string({ maxLength: 300 }) }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.array(
          fc.constantFrom(
            "# comment",
            "# Quality: great",
            "userspace flags=REG_ICASE",
            "userspace flags=REG_BOGUS",
            "",
          ),
          { maxLength: 3 },
        ),
        fc.string({ unit: regexUnit, minLength: 1, maxLength: 40 }),
        fc.option(fc.string({ unit: regexUnit, maxLength: 40 })),
      )
      .map(([extra, kernel, user]) => ({
        file: "fuzz.pat",
        text: [...extra, "fuzz", kernel, ...(user !== null ? [`userspace pattern=${user}`] : [])].join("\n"),
      })),
  },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...patFiles)
      .chain((p) => mutated([p.text], patUnit).map((text) => ({ file: p.file, text }))),
  },
);

test(
  "random and mutated .pat files: loaded or skipped with file, line and reason",
  { timeout: 120_000 },
  () => {
    assert.ok(patFiles.length > 10);
    let skipped = 0;
    let loaded = 0;
    fc.assert(
      fc.property(patFile, ({ file, text }) => {
        try {
          parsePatternFile(text, file);
        } catch (e) {
          assert.ok(e instanceof PatternFileError, `parsePatternFile threw ${String(e)}`);
          assert.ok(e.line >= 1 && e.reason.length > 0);
        }
        const set = compilePatterns([{ file, text }]);
        assert.equal(set.size + set.skipped.length, 1, "each file is loaded or skipped");
        for (const s of set.skipped) assert.ok(s.reason.length > 0 && s.line >= 0, JSON.stringify(s));
        skipped += set.skipped.length;
        loaded += set.size;
        // a loaded pattern matches payloads without throwing
        for (const subject of ["", "GET / HTTP/1.1\r\n", "\x13BitTorrent protocol", "\xff".repeat(300)])
          set.matchAll(subject, "tcp");
      }),
      { numRuns: 4000 },
    );
    console.log(`# .pat fuzz: ${loaded} loaded, ${skipped} skipped`);
    assert.ok(loaded > 0 && skipped > 0, "the inputs reach both outcomes");
  },
);

function seedCaptures(): Buffer[] {
  const conv = tcpConversation(
    ["10.0.0.2", 40000],
    ["10.0.0.1", 80],
    [
      { dir: "c2s", data: "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n" },
      { dir: "s2c", data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" },
    ],
  );
  const seeds = [pcapFile(conv.map((f) => ethernetFrame(f))), pcapngFile(conv.map((f) => ethernetFrame(f)))];
  // a few real captures from the nDPI corpus when ../shared is there (small ones)
  const corpus = resolve(ROOT, "../shared/corpus/ndpi/pcap");
  if (existsSync(corpus)) {
    for (const f of readdirSync(corpus).sort().slice(0, 200)) {
      const p = join(corpus, f);
      try {
        const b = readFileSync(p);
        if (b.length < 20_000) seeds.push(b);
      } catch {
        /* a directory or unreadable: not a seed */
      }
      if (seeds.length >= 12) break;
    }
  }
  return seeds;
}

test(
  "random and mutated captures: read, or stopped by a CaptureError saying where",
  { timeout: 120_000 },
  () => {
    const seeds = seedCaptures();
    const bytes = fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)) },
      {
        weight: 1,
        // a valid header, then noise
        arbitrary: fc
          .tuple(fc.constantFrom(...seeds.map((s) => s.subarray(0, 32))), fc.uint8Array({ maxLength: 400 }))
          .map(([h, a]) => Buffer.concat([h, a])),
      },
      {
        weight: 4,
        arbitrary: mutated(
          seeds.map((s) => new Uint8Array(s)),
          fc.uint8Array({ minLength: 1, maxLength: 8 }),
        ).map((a) => Buffer.from(a)),
      },
    );
    let errors = 0;
    let flows = 0;
    const dir = mkdtempSync(join(tmpdir(), "sluice-fuzz-"));
    const file = join(dir, "fuzz.pcap");
    fc.assert(
      fc.property(bytes, (buf) => {
        // the reader alone
        try {
          for (const rec of readCaptureBuffer(buf, "fuzz.pcap")) assert.ok(rec.data.length <= 256 * 1024);
        } catch (e) {
          assert.ok(e instanceof CaptureError, `reader threw ${String(e)}`);
          assert.match(e.message, /^fuzz\.pcap: at byte \d+: ./);
        }
        // the whole path the upload takes
        const s = classifyCaptureBuffer("fuzz.pcap", buf, patterns);
        if (s.error) errors++;
        flows += s.flows.length;
        for (const f of s.flows) assert.ok(typeof f.protocol === "string" && f.protocol.length > 0);
        // the file path (`sluice classify`: chunked reads, reused buffers) says the same
        writeFileSync(file, buf);
        const fromFile = classifyCaptureFile(file, patterns);
        assert.deepEqual(fromFile.flows, s.flows);
        assert.equal(fromFile.frames, s.frames);
        assert.equal(fromFile.error?.reason, s.error?.reason);
        assert.equal(fromFile.error?.offset, s.error?.offset);
      }),
      { numRuns: 3000 },
    );
    rmSync(dir, { recursive: true, force: true });
    console.log(`# capture fuzz: ${seeds.length} seeds, ${errors} reported errors, ${flows} flows`);
    assert.ok(errors > 0 && flows > 0, "the inputs reach both outcomes");
  },
);
