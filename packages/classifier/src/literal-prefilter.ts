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
  return requiredLiterals(branch, minLength, false)?.[0] ?? null;
}

/** Alternative runs followed at once (a group of N alternatives multiplies them by N). */
const MAX_RUNS = 8;

/**
 * Like `requiredLiteral`, and with `wide`: characters >= 0x80 join a run (as the subject
 * spells them, in UTF-8), and a group of plain alternatives (`(?:\x{91}j|\x{81}u)`, not
 * quantified) continues the run as one run per alternative, every match containing one of
 * them (h323's `\x08` becomes `\x08\x91j` or `\x08\x81u`). Returns the runs whose
 * shortest is longest, or null when that is shorter than `minLength`.
 */
export function requiredLiterals(branch: string, minLength = MIN_LITERAL, wide = false): Literal[] | null {
  const best = bestRuns(branch, wide);
  if (best.length < Math.max(1, minLength)) return null;
  return best.runs.map((run) => {
    // UTF-8: the subject's spelling of a character >= 0x80 (ASCII runs: their own bytes).
    const bytes = Buffer.from(run, "utf8");
    let at = 0;
    while (at < bytes.length && isLower(bytes[at]!)) at++;
    return { bytes, at: at === bytes.length ? 0 : at };
  });
}

/**
 * The runs of `requiredLiterals` (lower case) and the length of their shortest. Wide: a
 * group that is not plain, not quantified, each of whose alternatives holds runs of its
 * own, offers their union (every match holds one of them: dhcpv6's two orders of
 * `\x08\x02` and its other option).
 */
function bestRuns(branch: string, wide: boolean): { runs: string[]; length: number } {
  let best: string[] = [];
  let bestLength = 0;
  let runs = [""];
  let i = 0;
  const offer = (candidate: string[]) => {
    const shortest = Math.min(...candidate.map((r) => r.length));
    if (shortest > bestLength) {
      best = candidate;
      bestLength = shortest;
    }
  };
  const end = () => {
    offer(runs);
    runs = [""];
  };
  const usable = (ch: number | null): ch is number => ch !== null && ch !== 0 && (wide || ch < 0x80);
  const folded = (ch: number) => String.fromCharCode(ch >= 0x41 && ch <= 0x5a ? ch + 0x20 : ch);
  while (i < branch.length) {
    const c = branch[i]!;
    let ch: number | null = null; // the atom's one character (lower case), or null
    let alternatives: string[] | null = null;
    let group = "";
    if (c === "(") {
      const close = skipGroup(branch, i);
      group = branch.slice(i, close);
      if (wide) alternatives = plainAlternatives(group, usable, folded);
      i = close;
    } else {
      const a = plainAtom(branch, i);
      ch = a.ch;
      i = a.next;
    }
    const q = branch[i];
    const quantified = q === "*" || q === "+" || q === "?" || q === "{";
    if (quantified) i = skipQuantifier(branch, i);
    if (alternatives && !quantified && runs.length * alternatives.length <= MAX_RUNS)
      runs = runs.flatMap((r) => alternatives.map((a) => r + a));
    else {
      if (!usable(ch) || quantified) end();
      else runs = runs.map((r) => r + folded(ch));
      if (wide && group && !quantified) {
        const union = groupRuns(group);
        if (union) offer(union);
      }
    }
  }
  end();
  return { runs: best, length: bestLength };
}

/** The union of the runs of each alternative of a group (wide), or null when one has none. */
function groupRuns(group: string): string[] | null {
  if (!group.startsWith("(?:") && group[1] === "?") return null; // flags: not followed
  const body = group.slice(group.startsWith("(?:") ? 3 : 1, -1);
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const take = (alt: string) => {
    const r = bestRuns(alt, true);
    if (!r.length) return false;
    out.push(...r.runs);
    return true;
  };
  for (let j = 0; j < body.length; j++) {
    const c = body[j]!;
    if (c === "\\") j += body[j + 1] === "x" && body[j + 2] === "{" ? body.indexOf("}", j) - j : 1;
    else if (c === "[") j = classEnd(body, j);
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      if (!take(body.slice(start, j))) return null;
      start = j + 1;
    }
  }
  if (!take(body.slice(start))) return null;
  return out.length <= MAX_RUNS ? out : null;
}

