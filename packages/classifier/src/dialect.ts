// Translates the l7-filter regex dialect (POSIX ERE or BRE with GNU extensions, plus
// l7-filter's `\xHH` byte escapes) into RE2 syntax over a latin1-mapped subject string.
//
// The subject is the flow's payload with NUL bytes stripped (as l7-filter does: its regex
// library works on C strings), each byte mapped to the code point of the same value. Every
// literal, class and `.` is emitted as an explicit set of those code points, so bytes >= 0x80
// match exactly themselves and case-insensitivity folds ASCII letters only, as l7-filter's
// tolower() on the data did.

import { ByteSet, re2Byte, re2Class } from "./byte-set.ts";

export interface DialectOptions {
  /** POSIX extended syntax (REG_EXTENDED); otherwise basic syntax with GNU `\+ \? \|`. */
  extended: boolean;
  /** Case-insensitive for ASCII letters (the kernel version always is; REG_ICASE). */
  icase: boolean;
  /** REG_NEWLINE: `.` and `[^...]` do not match newline; `^`/`$` match at line breaks. */
  newline: boolean;
  /** The subject keeps its NUL bytes (a `# Subject: packet` pattern): `\x00` matches one. */
  keepNul?: boolean;
}

export const KERNEL_DIALECT: DialectOptions = { extended: true, icase: true, newline: false };

export interface Translation {
  /** RE2 source text. */
  source: string;
  /** Things that load but behave in a way the author may not expect. */
  warnings: string[];
  /** Every top-level branch starts with `^`: the pattern can only match at the buffer start. */
  anchored: boolean;
  /**
   * The source's top-level alternatives (their `|` is the source's); one entry, the whole
   * source, when a flag group wraps it (REG_NEWLINE).
   */
  branches: string[];
}

export class DialectError extends Error {
  /** 0-based offset in the pattern text. */
  readonly offset: number;
  readonly reason: string;
  constructor(offset: number, reason: string) {
    super(`at column ${offset + 1}: ${reason}`);
    this.name = "DialectError";
    this.offset = offset;
    this.reason = reason;
  }
}

const RE2_MAX_REPEAT = 1000;

const POSIX_CLASSES: Record<string, () => ByteSet> = {
  alpha: () => ByteSet.range(0x41, 0x5a).addRange(0x61, 0x7a),
  digit: () => ByteSet.range(0x30, 0x39),
  alnum: () => ByteSet.range(0x30, 0x39).addRange(0x41, 0x5a).addRange(0x61, 0x7a),
  upper: () => ByteSet.range(0x41, 0x5a),
  lower: () => ByteSet.range(0x61, 0x7a),
  space: () => ByteSet.range(0x09, 0x0d).add(0x20),
  blank: () => ByteSet.of(0x09, 0x20),
  punct: () => ByteSet.range(0x21, 0x2f).addRange(0x3a, 0x40).addRange(0x5b, 0x60).addRange(0x7b, 0x7e),
  print: () => ByteSet.range(0x20, 0x7e),
  graph: () => ByteSet.range(0x21, 0x7e),
  cntrl: () => ByteSet.range(0x00, 0x1f).add(0x7f),
  xdigit: () => ByteSet.range(0x30, 0x39).addRange(0x41, 0x46).addRange(0x61, 0x66),
};

const WORD = (): ByteSet => POSIX_CLASSES.alnum!().add(0x5f);
const SPACE = (): ByteSet => POSIX_CLASSES.space!();

