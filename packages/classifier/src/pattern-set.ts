// Loads `.pat` files into a compiled pattern set: each pattern translated to RE2, all of
// them matched in one pass with RE2.Set, the winner chosen by priority (config order).

import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { isAscii } from "node:buffer";
import { join, basename } from "node:path";
import RE2 from "re2";
import {
  parsePatternFile,
  PatternFileError,
  type PatternFile,
  type PatternMetadata,
} from "./pattern-file.ts";
import { parseConfigFile, FIRST_PROTOCOL_MARK, type ConfigEntry } from "./config-file.ts";
import { translateL7Regex, DialectError, KERNEL_DIALECT, type DialectOptions } from "./dialect.ts";
import { ByteCensus, containsLiteral, requiredLiterals, type Literal } from "./literal-prefilter.ts";
import {
  firstBytes,
  passesWindow,
  unionFirstBytes,
  windowGate,
  type FirstBytes,
  type WindowGate,
} from "./first-bytes.ts";

export type Transport = "tcp" | "udp";

export interface LoadedPattern {
  name: string;
  file: string;
  /** 0 is the highest priority. */
  priority: number;
  /** Netfilter mark from the config file, or an assigned one (>= 3). */
  mark: number;
  /** Which line of the file was compiled. */
  origin: "kernel" | "userspace";
  line: number;
  /** The pattern as written in the file. */
  l7: string;
  /** The translated RE2 source. */
  re2: string;
  /**
   * What `# Subject: packet` matching runs (one packet's payload, NULs kept): the pattern
   * itself for such a pattern, else its `packet pattern=` line, else null.
   */
  packetRe2: string | null;
  regex: RE2;
  /** Can only match at the start of the flow's data (every branch begins with `^`). */
  anchored: boolean;
  /** The RE2 source's top-level alternatives (see Translation.branches). */
  branches: string[];
  /** The longest text the pattern can match, in bytes (Infinity: unbounded). */
  maxLength: number;
  transports: Transport[];
  meta: PatternMetadata;
  warnings: string[];
}

export interface SkippedPattern {
  file: string;
  line: number;
  name: string | null;
  reason: string;
}

export interface LoadOptions {
  /** Compile `userspace pattern=` lines when present (l7-filter userspace does); default true. */
  preferUserspace?: boolean;
  /** l7-filter userspace config (`protocol mark` lines) that sets priority and marks. */
  config?: { entries: ConfigEntry[]; file: string };
  /** Load only the protocols listed in the config (l7-filter userspace's behaviour). */
  onlyListed?: boolean;
}

export interface PatternSource {
  file: string;
  text: string;
}

/**
 * Bounded repetitions such as `^.{0,160}x` multiply the states of RE2's DFA, and one
 * automaton for every pattern runs out of its cache and falls back to the much slower
 * NFA (measured: 6x slower with 68 patterns in one set). Sets of at most SET_CHUNK
 * patterns, each with its own DFA cache of SET_MAX_MEM (memory is only used as states are
 * met), stay on the DFA; `npm run bench` shows the effect.
 */
const SET_CHUNK = 24;
const SET_MAX_MEM = 32 << 20;
/** Subjects with one first character a flow set has seen before it may predict a hit. */
const LIKELY_AFTER = 16;

interface SetGroup {
  set: InstanceType<typeof RE2.Set>;
  members: LoadedPattern[];
  /** Anchored groups: no member can match past this many bytes; unanchored: Infinity. */
  maxLength: number;
  /**
   * Anchored flow groups: per subject first character, the longest match of the members
   * that can begin with it (a flow's first character never changes: on its later packets
   * an RTP flow's second anchored UDP set stops at rtp's ten bytes, not dropbox's 400); else
   * null.
   */
  maxByFirst: Float64Array | null;
  /**
   * Unanchored and long-lead groups: every match contains one of these (see
   * literal-prefilter.ts), or null (the group always runs).
   */
  literals: Literal[] | null;
  /**
   * Anchored and packet groups: the bytes (flow groups: the subject's first character) a
   * match can begin with (see first-bytes.ts), or null (any).
   */
  first: FirstBytes;
  /** A set of one anchored part run only on subjects that pass its window gate, else null. */
  window: WindowGate | null;
  /** The best (lowest) priority among its members: a group that cannot beat a hit is skipped. */
  minPriority: number;
  /**
   * Flow groups of several members, per subject first character: subjects seen (even
   * slots) and how many hit (odd), to choose which call runs first (see `match`).
   */
  seen: Uint32Array | null;
}

