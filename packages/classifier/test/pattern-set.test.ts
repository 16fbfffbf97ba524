import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  classifyPayloads,
  compilePatterns,
  loadPatternDirs,
  maxMatchLength,
  parseConfigFile,
  stripNul,
} from "../src/index.ts";

const CLASSIC = fileURLToPath(new URL("../../../../shared/l7-protocols/protocols", import.meta.url));

test("bad files and untranslatable patterns are skipped with file, line and reason; the rest load", () => {
  const set = compilePatterns([
    { file: "good.pat", text: "good\n^good\n" },
    { file: "backref.pat", text: "# a comment\nbackref\n^(a)\\1\n" },
    { file: "broken.pat", text: "# nothing but comments\n" },
    { file: "mismatch.pat", text: "other\n^x\n" },
    { file: "dup/good.pat", text: "good\n^again\n" },
  ]);
  assert.equal(set.size, 1);
  const reasons = set.skipped.map((s) => `${s.file}:${s.line} ${s.reason}`);
  assert.ok(
    reasons.some((r) => /^backref\.pat:3 kernel pattern at column 5: backreference \\1/.test(r)),
    reasons.join("\n"),
  );
  assert.ok(reasons.some((r) => /^broken\.pat:\d+ no protocol name/.test(r)));
  assert.ok(reasons.some((r) => /^mismatch\.pat:1 .*must equal the file name/.test(r)));
  assert.ok(reasons.some((r) => /^dup\/good\.pat:2 duplicate of good\.pat/.test(r)));
  assert.match(set.report(), /1 patterns loaded, 4 skipped/);
});

test("priority comes from the config order; marks from the config, assigned >= 3 otherwise", () => {
  const sources = [
    { file: "a.pat", text: "a\nfoo\n" },
    { file: "b.pat", text: "b\nfoo\n" },
    { file: "c.pat", text: "c\nbar\n" },
  ];
  const alpha = compilePatterns(sources);
  assert.equal(alpha.match("foo", "tcp")!.name, "a");
  assert.deepEqual(
    alpha.patterns.map((p) => p.mark),
    [3, 4, 5],
  );
  const conf = { entries: parseConfigFile("b 7\nmissing 9\na 3\n"), file: "l7.conf" };
  const ordered = compilePatterns(sources, { config: conf });
  assert.equal(ordered.match("foo", "tcp")!.name, "b");
  assert.equal(ordered.get("b")!.mark, 7);
  assert.equal(ordered.get("c")!.mark, 4); // 3 is taken by a
  assert.ok(ordered.skipped.some((s) => s.name === "missing" && /no pattern file/.test(s.reason)));
  assert.deepEqual(
    ordered.matchAll("foo bar").map((p) => p.name),
    ["b", "a", "c"],
  );
  const only = compilePatterns(sources, { config: conf, onlyListed: true });
  assert.deepEqual(
    only.patterns.map((p) => p.name),
    ["b", "a"],
  );
});

test("the best priority wins across sets; lead-run patterns run behind their required runs", () => {
  // 30 patterns: more than one RE2 set. "along" (priority 0) begins with a long run of any
  // byte: a set of its own that needs a \x08 in the subject; "bshort" (priority 1) with a
  // short one: a set of its own that needs "zzq".
  const sources = [
    { file: "along.pat", text: "along\n^.{0,100}\\x08k\n" },
    { file: "bshort.pat", text: "bshort\n^.{0,6}zzq[a-z]+!\n" },
  ];
  for (let i = 0; i < 30; i++) {
    const n = `p${String(i).padStart(2, "0")}`;
    sources.push({ file: `${n}.pat`, text: `${n}\n^common${i % 2 ? "|^odd" : ""}\n` });
  }
  const set = compilePatterns(sources);
  const cases: [string, string | null][] = [
    ["common", "p00"],
    ["odd", "p01"],
    ["common\x08k", "along"],
    ["zz\x08k", "along"],
    [`common${"y".repeat(120)}\x08k`, "p00"], // past along's reach
    ["zz\x08j", null],
    ["commonzzqab!", "bshort"], // beats p00's hit in another set
    ["zzqab!", "bshort"],
    ["commonxzzqab!", "p00"], // zzq past the lead run
    ["xxzzqab", null],
  ];
  for (const [subject, want] of cases) {
    assert.equal(set.match(subject, "tcp")?.name ?? null, want, JSON.stringify(subject));
    assert.equal(set.matchSequential(subject, "tcp")?.name ?? null, want, JSON.stringify(subject));
  }
});