/** Translates one l7 pattern. Throws DialectError for what RE2 cannot express. */
export function translateL7Regex(pattern: string, options: DialectOptions = KERNEL_DIALECT): Translation {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.charCodeAt(i) > 0xff)
      throw new DialectError(i, "character outside the byte range (read .pat files as latin1)");
  }
  const p = new Parser(pattern, options);
  const body = p.parseAlternation(0);
  if (p.pos < pattern.length) throw new DialectError(p.pos, "unmatched )");
  const flags = options.newline ? "m" : "";
  // The emitter writes `^` only for the anchor (a literal caret is \x{5e}).
  const anchored = !options.newline && p.topBranches.every((b) => b.startsWith("^"));
  const source = flags ? `(?${flags}:${body})` : body;
  return { source, warnings: p.warnings, anchored, branches: flags ? [source] : p.topBranches };
}

class Parser {
  pos = 0;
  readonly warnings: string[] = [];
  topBranches: string[] = [];
  private sawNul = false;
  private readonly src: string;
  private readonly o: DialectOptions;

  constructor(src: string, options: DialectOptions) {
    this.src = src;
    this.o = options;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private atGroupClose(): boolean {
    return this.o.extended ? this.peek() === ")" : this.peek() === "\\" && this.peek(1) === ")";
  }

  private atAlternation(): boolean {
    return this.o.extended ? this.peek() === "|" : this.peek() === "\\" && this.peek(1) === "|";
  }

  parseAlternation(depth: number): string {
    const branches = [this.parseBranch(depth)];
    while (this.atAlternation()) {
      this.pos += this.o.extended ? 1 : 2;
      branches.push(this.parseBranch(depth));
    }
    if (depth === 0) this.topBranches = branches;
    return branches.join("|");
  }

  private parseBranch(depth: number): string {
    let out = "";
    const branchStart = this.pos;
    while (this.pos < this.src.length && !this.atAlternation()) {
      if (this.atGroupClose()) {
        if (depth > 0) break;
        if (this.o.extended) throw new DialectError(this.pos, "unmatched )");
        throw new DialectError(this.pos, "unmatched \\)");
      }
      const atomStart = this.pos;
      let atom = this.parseAtom(depth, this.pos === branchStart);
      if (atom === null) continue;
      // Quantifiers; stacked ones (ERE allows `a**`, RE2 does not) wrap the piece first.
      let quantified = false;
      for (;;) {
        const q = this.parseQuantifier();
        if (q === null) break;
        if (quantified) atom = `(?:${atom})`;
        atom += q;
        quantified = true;
      }
      if (atom === "" && this.pos === atomStart) throw new DialectError(this.pos, "internal: no progress");
      out += atom;
    }
    return out;
  }

  /** Returns RE2 text for one atom, or null when the input held nothing to emit. */
  private parseAtom(depth: number, atBranchStart: boolean): string | null {
    const c = this.peek()!;
    const start = this.pos;
    if (this.o.extended) {
      if (c === "(") {
        this.pos++;
        const inner = this.parseAlternation(depth + 1);
        if (this.peek() !== ")") throw new DialectError(start, "unmatched (");
        this.pos++;
        return `(?:${inner})`;
      }
      if (c === "*" || c === "+" || c === "?") {
        if (atBranchStart) {
          // GNU ERE takes a leading repetition operator literally.
          this.pos++;
          return this.literal(c.charCodeAt(0));
        }
      }
      if (c === "{" && atBranchStart) {
        this.pos++;
        return this.literal(0x7b);
      }
    } else {
      if (c === "\\" && this.peek(1) === "(") {
        this.pos += 2;
        const inner = this.parseAlternation(depth + 1);
        if (!(this.peek() === "\\" && this.peek(1) === ")")) throw new DialectError(start, "unmatched \\(");
        this.pos += 2;
        return `(?:${inner})`;
      }
      if (c === "*" && atBranchStart) {
        this.pos++;
        return this.literal(0x2a);
      }
      if (c === "^" && !atBranchStart) {
        this.pos++;
        return this.literal(0x5e); // BRE: ^ is an anchor only at the start
      }
      if (c === "$" && !this.atBreEnd(this.pos + 1)) {
        this.pos++;
        return this.literal(0x24);
      }
    }
    switch (c) {
      case "^":
        this.pos++;
        return "^";
      case "$":
        this.pos++;
        return "$";
      case ".": {
        this.pos++;
        const any = ByteSet.range(this.o.keepNul ? 0x00 : 0x01, 0xff);
        if (this.o.newline) any.delete(0x0a);
        return re2Class(any);
      }
      case "[":
        return this.parseBracket();
      case "\\":
        return this.parseEscape();
      default:
        this.pos++;
        return this.literal(c.charCodeAt(0));
    }
  }

  private atBreEnd(at: number): boolean {
    const rest = this.src.slice(at);
    return rest === "" || rest.startsWith("\\)") || rest.startsWith("\\|");
  }

  private parseQuantifier(): string | null {
    const c = this.peek();
    if (this.o.extended) {
      if (c === "*" || c === "+" || c === "?") {
        this.pos++;
        return c;
      }
      if (c === "{") return this.parseInterval(1, "}");
      return null;
    }
    if (c === "*") {
      this.pos++;
      return "*";
    }
    if (c === "\\") {
      const n = this.peek(1);
      if (n === "+" || n === "?") {
        this.pos += 2;
        return n;
      }
      if (n === "{") return this.parseInterval(2, "\\}");
    }
    return null;
  }

  /** `{n}`, `{n,}`, `{n,m}`, `{,m}`; an ERE `{` that does not start an interval is literal. */
  private parseInterval(openLen: number, close: string): string | null {
    const start = this.pos;
    const m = /^(\d*)(,(\d*))?/.exec(this.src.slice(start + openLen));
    const text = m![0];
    const after = start + openLen + text.length;
    const valid = this.src.startsWith(close, after) && (m![1] !== "" || m![2] !== undefined);
    if (!valid) {
      if (!this.o.extended) throw new DialectError(start, "invalid \\{ interval");
      return null; // caller emits `{` as a literal atom next
    }
    const lo = m![1] === "" ? 0 : Number(m![1]);
    const hi = m![2] === undefined ? lo : m![3] === "" ? Infinity : Number(m![3]);
    if (hi < lo) throw new DialectError(start, `invalid interval {${text}}: maximum below minimum`);
    if (lo > RE2_MAX_REPEAT || (hi !== Infinity && hi > RE2_MAX_REPEAT)) {
      throw new DialectError(start, `repetition count above RE2's limit of ${RE2_MAX_REPEAT}`);
    }
    this.pos = after + close.length;
    if (hi === Infinity) return `{${lo},}`;
    return lo === hi ? `{${lo}}` : `{${lo},${hi}}`;
  }

  private parseEscape(): string {
    const start = this.pos;
    const n = this.peek(1);
    if (n === undefined) throw new DialectError(start, "trailing backslash");
    const hex = this.hexEscapeAt(start);
    if (hex !== null) {
      this.pos += hex.length;
      return this.literal(hex.value);
    }
    this.pos += 2;
    switch (n) {
      case "w":
        return this.set(WORD());
      case "W":
        return this.set(WORD().complement(), true);
      case "s":
        return this.set(SPACE());
      case "S":
        return this.set(SPACE().complement(), true);
      case "d":
        return this.set(POSIX_CLASSES.digit!());
      case "D":
        return this.set(POSIX_CLASSES.digit!().complement(), true);
      case "b":
        return "\\b";
      case "B":
        return "\\B";
      case "`":
        return "\\A";
      case "'":
        return "\\z";
      case "n":
        return this.literal(0x0a);
      case "t":
        return this.literal(0x09);
      case "r":
        return this.literal(0x0d);
      case "<":
      case ">":
        throw new DialectError(
          start,
          `GNU word ${n === "<" ? "start" : "end"} anchor \\${n} is not supported by RE2`,
        );
    }
    if (/[1-9]/.test(n)) throw new DialectError(start, `backreference \\${n} is not supported by RE2`);
    if (!this.o.extended && (n === "{" || n === "}")) throw new DialectError(start, `unexpected \\${n}`);
    return this.literal(n.charCodeAt(0));
  }

  /** l7-filter's `\xHH` escape (one or two hex digits), read at `at` (the backslash). */
  private hexEscapeAt(at: number): { value: number; length: number } | null {
    if (this.src[at + 1] !== "x") return null;
    const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(at + 2, at + 4));
    if (!m) return null;
    return { value: parseInt(m[0], 16), length: 2 + m[0].length };
  }