/** What goes into a set: a whole pattern, or its anchored or its unanchored branches. */
interface Part {
  pattern: LoadedPattern;
  re2: string;
  anchored: boolean;
  maxLength: number;
  /** Unanchored parts: one required run per branch, or null when a branch has none. */
  literals: Literal[] | null;
  /** Its top-level alternatives. */
  branches: string[];
}

/**
 * A pattern with both anchored and unanchored branches (bittorrent, sip) is split: its
 * `^` branches join the anchored sets (cheap: they stop at the first byte that fails, and
 * skip a flow that outgrew them), the rest scan the subject. A match of either part is a
 * match of the pattern, so the answers are the same.
 */
function partsOf(p: LoadedPattern): Part[] {
  const whole = (anchored: boolean): Part => ({
    pattern: p,
    re2: p.re2,
    anchored,
    maxLength: anchored ? p.maxLength : Infinity,
    literals: anchored ? null : literalsOf(p.branches),
    branches: p.branches,
  });
  if (p.anchored) return [whole(true)];
  const starts = p.branches.filter((b) => b.startsWith("^"));
  const rest = p.branches.filter((b) => !b.startsWith("^"));
  if (starts.length === 0 || rest.length === 0) return [whole(false)];
  const anchoredRe2 = starts.join("|");
  return [
    {
      pattern: p,
      re2: anchoredRe2,
      anchored: true,
      maxLength: maxMatchLength(anchoredRe2),
      literals: null,
      branches: starts,
    },
    {
      pattern: p,
      re2: rest.join("|"),
      anchored: false,
      maxLength: Infinity,
      literals: literalsOf(rest),
      branches: rest,
    },
  ];
}

/**
 * A lead run (`^[...]{m,n}` or `^.{m,n}`) of LONG_LEAD or more keeps an anchored set's
 * automaton alive over most of every subject (h323's `^[\x01-\xff]{0,160}`), and one of
 * SHORT_LEAD or more over its first bytes (mdns's `^[\x01-\xff]{0,8}`, kerberos's
 * `{0,4}`), which lets the rest of such a pattern (mdns: labels of any bytes >= 0x20)
 * stay alive too.
 */
const LONG_LEAD = 64;
const SHORT_LEAD = 4;
/** A window gate of more characters than this is not selective enough for a set of its own. */
const WINDOW_CHARS = 4;

/** The largest upper bound of a counted repetition (`{m,n}`, `{n}`) in an RE2 source, 0 if none. */
function longestRun(src: string): number {
  let most = 0;
  for (const m of src.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) most = Math.max(most, Number(m[2] || m[1]));
  return most;
}

/** The longest lead run (see LONG_LEAD) among the branches, 0 when none begins with one. */
function leadRun(branches: string[]): number {
  let most = 0;
  for (const b of branches) {
    const m = /^\^(?:\[(?:[^\]\\]|\\.)*\]|\.)\{\d+,(\d+)\}/.exec(b);
    if (m) most = Math.max(most, Number(m[1]));
  }
  return most;
}

/**
 * Per first character, the longest match of the parts that can begin with it (see
 * SetGroup); `firsts[i]` is `parts[i]`'s first bytes.
 */
