// The bytes a match of an anchored pattern can begin with, read off the RE2 source the
// dialect emits (flow/subject.ts: a byte b of the subject is the code point b). A set of
// patterns whose every match must begin with one of a few bytes (the packet patterns:
// natpmp's \x00, memcached's \x80/\x81, DTLS's \x16) need not run on a payload that begins
// with another: one array lookup instead of an RE2 call per datagram.
//
// Conservative: anything this reader does not follow (`.`, an escape
// other than \x{..}, an unanchored branch, a branch that may match nothing) gives null,
// "any byte".

/** 256 flags (1: a match may begin with that byte), or null when any byte may begin one. */
export type FirstBytes = Uint8Array | null;

/** The first bytes of the RE2 source `src` (every top-level branch must start with `^`). */
export function firstBytes(src: string): FirstBytes {
  const out = new Uint8Array(256);
  let i = 0;

  // `\x{HH}` or a plain character at i: its code point, i moved past it; -1 when unknown.
  const char = (): number => {
    const c = src[i];
    if (c === undefined) return -1;
    if (c === "\\") {
      const m = /^\\x\{([0-9a-fA-F]+)\}/.exec(src.slice(i, i + 12));
      if (m) {
        i += m[0].length;
        return parseInt(m[1]!, 16);
      }
      // An escaped punctuation character stands for itself.
      const e = src[i + 1];
      if (e !== undefined && /[^0-9A-Za-z]/.test(e)) {
        i += 2;
        return e.charCodeAt(0);
      }
      return -1;
    }
    if ("()[]|?*+{}.^$".includes(c)) return -1;
    i++;
    return c.charCodeAt(0);
  };

  const mark = (lo: number, hi: number, into: Uint8Array) => {
    for (let b = lo; b <= Math.min(hi, 255); b++) into[b] = 1;
  };

  // One atom at i into `into`; false when not followed.
  const atom = (into: Uint8Array): boolean => {
    const c = src[i];
    if (c === "[") {
      i++;
      // A negated class: the bytes outside it (ftp-data's `[^\x{0}-\x{10ffff}]`: none).
      const negated = src[i] === "^";
      if (negated) i++;
      const listed = negated ? new Uint8Array(256) : into;
      while (i < src.length && src[i] !== "]") {
        const lo = char();
        if (lo < 0) return false;
        let hi = lo;
        if (src[i] === "-" && src[i + 1] !== "]") {
          i++;
          hi = char();
          if (hi < lo) return false;
        }
        mark(lo, hi, listed);
      }
      if (src[i] !== "]") return false;
      i++;
      if (negated) for (let b = 0; b < 256; b++) if (!listed[b]) into[b] = 1;
      return true;
    }
    if (c === "(") {
      if (!src.startsWith("(?:", i)) return false;
      i += 3;
      if (!alternation(into, false)) return false;
      if (src[i] !== ")") return false;
      i++;
      return true;
    }
    const b = char();
    if (b < 0) return false;
    mark(b, b, into);
    return true;
  };

  // The first atom of each branch (anchored: each top-level branch begins with `^`), the
  // rest of the branch skipped; i ends at the `)` or the end that closes the alternation.
  const alternation = (into: Uint8Array, top: boolean): boolean => {
    for (;;) {
      if (top) {
        if (src[i] !== "^") return false;
        i++;
      }
      // An atom that may be absent (`?`, `*`, `{0,n}`) adds its first bytes to those of the
      // atom after it; a branch that may match nothing at all is not followed.
      for (;;) {
        if (src[i] === "|" || src[i] === ")" || i >= src.length) return false;
        if (!atom(into)) return false;
        const q = src[i];
        if (q === "?" || q === "*") i++;
        else if (q === "{" && /^\{0[,}]/.test(src.slice(i, i + 3))) i = src.indexOf("}", i) + 1;
        else break;
        if (src[i] === "?") i++; // lazy
      }
      if (!skipRest()) return false;
      if (src[i] === "|") {
        i++;
        continue;
      }
      return true;
    }
  };

  // Skips to the `|` or `)` that ends the current branch (nested groups and classes whole).
  const skipRest = (): boolean => {
    let depth = 0;
    while (i < src.length) {
      const c = src[i]!;
      if (c === "\\") i += 2;
      else if (c === "[") {
        i++;
        if (src[i] === "]") i++;
        while (i < src.length && src[i] !== "]") i += src[i] === "\\" ? 2 : 1;
        i++;
      } else if (c === "(") {
        depth++;
        i++;
      } else if (c === ")") {
        if (depth === 0) return true;
        depth--;
        i++;
      } else if (c === "|" && depth === 0) return true;
      else i++;
    }
    return depth === 0;
  };

  if (!alternation(out, true) || i !== src.length) return null;
  return out;
}

/** The union of several patterns' first bytes (null when any of them is null). */
export function unionFirstBytes(all: FirstBytes[]): FirstBytes {
  const out = new Uint8Array(256);
  for (const f of all) {
    if (f === null) return null;
    for (let b = 0; b < 256; b++) if (f[b]) out[b] = 1;
  }
  return out;
}

/**
 * A window gate: one of the subject's first `window` characters is one of `chars`. Read
 * off anchored sources whose every branch begins with a few optional characters, then a
 * required one (openvpn's `^.?.?[8Pp]`): most subjects have none of those characters in
 * those places, and such a pattern (long runs after its gate) need not run on them.
 */
export interface WindowGate {
  window: number;
  chars: Uint8Array;
}

/** Optional characters a window gate looks past, at most. */
const MAX_WINDOW = 4;

/** One atom standing for one character: a class, a `\x{..}` escape or a plain character. */
const ONE_CHAR = /^(?:\[(?:[^\]\\]|\\x\{[0-9a-fA-F]+\}|\\.)*\]|\\x\{[0-9a-fA-F]+\}|[^\\()[\]|?*+{}.^$])/;

/**
 * The window gate of an RE2 source given as its top-level alternatives (the dialect
 * translation's `branches`; every one must begin with `^`), or null.
 */
export function windowGate(branches: readonly string[]): WindowGate | null {
  const chars = new Uint8Array(256);
  let window = 0;
  for (const branch of branches) {
    if (!branch.startsWith("^")) return null;
    let rest = branch.slice(1);
    let optional = 0;
    for (;;) {
      const m = ONE_CHAR.exec(rest);
      if (!m) return null; // `.`, a group, a zero-width assertion: not followed
      const after = rest.slice(m[0].length);
      if (after.startsWith("?")) {
        if (++optional >= MAX_WINDOW) return null;
        rest = after.slice(after.startsWith("??") ? 2 : 1);
        continue;
      }
      const first = firstBytes(`^${m[0]}`);
      if (!first) return null;
      for (let b = 0; b < 256; b++) if (first[b]) chars[b] = 1;
      window = Math.max(window, optional + 1);
      break;
    }
  }
  return window ? { window, chars } : null;
}

/** Whether one of the first `window` characters of a subject (its UTF-8 form) is in the gate. */
export function passesWindow(subject: Uint8Array, gate: WindowGate): boolean {
  let p = 0;
  for (let k = 0; k < gate.window && p < subject.length; k++) {
    const b = subject[p]!;
    const c = b < 0x80 || p + 1 >= subject.length ? b : ((b & 0x1f) << 6) | (subject[p + 1]! & 0x3f);
    if (c < 256 && gate.chars[c]) return true;
    p += b < 0x80 ? 1 : 2;
  }
  return false;
}