  private parseBracket(): string {
    const start = this.pos;
    this.pos++; // [
    let negate = false;
    if (this.peek() === "^") {
      negate = true;
      this.pos++;
    }
    const set = new ByteSet();
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new DialectError(start, "unmatched [");
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === "[" && (this.peek(1) === ":" || this.peek(1) === "=" || this.peek(1) === ".")) {
        const kind = this.peek(1)!;
        const end = this.src.indexOf(`${kind}]`, this.pos + 2);
        if (end < 0) throw new DialectError(this.pos, `unterminated [${kind}`);
        const name = this.src.slice(this.pos + 2, end);
        this.pos = end + 2;
        if (kind === ":") {
          const cls = POSIX_CLASSES[name];
          if (!cls) throw new DialectError(this.pos, `unknown character class [:${name}:]`);
          set.addSet(cls());
        } else {
          if (name.length !== 1)
            throw new DialectError(this.pos, `multi-character collating element [${kind}${name}${kind}]`);
          set.add(name.charCodeAt(0));
        }
        continue;
      }
      const lo = this.bracketChar();
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.bracketChar();
        if (hi < lo) throw new DialectError(start, `invalid range: end below start in bracket expression`);
        set.addRange(lo, hi);
      } else {
        set.add(lo);
      }
    }
    if (this.o.icase) set.foldAsciiCase();
    if (negate) {
      const out = set.complement();
      if (this.o.newline) out.delete(0x0a);
      return this.set(out, true);
    }
    return this.set(set);
  }

  /**
   * One member of a bracket expression. `\xHH` is l7-filter's byte escape (converted before
   * the regex library saw the pattern); other backslashes escape the next character, which
   * is what pattern authors mean by `[\]]` or `[\-]`.
   */
  private bracketChar(): number {
    const c = this.peek()!;
    if (c === "\\") {
      const hex = this.hexEscapeAt(this.pos);
      if (hex) {
        this.pos += hex.length;
        return hex.value;
      }
      const n = this.peek(1);
      if (n === undefined) throw new DialectError(this.pos, "trailing backslash in bracket expression");
      this.pos += 2;
      if (n === "n") return 0x0a;
      if (n === "t") return 0x09;
      if (n === "r") return 0x0d;
      return n.charCodeAt(0);
    }
    this.pos++;
    return c.charCodeAt(0);
  }

  private literal(b: number): string {
    if (b === 0) return this.o.keepNul ? re2Byte(0) : this.set(new ByteSet());
    if (this.o.icase && ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a))) {
      return re2Class(ByteSet.of(b).foldAsciiCase());
    }
    return re2Byte(b);
  }

  /** Emits a set; NUL is dropped because the subject never holds NUL (l7-filter strips it). */
  private set(s: ByteSet, negated = false): string {
    if (this.o.keepNul) return re2Class(s);
    if (s.has(0)) {
      s.delete(0);
      if (!negated && !this.sawNul) {
        this.sawNul = true;
        this.warnings.push(
          "matches a NUL byte, but l7-filter strips NULs from the data: that part can never match",
        );
      }
    } else if (!negated && s.size === 0 && !this.sawNul) {
      this.sawNul = true;
      this.warnings.push(
        "matches a NUL byte, but l7-filter strips NULs from the data: that part can never match",
      );
    }
    return re2Class(s);
  }
}