function longestByFirst(parts: Part[], firsts: FirstBytes[]): Float64Array {
  const out = new Float64Array(256);
  parts.forEach((p, i) => {
    const f = firsts[i]!;
    for (let c = 0; c < 256; c++) if ((f === null || f[c]) && p.maxLength > out[c]!) out[c] = p.maxLength;
  });
  return out;
}

function literalsOf(branches: string[], minLength?: number, wide = false): Literal[] | null {
  const out: Literal[] = [];
  for (const b of branches) {
    const lits = requiredLiterals(b, minLength, wide);
    if (!lits) return null;
    out.push(...lits);
  }
  return out;
}

function containsAnyLiteral(bytes: Buffer, literals: Literal[]): boolean {
  for (let i = 0; i < literals.length; i++) if (containsLiteral(bytes, literals[i]!)) return true;
  return false;
}

/** The census of the subject `match` is on (taken at its first gated group, if any). */
const census = new ByteCensus();
/**
 * Subjects up to this long get a census; longer ones are searched run by run (memchr is
 * quicker there than a pass in JS). Replay of a dissectors-on pass's 6,176 `match` calls:
 * 1.13-1.18x with a limit of 256 to 4,096, best at 512.
 */
const CENSUS_MAX = 512;

function mayContainAny(literals: Literal[]): boolean {
  for (let i = 0; i < literals.length; i++) if (census.mayContain(literals[i]!)) return true;
  return false;
}

