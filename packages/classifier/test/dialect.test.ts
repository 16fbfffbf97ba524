import { test } from "node:test";
import assert from "node:assert/strict";
import RE2 from "re2";
import { translateL7Regex, DialectError, stripNul, type DialectOptions } from "../src/index.ts";

const ERE_ICASE: DialectOptions = { extended: true, icase: true, newline: false };

/** Does the l7 pattern match these payload bytes, with l7-filter's data preparation? */
function matches(pattern: string, bytes: Buffer | string, o: DialectOptions = ERE_ICASE): boolean {
  const data = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
  return new RE2(translateL7Regex(pattern, o).source).test(stripNul(data));
}

test("\\xHH escapes are bytes; high bytes match exactly themselves", () => {
  assert.ok(matches("^\\xe0\\xff", Buffer.from([0xe0, 0xff])));
  // 0xC0 is the uppercase of 0xE0 in Latin-1; l7-filter only lowercases ASCII, so no match.
  assert.ok(!matches("^\\xe0", Buffer.from([0xc0])));
  assert.ok(!matches("^\\xc0", Buffer.from([0xe0])));
  // A high byte is one byte, not a two-byte UTF-8 sequence.
  assert.ok(matches("^.\\x41$", Buffer.from([0xc3, 0x41])));
  assert.ok(!matches("^..\\x41$", Buffer.from([0xc3, 0x41])));
  assert.ok(matches("^[\\x80-\\xff]+$", Buffer.from([0x80, 0x9f, 0xff])));
  assert.ok(!matches("^[\\x80-\\xff]+$", Buffer.from([0x80, 0x7f])));
  assert.ok(matches("^[^a]$", Buffer.from([0xfe])));
});

test("NUL bytes are stripped from the data, as l7-filter does", () => {
  assert.ok(matches("^ab$", Buffer.from([0x61, 0x00, 0x00, 0x62])));
  assert.ok(matches("^\\x01\\x02", Buffer.from([0x00, 0x01, 0x00, 0x02])));
  const t = translateL7Regex("^a\\x00b");
  assert.match(t.warnings.join(), /NUL/);
  assert.ok(!matches("^a\\x00b", Buffer.from([0x61, 0x00, 0x62])));
});

test("kernel semantics are case-insensitive for ASCII letters, in literals, escapes and classes", () => {
  assert.ok(matches("^get /", "GET /index"));
  assert.ok(matches("^\\x47et", "get"));
  assert.ok(matches("^[A-C]+$", "abcABC"));
  assert.ok(matches("^[^a]", "B"));
  assert.ok(!matches("^[^a]", "A"));
  assert.ok(!matches("^get", "GET", { extended: true, icase: false, newline: false }));
});

test("POSIX ERE: alternation, groups, intervals, classes, anchors, `.` matches newline", () => {
  assert.ok(matches("^(ab|cd){2}$", "abcd"));
  assert.ok(matches("^x{2,}$", "xxx"));
  assert.ok(!matches("^x{2,3}$", "xxxx"));
  assert.ok(matches("^x{,2}y", "xxy"));
  assert.ok(matches("^[[:digit:]]+[[:space:]][[:alpha:]]", "220 ok"));
  assert.ok(matches("^[]a]+$", "]a]"));
  assert.ok(matches("^[a-]+$", "a-a"));
  assert.ok(matches("a.b", "a\nb"));
  assert.ok(matches("b$", "a\nb"));
  assert.ok(!matches("a$", "a\nb"));
  assert.ok(matches("^[\\x09-\\x0d -~]*ftp", "220 Welcome\r\nFTP"));
});

test("GNU ERE quirks: a leading `*` is literal, stacked quantifiers, literal `{`", () => {
  assert.ok(matches("^*a", "*a"));
  assert.ok(matches("^a**$", "aaa"));
  assert.ok(matches("^a+?$", "aa"));
  assert.ok(matches("^a{b", "a{b"));
  assert.ok(matches("^\\{x\\}", "{x}"));
});

test("REG_NEWLINE: `.` stops at newlines and ^/$ anchor at lines", () => {
  const o = { extended: true, icase: true, newline: true };
  assert.ok(matches("^b", "a\nb", o));
  assert.ok(!matches("a.b", "a\nb", o));
  assert.ok(!matches("a[^x]b", "a\nb", o));
});

test("basic regular expressions (userspace without REG_EXTENDED)", () => {
  const bre = { extended: false, icase: false, newline: false };
  assert.ok(matches("^[lB].\\?\\x0b", Buffer.from("l\x0b", "latin1"), bre));
  assert.ok(matches("^a+b", "a+b", bre)); // + is literal in BRE
  assert.ok(matches("^\\(ab\\)*c$", "ababc", bre));
  assert.ok(matches("^x\\{2\\}$", "xx", bre));
  assert.ok(matches("^a\\|^b", "b", bre));
  assert.ok(matches("a^b", "a^b", bre)); // ^ is literal when not first
});

test("what RE2 cannot express is a DialectError with the column and a reason", () => {
  const cases: [string, RegExp][] = [
    ["^(a)\\1", /backreference/],
    ["\\<word", /word start/],
    ["^(ab", /unmatched \(/],
    ["ab)", /unmatched \)/],
    ["[ab", /unmatched \[/],
    ["x{5,2}", /maximum below minimum/],
    ["x{1001}", /limit of 1000/],
    ["[[:nope:]]", /unknown character class/],
    ["a\\", /trailing backslash/],
    ["[z-a]", /end below start/],
  ];
  for (const [p, re] of cases) {
    assert.throws(
      () => translateL7Regex(p),
      (e: unknown) => e instanceof DialectError && re.test(e.reason),
      p,
    );
  }
  const e = (() => {
    try {
      translateL7Regex("ab(c\\2)");
    } catch (err) {
      return err as DialectError;
    }
    return null;
  })();
  assert.equal(e?.offset, 4);
});