test("RE2.Set and the sequential loop agree; transports restrict a pattern", () => {
  const set = compilePatterns([
    { file: "t.pat", text: "# Transport: tcp\nt\n^x\n" },
    { file: "u.pat", text: "# Transport: udp\nu\n^x\n" },
  ]);
  assert.equal(set.match("x", "tcp")!.name, "t");
  assert.equal(set.match("x", "udp")!.name, "u");
  assert.equal(set.matchSequential("x", "udp")!.name, "u");
});

test("userspace pattern lines are used when present, with their flags", () => {
  const text = "x11\n^[lb].?\\x0b\nuserspace pattern=^[lB].\\?\\x0b\nuserspace flags=REG_NOSUB\n";
  const set = compilePatterns([{ file: "x11.pat", text }]);
  const p = set.get("x11")!;
  assert.equal(p.origin, "userspace");
  assert.ok(set.match(stripNul(Buffer.from("B\x00\x0b")), "tcp"));
  assert.equal(set.match("b\x0b", "tcp"), null); // case-sensitive: no REG_ICASE
  const kernel = compilePatterns([{ file: "x11.pat", text }], { preferUserspace: false });
  assert.equal(kernel.get("x11")!.origin, "kernel");
  assert.ok(kernel.match("b\x0b", "tcp"));
});

test(
  "the classic l7-filter set loads from ../shared",
  { skip: existsSync(CLASSIC) ? false : "../shared/l7-protocols not present" },
  () => {
    const set = loadPatternDirs([CLASSIC]);
    // Every file in the classic set parses; the report explains anything skipped.
    assert.equal(set.size + set.skipped.length, 115, set.report());
    assert.ok(set.size >= 110, set.report());
    const http = set.get("http")!;
    assert.equal(http.meta.quality, "great");
    assert.ok(http.meta.groups.includes("document_retrieval"));
    assert.equal(set.get("smtp")!.origin, "userspace");
    // unknown.pat and unset.pat name l7-filter's verdicts: skipped, with the reason.
    assert.deepEqual(set.skipped.map((s) => s.name).sort(), ["unknown", "unset"]);
    assert.match(set.skipped[0]!.reason, /reserved verdict name/);
    console.log(set.report().split("\n")[0]);
  },
);

test("maxMatchLength bounds what an anchored pattern can match; `seen` skips only what cannot match", () => {
  assert.equal(maxMatchLength("^a{2,5}(?:b|cd)?[\\x{01}-\\x{ff}]*"), Infinity);
  assert.equal(maxMatchLength("^(?:ab|c){3}\\x{00}$"), 7);
  assert.equal(maxMatchLength("^x?\\by+"), Infinity);
  assert.equal(maxMatchLength("(?m:^[\\x{5d}-\\x{5e}]{0,4}z)"), 5);
  const s = compilePatterns([
    { file: "short.pat", text: "short\n^ab\n" },
    { file: "late.pat", text: "late\n^.{0,6}xyz\n" },
  ]);
  assert.equal(s.get("short")!.maxLength, 2);
  assert.equal(s.get("late")!.maxLength, 9);
  // A flow's subject grows: what matched before the skip still matches without it.
  assert.equal(s.match("abq", "tcp", 0)?.name, "short");
  assert.equal(s.match("qqqqxyz", "tcp", 3)?.name, "late");
  // Nine bytes seen without a hit: neither can match any longer subject.
  assert.equal(s.match("qqqqqqqqqxyz", "tcp", 9), null);
  assert.equal(s.match("qqqqqqqqqxyz", "tcp", 0), null);
  // The bound is per first character: past two bytes only "long" can match, and only a
  // subject beginning with a.
  const f = compilePatterns([
    { file: "long.pat", text: "long\n^a[0-9]{0,50}z\n" },
    { file: "two.pat", text: "two\n^bq\n" },
  ]);
  assert.equal(f.match("a123456789z", "tcp", 8)?.name, "long");
  assert.equal(f.match("bq", "tcp", 0)?.name, "two");
  // Told its first 8 bytes were seen (they would match "two"): for a b, nothing is run.
  assert.equal(f.match("bq123456789z", "tcp", 8)?.name ?? null, null);
});

test("a set that predicts a hit from the first character (one RE2 call) still gives the best match, or none", () => {
  const s = compilePatterns([
    { file: "a.pat", text: "a\n^x1z\n" },
    { file: "b.pat", text: "b\n^x[0-9]\n" },
    { file: "c.pat", text: "c\n^y\n" },
  ]);
  // Forty subjects beginning with x, all hits: subjects beginning with x now go to
  // `match` at once.
  for (let i = 0; i < 40; i++) assert.equal(s.match(`x${i}`, "tcp")?.name, "b");
  assert.equal(s.match("x1z", "tcp")?.name, "a"); // both hit: the better priority
  assert.equal(s.match("x7", "tcp")?.name, "b");
  assert.equal(s.match("xq", "tcp"), null); // predicted, and a miss
  assert.equal(s.match("y", "tcp")?.name, "c");
  assert.equal(s.match("zx", "tcp"), null);
  // Subjects beginning with y: never seen often, `test` first; a miss is a miss either way.
  assert.equal(s.match("ya", "tcp")?.name, "c");
  assert.equal(s.match("\u00e9x", "tcp"), null);
});