/** Reused by `latin1AsUtf8`: its result is read by RE2 at once and never kept. */
let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * A binary payload in the form the translation matches (each byte >= 0x80 as its latin1
 * character's UTF-8), written into a reused buffer: no string, no new Buffer per datagram.
 * The view is valid until the next call.
 */
function latin1AsUtf8(payload: Buffer): Buffer {
  if (scratch.length < 2 * payload.length) scratch = Buffer.allocUnsafeSlow(2 * payload.length);
  const out = scratch;
  let u = 0;
  for (let i = 0; i < payload.length; i++) {
    const c = payload[i]!;
    if (c < 0x80) out[u++] = c;
    else {
      out[u++] = 0xc0 | (c >> 6);
      out[u++] = 0x80 | (c & 0x3f);
    }
  }
  return out.subarray(0, u);
}

/** Verdict names that no pattern may take. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["unset", "unknown"]);

/** The name of the optional priority/mark file inside a protocols directory. */
export const DIR_CONFIG_FILE = "l7-filter.conf";

export class PatternSet {
  readonly patterns: LoadedPattern[];
  readonly skipped: SkippedPattern[];
  private readonly byTransport: Record<Transport, SetGroup[]>;
  /** `# Subject: packet` patterns: one packet's payload, NULs kept (see `matchPacket`). */
  private readonly byPacket: Record<Transport, SetGroup[]>;
  private readonly sequential: Record<Transport, LoadedPattern[]>;
  private readonly byName: Map<string, LoadedPattern>;

  constructor(patterns: LoadedPattern[], skipped: SkippedPattern[]) {
    this.patterns = [...patterns].sort((a, b) => a.priority - b.priority);
    this.skipped = skipped;
    this.byName = new Map();
    for (const p of this.patterns) {
      this.byName.set(p.name, p);
      for (const alias of p.meta.aliases) if (!this.byName.has(alias)) this.byName.set(alias, p);
    }
    // Two sets per transport: patterns anchored at the buffer start run as an anchored set,
    // whose automaton stops at the first byte no pattern can take; the rest scan the buffer.
    const build = (t: Transport): SetGroup[] => {
      const parts = this.patterns
        .filter((p) => p.transports.includes(t) && p.meta.subject === "flow")
        .flatMap(partsOf);
      const groups: SetGroup[] = [];
      const chunked = (m: Part[], anchored: boolean, window: WindowGate | null = null) => {
        for (let i = 0; i < m.length; i += SET_CHUNK) {
          const chunk = m.slice(i, i + SET_CHUNK);
          const firsts = anchored ? chunk.map((p) => firstBytes(p.re2)) : [];
          const set = new RE2.Set(
            chunk.map((p) => p.re2),
            { anchor: anchored ? "start" : "unanchored", maxMem: SET_MAX_MEM },
          );
          groups.push({
            set,
            members: chunk.map((p) => p.pattern),
            maxLength: anchored ? Math.max(...chunk.map((p) => p.maxLength)) : Infinity,
            maxByFirst: anchored ? longestByFirst(chunk, firsts) : null,
            window,
            literals: !chunk[0]!.literals ? null : chunk.flatMap((p) => p.literals!),
            // Code points (the subject's first character) a match can begin with.
            first: anchored ? unionFirstBytes(firsts) : null,
            minPriority: Math.min(...chunk.map((p) => p.pattern.priority)),
            seen: chunk.length > 1 ? new Uint32Array(512) : null,
          });
        }
      };
      // Anchored groups hold patterns in priority order: after a hit, a group whose every
      // member has a worse priority is skipped (see `match`), and in this order that is
      // every later group. Parts with a lead run (see LONG_LEAD) are kept out of them: they
      // run only on a subject holding their required run (a long lead: however short;
      // h323 needs a \x08, one memchr instead of an automaton over 160 bytes; mdns needs
      // `\x05local`), and long leads without one get a set of their own (they would
      // multiply the others' states).
      const byPriority = (a: Part, b: Part) => a.pattern.priority - b.pattern.priority;
      const anchored = parts.filter((p) => p.anchored);
      for (const p of anchored) {
        const lead = leadRun(p.branches);
        // Wide: h323's one-byte `\x08` gate let most binary payloads through (5-12 µs an
        // RE2 call over its 160-byte lead); `\x08\x91j` or `\x08\x81u` lets few.
        if (lead >= LONG_LEAD) p.literals = literalsOf(p.branches, 1, true);
        else if (lead >= SHORT_LEAD) p.literals = literalsOf(p.branches);
        // Long runs further in (dhcpv6's `{1,120}` then `{0,120}`, dhcp's `{0,240}`) also
        // multiply the states of a set they join: behind a required run of two characters
        // or more (DHCP's magic cookie, dhcpv6's \x08\x02), a set of their own.
        else if (longestRun(p.re2) >= LONG_LEAD) p.literals = literalsOf(p.branches, 2, true);
      }
      const long = (p: Part) => leadRun(p.branches) >= LONG_LEAD;
      // Parts with long runs behind a gate the first character does not cover (openvpn's
      // `^.?.?[8Pp].{6,8}...{6,200}`) multiply the states of every set they join (the
      // first UDP set took ~25% less time without it): a set of their own, run only on a
      // subject with one of those few characters in those first places (~3%).
      const windows = new Map<Part, WindowGate>();
      for (const p of anchored) {
        if (p.literals || long(p) || longestRun(p.re2) < LONG_LEAD) continue;
        const w = windowGate(p.branches);
        if (w && w.window > 1 && w.chars.reduce((n, c) => n + c, 0) <= WINDOW_CHARS) windows.set(p, w);
      }
      chunked(anchored.filter((p) => !p.literals && !long(p) && !windows.has(p)).sort(byPriority), true);
      for (const [p, w] of windows) chunked([p], true, w);
      // One set per gated part: its gate is its own run, not the union of several.
      for (const p of anchored.filter((p) => p.literals)) chunked([p], true);
      chunked(anchored.filter((p) => !p.literals && long(p)).sort(byPriority), true);
      // Unanchored ones with a prefilter apart from those without (which always run).
      chunked(parts.filter((p) => !p.anchored && p.literals).sort(byPriority), false);
      chunked(parts.filter((p) => !p.anchored && !p.literals).sort(byPriority), false);
      return groups.sort((a, b) => a.minPriority - b.minPriority);
    };
    // Packet patterns are few: unanchored sets (RE2 still honours their `^`).
    const buildPacket = (t: Transport): SetGroup[] => {
      const m = this.patterns.filter(
        (p) => p.packetRe2 !== null && (p.meta.packetTransports ?? p.transports).includes(t),
      );
      const groups: SetGroup[] = [];
      for (let i = 0; i < m.length; i += SET_CHUNK) {
        const chunk = m.slice(i, i + SET_CHUNK);
        const set = new RE2.Set(
          chunk.map((p) => p.packetRe2!),
          { anchor: "unanchored", maxMem: SET_MAX_MEM },
        );
        const first = unionFirstBytes(chunk.map((p) => firstBytes(p.packetRe2!)));
        groups.push({
          set,
          members: chunk,
          // Known first bytes: every member is anchored, so no match reaches past this.
          maxLength: first ? Math.max(...chunk.map((p) => maxMatchLength(p.packetRe2!))) : Infinity,
          maxByFirst: null,
          window: null,
          literals: null,
          first,
          minPriority: Math.min(...chunk.map((p) => p.priority)),
          seen: null,
        });
      }
      return groups;
    };
    this.byTransport = { tcp: build("tcp"), udp: build("udp") };
    this.byPacket = { tcp: buildPacket("tcp"), udp: buildPacket("udp") };
    const flowOnly = (t: Transport) =>
      this.patterns.filter((p) => p.transports.includes(t) && p.meta.subject === "flow");
    this.sequential = { tcp: flowOnly("tcp"), udp: flowOnly("udp") };
  }

  get size(): number {
    return this.patterns.length;
  }

  get(nameOrAlias: string): LoadedPattern | undefined {
    return this.byName.get(nameOrAlias);
  }

  /**
   * The highest-priority pattern matching the subject (see `stripNul`), or null. A Buffer
   * subject is the UTF-8 form of that text (flow/subject.ts): RE2 reads it as it is,
   * where a string is converted to a new UTF-8 buffer on every call of every set.
   */
  match(subject: Buffer | string, transport: Transport, seen = 0): LoadedPattern | null {
    const bytes = typeof subject === "string" ? Buffer.from(subject, "utf8") : subject;
    let best: LoadedPattern | null = null;
    // The subject's first character (a code point < 0x100 in its UTF-8 form): an anchored
    // group none of whose members can begin with it is not run (the second anchored UDP set:
    // spotify to rtp).
    const b0 = bytes.length ? bytes[0]! : 0;
    const first = b0 < 0x80 || bytes.length < 2 ? b0 : ((b0 & 0x1f) << 6) | (bytes[1]! & 0x3f);
    // Indexed loops, no closure: once per inspected packet, and the classify CLI's code is
    // not escape-analysed (Maglev only), so iterators and closures would be garbage.
    const groups = this.byTransport[transport];
    let counted = false;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!;
      if (g.first && !g.first[first]) continue;
      if (g.window !== null && !passesWindow(bytes, g.window)) continue;
      // `seen`: the subject's first `seen` bytes (of its text form) were already matched
      // without a hit. An anchored match no longer than that lies inside them: skip.
      if ((g.maxByFirst === null ? g.maxLength : g.maxByFirst[first]!) <= seen) continue;
      // No member could beat the pattern already found.
      if (best !== null && best.priority < g.minPriority) continue;
      // A group with required runs runs only on a subject holding one of them.
      if (g.literals) {
        if (bytes.length <= CENSUS_MAX) {
          if (!counted) {
            census.load(bytes);
            counted = true;
          }
          if (!mayContainAny(g.literals)) continue;
        }
        if (!containsAnyLiteral(bytes, g.literals)) continue;
      }
      const seenBy = g.seen;
      if (seenBy === null) {
        // A set of one (the gated parts) needs no second scan to say which member hit.
        if (!g.set.test(bytes)) continue;
        const p = g.members[0]!;
        if (!best || p.priority < best.priority) best = p;
        continue;
      }
      // `test` may stop at the first hit and builds no array: the cheaper call on a miss,
      // and most subjects match nothing. But where subjects beginning with this character
      // have nearly all hit (TLS's \x16 in the first TCP set), `match` runs at once: one
      // RE2 call instead of two.
      const k = (first & 0xff) << 1;
      const tests = seenBy[k]!;
      const likely = tests >= LIKELY_AFTER && seenBy[k + 1]! * 5 >= tests * 4;
      if (tests < 0xffffffff) seenBy[k] = tests + 1;
      if (!likely && !g.set.test(bytes)) continue;
      const hits = g.set.match(bytes);
      if (hits.length) seenBy[k + 1] = seenBy[k + 1]! + 1;
      for (let k = 0; k < hits.length; k++) {
        const p = g.members[hits[k]!]!;
        if (!best || p.priority < best.priority) best = p;
      }
    }
    return best;
  }

  /** Whether any `# Subject: packet` pattern applies to the transport. */
  hasPacketPatterns(transport: Transport): boolean {
    return this.byPacket[transport].length > 0;
  }

  /**
   * The highest-priority `# Subject: packet` pattern matching one packet's payload as it
   * is (NULs kept), or null.
   */
  matchPacket(payload: Buffer, transport: Transport): LoadedPattern | null {
    const groups = this.byPacket[transport];
    if (!groups.length || !payload.length) return null;
    const first = payload[0]!;
    let best: LoadedPattern | null = null;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!;
      // No member can begin with this byte (most datagrams, for natpmp, memcached, DTLS).
      if (g.first && !g.first[first]) continue;
      if (best !== null && best.priority < g.minPriority) continue;
      // Anchored members match nothing past maxLength: the payload's bytes after it (but
      // the one that follows, which `$` or `\b` may look at) are not converted nor read.
      const head = payload.length > g.maxLength + 1 ? payload.subarray(0, g.maxLength + 1) : payload;
      // The latin1-mapped UTF-8 form the translation matches (as flow/subject.ts builds it).
      const bytes = isAscii(head) ? head : latin1AsUtf8(head);
      // Nearly every datagram matches none: `test` builds no array.
      if (!g.set.test(bytes)) continue;
      for (const i of g.set.match(bytes)) {
        const p = g.members[i]!;
        if (!best || p.priority < best.priority) best = p;
      }
    }
    return best;
  }

  /** Every matching pattern, in priority order (for the pattern tester). */
  matchAll(subject: Buffer | string, transport?: Transport): LoadedPattern[] {
    const bytes = typeof subject === "string" ? Buffer.from(subject, "utf8") : subject;
    const out = new Set<LoadedPattern>();
    for (const t of transport ? [transport] : (["tcp", "udp"] as const)) {
      for (const g of [...this.byTransport[t], ...this.byPacket[t]])
        for (const i of g.set.match(bytes)) out.add(g.members[i]!);
    }
    return [...out].sort((a, b) => a.priority - b.priority);
  }

  /** The same answer as `match`, by trying each regex in priority order (the benchmark baseline). */
  matchSequential(subject: Buffer | string, transport: Transport): LoadedPattern | null {
    for (const p of this.sequential[transport]) if (p.regex.test(subject)) return p;
    return null;
  }

  /** Human summary of what loaded and what was skipped, with reasons. */
  report(): string {
    const lines = [`${this.patterns.length} patterns loaded, ${this.skipped.length} skipped`];
    for (const s of this.skipped) lines.push(`  skipped ${s.name ?? "?"} (${s.file}:${s.line}): ${s.reason}`);
    for (const p of this.patterns)
      for (const w of p.warnings) lines.push(`  warning ${p.name} (${p.file}:${p.line}): ${w}`);
    return lines.join("\n");
  }
}