/** The atom at `i` when it is one plain character (lower case), else null; and what follows it. */
function plainAtom(src: string, i: number): { ch: number | null; next: number } {
  const c = src[i]!;
  if (c === "[") {
    const close = classEnd(src, i);
    return { ch: singleFolded(src.slice(i + 1, close)), next: close + 1 };
  }
  if (c === "\\") {
    if (src[i + 1] === "x" && src[i + 2] === "{") {
      const close = src.indexOf("}", i);
      return { ch: parseInt(src.slice(i + 3, close), 16), next: close + 1 };
    }
    return { ch: null, next: i + 2 }; // \b \B \A \z or another escape: not a plain character
  }
  if (c === "^" || c === "$" || c === ".") return { ch: null, next: i + 1 };
  return { ch: c.charCodeAt(0), next: i + 1 };
}

/**
 * The texts of a group whose alternatives are all runs of plain characters (`(?:ab|c)`),
 * or null.
 */
function plainAlternatives(
  group: string,
  usable: (ch: number | null) => ch is number,
  folded: (ch: number) => string,
): string[] | null {
  let i = group.startsWith("(?:") ? 3 : group[1] === "?" ? -1 : 1;
  if (i < 0) return null;
  const out: string[] = [];
  let text = "";
  for (;;) {
    const c = group[i];
    if (c === undefined) return null;
    if (c === "|" || c === ")") {
      if (text === "") return null;
      out.push(text);
      text = "";
      if (c === ")") return i === group.length - 1 ? out : null;
      i++;
      continue;
    }
    if (c === "(") return null;
    const a = plainAtom(group, i);
    const q = group[a.next];
    if (!usable(a.ch) || q === "*" || q === "+" || q === "?" || q === "{") return null;
    text += folded(a.ch);
    i = a.next;
  }
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

/**
 * Which byte values and pairs of adjacent bytes a subject holds, taken in one pass, so that
 * a pattern set's gated groups (a dozen per UDP subject, each with its runs) reject a
 * subject missing one of a run's bytes or pairs without a scan per run: `containsLiteral`
 * scanned the subject once per run (twice for a letter), byte by byte below SHORT_HAY.
 * Only a necessary condition (pairs are hashed: two pairs may share a slot, which only lets
 * more through): a run that passes is still searched for.
 */
export class ByteCensus {
  /** Per byte value, the load it last occurred in (no clearing between subjects). */
  private readonly stamp = new Uint32Array(256);
  /** Per hashed pair of adjacent bytes (see `pairSlot`), the load it last occurred in. */
  private readonly pairs = new Uint32Array(PAIR_SLOTS);
  private gen = 0;

  /** Takes the census of `hay`. */
  load(hay: Uint8Array): void {
    if (++this.gen === 0xffffffff) {
      this.stamp.fill(0);
      this.pairs.fill(0);
      this.gen = 1;
    }
    const s = this.stamp;
    const pairs = this.pairs;
    const g = this.gen;
    let prev = -1;
    for (let i = 0; i < hay.length; i++) {
      const c = hay[i]!;
      s[c] = g;
      if (prev >= 0) pairs[pairSlot(prev, c)] = g;
      prev = c;
    }
  }

  /**
   * False when some byte of the run, or some pair of adjacent bytes of it, is not in the
   * loaded subject (a letter: in either case).
   */
  mayContain(lit: Literal): boolean {
    const s = this.stamp;
    const g = this.gen;
    const b = lit.bytes;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (s[c] !== g && !(isLower(c) && s[c - 0x20] === g)) return false;
    }
    const pairs = this.pairs;
    for (let i = 1; i < b.length; i++) {
      const x = b[i - 1]!;
      const y = b[i]!;
      if (pairs[pairSlot(x, y)] === g) continue;
      const X = isLower(x) ? x - 0x20 : -1;
      const Y = isLower(y) ? y - 0x20 : -1;
      if (X >= 0 && pairs[pairSlot(X, y)] === g) continue;
      if (Y >= 0 && pairs[pairSlot(x, Y)] === g) continue;
      if (X >= 0 && Y >= 0 && pairs[pairSlot(X, Y)] === g) continue;
      return false;
    }
    return true;
  }
}

/** Slots of the pair census: pairs that share one only let more subjects through. */
const PAIR_SLOTS = 4096;
const pairSlot = (a: number, b: number) => ((a << 4) ^ b ^ ((a >>> 4) * 0x9e)) & (PAIR_SLOTS - 1);

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
