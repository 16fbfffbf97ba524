// A cheap test that lets a pattern set skip an unanchored group: every match of such a
// pattern contains a fixed run of ASCII characters (` sip/2.0` in SIP's request line,
// `\x13bittorrent protocol`), so a subject that contains none of its group's runs (ASCII
// case folded, which can only let more subjects through) cannot match, and the group's
// RE2 scan of the whole subject is skipped. Memchr on one byte of the run finds the
// candidates; RE2 still decides.

/** Runs shorter than this are not worth a prefilter (they occur everywhere). */
const MIN_LITERAL = 3;

export interface Literal {
  /** The run, ASCII letters in lower case. */
  bytes: Buffer;
  /** Where in the run the search starts: its first byte that is not a letter, else 0. */
  at: number;
}

/**
 * The longest run of characters every match of `branch` (one top-level alternative of
 * the RE2 text the dialect emits) contains, or null when it has none of `minLength` or
 * more. Reads literals, `\x{hh}` escapes and single-character or case-pair classes at the
 * branch's top level; anything quantified, grouped or zero-width ends a run.
 */
export function requiredLiteral(branch: string, minLength = MIN_LITERAL): Literal | null {
  let best = "";
  let run = "";
  let i = 0;
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  while (i < branch.length) {
    const c = branch[i]!;
    let ch: number | null = null; // the atom's one character (lower case), or null
    if (c === "(") {
      i = skipGroup(branch, i);
    } else if (c === "[") {
      const close = classEnd(branch, i);
      ch = singleFolded(branch.slice(i + 1, close));
      i = close + 1;
    } else if (c === "\\") {
      if (branch[i + 1] === "x" && branch[i + 2] === "{") {
        const close = branch.indexOf("}", i);
        ch = parseInt(branch.slice(i + 3, close), 16);
        i = close + 1;
      } else {
        i += 2; // \b \B \A \z or another escape: not a plain character
      }
    } else if (c === "^" || c === "$" || c === ".") {
      i++;
    } else {
      ch = c.charCodeAt(0);
      i++;
    }
    const q = branch[i];
    const quantified = q === "*" || q === "+" || q === "?" || q === "{";
    if (quantified) i = skipQuantifier(branch, i);
    if (ch === null || quantified || ch >= 0x80 || ch === 0) end();
    else run += String.fromCharCode(ch >= 0x41 && ch <= 0x5a ? ch + 0x20 : ch);
  }
  end();
  if (best.length < Math.max(1, minLength)) return null;
  const bytes = Buffer.from(best, "latin1");
  let at = 0;
  while (at < bytes.length && isLower(bytes[at]!)) at++;
  return { bytes, at: at === bytes.length ? 0 : at };
}

/** True when `hay` contains `lit` (ASCII case folded). */
export function containsLiteral(hay: Buffer, lit: Literal): boolean {
  const { bytes, at } = lit;
  const c = bytes[at]!;
  if (findFrom(hay, bytes, at, c)) return true;
  return isLower(c) && findFrom(hay, bytes, at, c - 0x20);
}

/**
 * Where byte `c` is in `hay` from `from`, or -1. `Buffer.indexOf` is memchr but allocates
 * on every call in code V8 has not escape-analysed (its argument checks; `sluice classify`
 * runs Maglev only: ~20 MB of a x10 run's garbage came from here); `Uint8Array`'s allocates
 * nothing but compares byte by byte, which is as fast over a short subject.
 */
export function indexOfByte(hay: Uint8Array, c: number, from = 0): number {
  return hay.length - from <= SHORT_HAY
    ? u8IndexOf.call(hay, c, from)
    : Buffer.prototype.indexOf.call(hay, c, from);
}
const u8IndexOf = Uint8Array.prototype.indexOf;
/** Up to this many bytes, `Uint8Array.indexOf` (matcher replay: ~10% less time, either tier). */
const SHORT_HAY = 256;

function findFrom(hay: Buffer, lit: Buffer, at: number, c: number): boolean {
  const last = hay.length - lit.length + at;
  for (let i = indexOfByte(hay, c, at); i >= 0 && i <= last; i = indexOfByte(hay, c, i + 1)) {
    const start = i - at;
    let k = 0;
    for (; k < lit.length; k++) {
      const h = hay[start + k]!;
      const l = lit[k]!;
      if (h !== l && !(isLower(l) && h === l - 0x20)) break;
    }
    if (k === lit.length) return true;
  }
  return false;
}

const isLower = (b: number) => b >= 0x61 && b <= 0x7a;

/** The one character (lower case) a class body stands for, when it is one letter in both cases or one character. */
function singleFolded(body: string): number | null {
  if (body.startsWith("^")) return null;
  const chars: number[] = [];
  for (let i = 0; i < body.length;) {
    let c: number;
    if (body[i] === "\\" && body[i + 1] === "x" && body[i + 2] === "{") {
      const close = body.indexOf("}", i);
      c = parseInt(body.slice(i + 3, close), 16);
      i = close + 1;
    } else if (body[i] === "\\") {
      return null;
    } else {
      c = body.charCodeAt(i);
      i++;
    }
    if (body[i] === "-") return null; // a range
    chars.push(c);
  }
  if (chars.length === 1) return chars[0]!;
  if (chars.length === 2) {
    const [a, b] = chars as [number, number];
    const lo = Math.max(a, b);
    if (isLower(lo) && Math.min(a, b) === lo - 0x20) return lo;
  }
  return null;
}

function classEnd(src: string, i: number): number {
  let j = i + 1;
  if (src[j] === "^") j++;
  if (src[j] === "]") j++;
  while (j < src.length && src[j] !== "]")
    j += src[j] === "\\" ? (src[j + 1] === "x" ? src.indexOf("}", j) + 1 - j : 2) : 1;
  return j;
}

function skipGroup(src: string, i: number): number {
  let depth = 0;
  for (let j = i; j < src.length;) {
    const c = src[j]!;
    if (c === "\\") j += src[j + 1] === "x" && src[j + 2] === "{" ? src.indexOf("}", j) + 1 - j : 2;
    else if (c === "[") j = classEnd(src, j) + 1;
    else {
      if (c === "(") depth++;
      else if (c === ")" && --depth === 0) return j + 1;
      j++;
    }
  }
  return src.length;
}

function skipQuantifier(src: string, i: number): number {
  for (;;) {
    const c = src[i];
    if (c === "*" || c === "+" || c === "?") i++;
    else if (c === "{") {
      const close = src.indexOf("}", i);
      if (close < 0) return i + 1;
      i = close + 1;
    } else return i;
  }
}