/** Compiles parsed sources. Bad files and untranslatable patterns are skipped and reported. */
export function compilePatterns(sources: PatternSource[], options: LoadOptions = {}): PatternSet {
  const preferUserspace = options.preferUserspace ?? true;
  const skipped: SkippedPattern[] = [];
  const parsed: PatternFile[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    try {
      const pf = parsePatternFile(src.text, src.file);
      if (RESERVED_NAMES.has(pf.name)) {
        // l7-filter ships unknown.pat and unset.pat (pattern `.`) only so that these names
        // are valid in iptables rules; here they are verdicts, never patterns.
        skipped.push({
          file: src.file,
          line: pf.kernel.line,
          name: pf.name,
          reason: `"${pf.name}" is a reserved verdict name (l7-filter's pseudo-protocol), not a pattern`,
        });
        continue;
      }
      const dup = seen.get(pf.name);
      if (dup) {
        skipped.push({
          file: src.file,
          line: pf.kernel.line,
          name: pf.name,
          reason: `duplicate of ${dup} (the first one wins)`,
        });
        continue;
      }
      seen.set(pf.name, src.file);
      parsed.push(pf);
    } catch (e) {
      if (e instanceof PatternFileError)
        skipped.push({ file: e.file, line: e.line, name: null, reason: e.reason });
      else throw e;
    }
  }

  const config = options.config?.entries ?? [];
  const order = new Map(config.map((c, i) => [c.protocol, i]));
  const marks = new Map(config.map((c) => [c.protocol, c.mark]));
  if (options.config) {
    for (const c of config) {
      if (!seen.has(c.protocol)) {
        skipped.push({
          file: options.config.file,
          line: c.line,
          name: c.protocol,
          reason: "listed in the config but no pattern file has this name",
        });
      }
    }
  }
  const candidates = parsed
    .filter((p) => !options.onlyListed || order.has(p.name))
    .sort((a, b) => {
      const oa = order.get(a.name) ?? Infinity;
      const ob = order.get(b.name) ?? Infinity;
      return oa !== ob ? oa - ob : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    });

  const usedMarks = new Set(marks.values());
  let nextMark = FIRST_PROTOCOL_MARK;
  const loaded: LoadedPattern[] = [];
  for (const pf of candidates) {
    const useUser = preferUserspace && pf.userspace !== null;
    const line = useUser ? pf.userspace! : pf.kernel;
    const dialect: DialectOptions = {
      ...(useUser
        ? {
            extended: pf.userspace!.flags.includes("REG_EXTENDED"),
            icase: pf.userspace!.flags.includes("REG_ICASE"),
            newline: pf.userspace!.flags.includes("REG_NEWLINE"),
          }
        : KERNEL_DIALECT),
    };
    // A packet pattern reads binary messages: NULs kept, and case-sensitive.
    if (pf.meta.subject === "packet") Object.assign(dialect, { keepNul: true, icase: false });
    let translated;
    try {
      translated = translateL7Regex(line.source, dialect);
    } catch (e) {
      if (!(e instanceof DialectError)) throw e;
      skipped.push({
        file: pf.file,
        line: line.line,
        name: pf.name,
        reason: `${useUser ? "userspace" : "kernel"} pattern ${e.message}`,
      });
      continue;
    }
    let regex: RE2;
    try {
      regex = new RE2(translated.source);
    } catch (e) {
      skipped.push({
        file: pf.file,
        line: line.line,
        name: pf.name,
        reason: `RE2 rejects the translation: ${(e as Error).message}`,
      });
      continue;
    }
    let packetRe2: string | null = pf.meta.subject === "packet" ? translated.source : null;
    if (pf.packet) {
      try {
        packetRe2 = translateL7Regex(pf.packet.source, {
          ...KERNEL_DIALECT,
          icase: false,
          keepNul: true,
        }).source;
        new RE2(packetRe2);
      } catch (e) {
        skipped.push({
          file: pf.file,
          line: pf.packet.line,
          name: pf.name,
          reason: `packet pattern ${(e as Error).message}`,
        });
        continue;
      }
    }
    let mark = marks.get(pf.name);
    if (mark === undefined) {
      while (usedMarks.has(nextMark)) nextMark++;
      mark = nextMark;
      usedMarks.add(mark);
    }
    loaded.push({
      name: pf.name,
      file: pf.file,
      priority: loaded.length,
      mark,
      origin: useUser ? "userspace" : "kernel",
      line: line.line,
      l7: line.source,
      re2: translated.source,
      packetRe2,
      regex,
      anchored: translated.anchored,
      branches: translated.branches,
      maxLength: maxMatchLength(translated.source),
      transports: pf.meta.transports,
      meta: pf.meta,
      // A related protocol's pattern never matches on purpose (its verdict comes from
      // its control connection): no warning for that.
      warnings: pf.meta.relatedTo ? [] : translated.warnings,
    });
  }
  return new PatternSet(loaded, skipped);
}