test("packet patterns read one packet's payload with its NULs: every UDP datagram, each TCP direction's first", () => {
  const set = compilePatterns([
    { file: "zeros.pat", text: "# Subject: packet\n# Transport: udp tcp\nzeros\n^\\x00\\x00$\n" },
    {
      file: "bin.pat",
      text: "bin\n^hello\npacket pattern=^\\x80\\x00[\\x00-\\xff]\\x00\n",
    },
    { file: "text.pat", text: "text\n^abc\n" },
  ]);
  assert.deepEqual(set.skipped, []);
  const zeros = set.get("zeros")!;
  assert.equal(zeros.meta.subject, "packet");
  assert.equal(zeros.packetRe2, zeros.re2);
  assert.equal(set.get("bin")!.meta.subject, "flow");
  assert.ok(set.get("bin")!.packetRe2);
  // Not part of the flow's NUL-stripped subject matching.
  assert.equal(set.match(Buffer.from([0, 0]), "udp"), null);
  assert.equal(set.matchPacket(Buffer.from([0, 0]), "udp")?.name, "zeros");
  assert.equal(set.matchPacket(Buffer.from([0, 0, 0]), "udp"), null);
  assert.equal(set.matchPacket(Buffer.from([0x80, 0, 0xfe, 0]), "tcp")?.name, "bin");
  assert.equal(set.matchPacket(Buffer.from([0x80, 1, 0xfe, 0]), "tcp"), null);
  // Only a bounded head of a long payload is read: `$` still sees where the payload ends.
  const long = Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(1500, 0xe9)]);
  assert.equal(set.matchPacket(long, "udp"), null);
  assert.equal(set.matchPacket(long.subarray(0, 3), "udp"), null);
  assert.equal(set.matchPacket(Buffer.concat([Buffer.from([0x80, 0, 0xfe, 0]), long]), "tcp")?.name, "bin");
  const edge = compilePatterns([
    { file: "w.pat", text: "# Subject: packet\nw\n^\\x01ab\\b\n" },
    { file: "e.pat", text: "# Subject: packet\ne\n^\\x02a[\\x80-\\xff]{2}$\n" },
  ]);
  assert.equal(edge.matchPacket(Buffer.from("\x01ab c", "latin1"), "udp")?.name, "w");
  assert.equal(
    edge.matchPacket(Buffer.from("\x01abc", "latin1"), "udp"),
    null,
    "\\b looks one past the match",
  );
  assert.equal(edge.matchPacket(Buffer.from("\x02a\xe9\xe9", "latin1"), "udp")?.name, "e");
  assert.equal(edge.matchPacket(Buffer.from("\x02a\xe9\xe9\xe9", "latin1"), "udp"), null);
  // Through the flow table: a datagram of two NULs decides at once; the text form still works.
  const one = (l4: "udp" | "tcp", ...payloads: Buffer[]) =>
    classifyPayloads(
      set,
      l4,
      payloads.map((payload) => ({ dir: "c2s" as const, payload })),
    ).protocol;
  assert.equal(one("udp", Buffer.from([0, 0])), "zeros");
  assert.equal(one("udp", Buffer.from("x"), Buffer.from([0, 0])), "zeros", "any datagram");
  assert.equal(one("tcp", Buffer.from("hello")), "bin");
  assert.equal(one("tcp", Buffer.from([0x80, 0, 7, 0, 1])), "bin");
  // `# Packet transport:` limits the packet pattern, not the text one.
  const tcpOnly = compilePatterns([
    { file: "b.pat", text: "# Packet transport: tcp\nb\n^hello\npacket pattern=^\\x80\\x00\n" },
  ]);
  assert.equal(tcpOnly.matchPacket(Buffer.from([0x80, 0]), "tcp")?.name, "b");
  assert.equal(tcpOnly.matchPacket(Buffer.from([0x80, 0]), "udp"), null);
  assert.equal(tcpOnly.match("hello", "udp")?.name, "b");
  // TCP: only a direction's first payload is a message boundary.
  assert.notEqual(one("tcp", Buffer.from("x"), Buffer.from([0x80, 0, 7, 0])), "bin");
});
