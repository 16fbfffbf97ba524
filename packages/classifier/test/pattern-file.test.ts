import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePatternFile, PatternFileError, parseConfigFile, ConfigFileError } from "../src/index.ts";

const HTTPISH = `# Foo - a made-up protocol for tests
# Pattern attributes: good veryfast overmatch
# Protocol groups: document_retrieval ietf_draft_standard
# Wiki: http://example.invalid/wiki/Foo
# Copyright (C) 2026 Sluice contributors
# Aliases: foo2 legacyfoo
# Transport: tcp
#
# Usually runs on port 8080. Overmatches on bar.

foo
# a comment between name and pattern
^foo[\\x09-\\x0d -~]*bar
userspace pattern=^FOO .* bar$
userspace flags=REG_NOSUB REG_EXTENDED REG_NEWLINE
`;

test("parses name, kernel and userspace patterns, flags and header metadata", () => {
  const pf = parsePatternFile(HTTPISH, "/p/foo.pat");
  assert.equal(pf.name, "foo");
  assert.deepEqual(pf.kernel, { source: "^foo[\\x09-\\x0d -~]*bar", line: 13 });
  assert.equal(pf.userspace?.source, "^FOO .* bar$");
  assert.deepEqual(pf.userspace?.flags, ["REG_NOSUB", "REG_EXTENDED", "REG_NEWLINE"]);
  assert.equal(pf.meta.title, "Foo - a made-up protocol for tests");
  assert.equal(pf.meta.quality, "good");
  assert.equal(pf.meta.speed, "veryfast");
  assert.equal(pf.meta.overmatch, true);
  assert.equal(pf.meta.undermatch, false);
  assert.deepEqual(pf.meta.groups, ["document_retrieval", "ietf_draft_standard"]);
  assert.equal(pf.meta.wiki, "http://example.invalid/wiki/Foo");
  assert.match(pf.meta.copyright!, /Sluice contributors/);
  assert.deepEqual(pf.meta.aliases, ["foo2", "legacyfoo"]);
  assert.deepEqual(pf.meta.transports, ["tcp"]);
  assert.ok(pf.meta.notes.some((n) => n.includes("port 8080")));
});

test("the older `Pattern quality:` header and the userspace default flags", () => {
  const pf = parsePatternFile("# Pattern quality: great veryfast\nx\n^x\nuserspace pattern=^x\n", "x.pat");
  assert.equal(pf.meta.quality, "great");
  assert.deepEqual(pf.userspace?.flags, ["REG_EXTENDED", "REG_ICASE", "REG_NOSUB"]);
  assert.deepEqual(pf.meta.transports, ["tcp", "udp"]);
});

test("a bad .pat file is a PatternFileError with file, line and reason", () => {
  const cases: [string, string, number, RegExp][] = [
    ["# only comments\n", "a.pat", 2, /no protocol name/],
    ["a\n", "a.pat", 2, /no pattern line/],
    ["b\n^b\n", "a.pat", 1, /must equal the file name "a"/],
    ["a\n^a\nuserspace flags=REG_FOO\nuserspace pattern=a\n", "a.pat", 3, /unknown userspace flag "REG_FOO"/],
    ["a\n^a\n^b\n", "a.pat", 3, /unexpected line/],
    ["a\n^a\nuserspace flags=REG_NOSUB\n", "a.pat", 3, /without a `userspace pattern=`/],
  ];
  for (const [text, file, line, re] of cases) {
    assert.throws(
      () => parsePatternFile(text, file),
      (e: unknown) =>
        e instanceof PatternFileError &&
        e.line === line &&
        re.test(e.reason) &&
        e.message.startsWith(`${file}:${line}:`),
      text,
    );
  }
});

test("l7-filter userspace config: order is priority, marks >= 3", () => {
  const entries = parseConfigFile("# protocol mark\nhttp 3\n\nssh   10 # comment\n");
  assert.deepEqual(entries, [
    { protocol: "http", mark: 3, line: 2 },
    { protocol: "ssh", mark: 10, line: 4 },
  ]);
  assert.throws(
    () => parseConfigFile("http 2\n", "c"),
    (e: unknown) => e instanceof ConfigFileError && /reserved/.test(e.message),
  );
  assert.throws(() => parseConfigFile("http x\n", "c"), /not a number/);
  assert.throws(() => parseConfigFile("http 3\nhttp 4\n", "c"), /already listed on line 1/);
  assert.throws(() => parseConfigFile("http\n", "c"), /expected "protocol mark"/);
});