/** Reads every `*.pat` in the directories (and a `l7-filter.conf` in the first one, if any). */
export function loadPatternDirs(dirs: string[], options: LoadOptions = {}): PatternSet {
  const sources: PatternSource[] = [];
  let config = options.config;
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new Error(`protocols directory not found: ${dir}`);
    const names = readdirSync(dir)
      .filter((n) => n.endsWith(".pat"))
      .sort();
    for (const n of names) sources.push({ file: join(dir, n), text: readFileSync(join(dir, n), "latin1") });
    const conf = join(dir, DIR_CONFIG_FILE);
    if (!config && existsSync(conf))
      config = { entries: parseConfigFile(readFileSync(conf, "utf8"), conf), file: conf };
  }
  return compilePatterns(sources, { ...options, ...(config ? { config } : {}) });
}

/**
 * The longest text (in code points: bytes of the subject) a translated pattern can match,
 * or Infinity. Reads the RE2 syntax the dialect emits: literals, `\x{..}` escapes, classes,
 * `(?:...)`/`(?m:...)` groups, `|`, `^ $ \b \B \A \z`, and `* + ? {n} {n,} {n,m}`.
 */
export function maxMatchLength(src: string): number {
  let i = 0;
  const skipEscape = () => {
    if (src[i + 1] === "x" && src[i + 2] === "{") i = src.indexOf("}", i) + 1;
    else i += 2;
  };
  const atom = (): number => {
    const c = src[i];
    if (c === "(") {
      i++;
      if (src[i] === "?") i = src.indexOf(":", i) + 1;
      const w = alternation();
      if (src[i] !== ")") throw new Error(`maxMatchLength: unbalanced group in ${src}`);
      i++;
      return w;
    }
    if (c === "[") {
      i++;
      if (src[i] === "^") i++;
      if (src[i] === "]") i++;
      while (i < src.length && src[i] !== "]") {
        if (src[i] === "\\") skipEscape();
        else i++;
      }
      i++;
      return 1;
    }
    if (c === "\\") {
      const n = src[i + 1]!;
      if ("bBAz".includes(n)) {
        i += 2;
        return 0;
      }
      skipEscape();
      return 1;
    }
    i++;
    return c === "^" || c === "$" ? 0 : 1;
  };
  const quantified = (w: number): number => {
    for (;;) {
      const c = src[i];
      if (c === "*" || c === "+") {
        i++;
        if (w > 0) w = Infinity;
      } else if (c === "?") {
        i++;
      } else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (!m) return w;
        i += m[0].length;
        const hi = m[2] === undefined ? Number(m[1]) : m[3] === "" ? Infinity : Number(m[3]);
        if (w > 0) w *= hi;
      } else return w;
    }
  };
  const sequence = (): number => {
    let total = 0;
    while (i < src.length && src[i] !== "|" && src[i] !== ")") total += quantified(atom());
    return total;
  };
  const alternation = (): number => {
    let w = sequence();
    while (src[i] === "|") {
      i++;
      w = Math.max(w, sequence());
    }
    return w;
  };
  const w = alternation();
  if (i < src.length) throw new Error(`maxMatchLength: unexpected ${src[i]} in ${src}`);
  return w;
}

export function protocolNameOf(file: string): string {
  return basename(file).replace(/\.pat$/, "");
}
