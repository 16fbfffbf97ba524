// Parser for l7-filter `.pat` files (the format of the l7-protocols package).
//
// A file is comment lines (`#`), then the protocol name, then the kernel pattern, then
// optionally `userspace pattern=` and `userspace flags=` lines. The header comments carry
// metadata that admins rely on (quality/speed attributes, groups, wiki, copyright).

export type RegexFlag = "REG_EXTENDED" | "REG_ICASE" | "REG_NOSUB" | "REG_NEWLINE";
const KNOWN_FLAGS = new Set<RegexFlag>(["REG_EXTENDED", "REG_ICASE", "REG_NOSUB", "REG_NEWLINE"]);

/** l7-filter userspace's default when a file has no `userspace flags=` line. */
export const DEFAULT_USERSPACE_FLAGS: readonly RegexFlag[] = ["REG_EXTENDED", "REG_ICASE", "REG_NOSUB"];

export interface PatternLine {
  source: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface PatternMetadata {
  /** First header line, e.g. "HTTP - HyperText Transfer Protocol - RFC 2616". */
  title: string | null;
  /** Quality word: great, good, ok, marginal, poor (from `Pattern attributes:` or `Pattern quality:`). */
  quality: string | null;
  /** Speed word: veryfast, fast, notsofast, slow. */
  speed: string | null;
  /** Every attribute word as written (quality, speed, overmatch, undermatch, superset, subset, ...). */
  attributes: string[];
  overmatch: boolean;
  undermatch: boolean;
  groups: string[];
  wiki: string | null;
  copyright: string | null;
  /** Free-text header notes (ports, caveats, speed/overmatching remarks). */
  notes: string[];
  /** Sluice extension: other names this protocol is known by (`# Aliases: tls https`). */
  aliases: string[];
  /**
   * Sluice extension: the control protocol whose connections announce this one
   * (`# Related to: ftp`); its verdict comes from the expectation table, not the pattern.
   */
  relatedTo: string | null;
  /** Sluice extension: transports the pattern applies to (`# Transport: udp`); default both. */
  transports: ("tcp" | "udp")[];
  /**
   * Sluice extension (`# Subject: packet`): the pattern reads one packet's own payload with
   * its NUL bytes kept — every UDP datagram, the first payload of each TCP direction —
   * instead of the flow's NUL-stripped bytes (`flow`, the default). For binary protocols
   * whose messages are mostly NULs (NAT-PMP, the memcached binary protocol).
   */
  subject: "flow" | "packet";
  /** Sluice extension: transports the `packet pattern=` line applies to (`# Packet transport: tcp`); default `transports`. */
  packetTransports: ("tcp" | "udp")[] | null;
}

export interface PatternFile {
  /** Protocol name: the name line (l7-filter requires it to equal the file's base name). */
  name: string;
  file: string;
  kernel: PatternLine;
  userspace: (PatternLine & { flags: RegexFlag[]; flagsLine: number | null }) | null;
  /**
   * Sluice extension (`packet pattern=`): a second pattern, read like a `# Subject: packet`
   * one (one packet's payload, NULs kept, case-sensitive), for a protocol whose text form
   * the main pattern recognises and whose binary form it cannot (memcached).
   */
  packet: PatternLine | null;
  meta: PatternMetadata;
}

export class PatternFileError extends Error {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = "PatternFileError";
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

const QUALITY_WORDS = new Set(["great", "good", "ok", "marginal", "poor"]);
const SPEED_WORDS = new Set(["veryfast", "fast", "notsofast", "slow"]);

/**
 * Parses a `.pat` file's text. The text should be decoded as latin1 so that raw high
 * bytes in a pattern survive as the byte values they are.
 */
export function parsePatternFile(text: string, file: string): PatternFile {
  const lines = text.split(/\r?\n/);
  const header: string[] = [];
  let name: PatternLine | null = null;
  let kernel: PatternLine | null = null;
  let userspace: PatternLine | null = null;
  let flags: { flags: RegexFlag[]; line: number } | null = null;
  let packet: PatternLine | null = null;

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.replace(/\s+$/, "");
    if (line.trim() === "") return;
    if (line.trimStart().startsWith("#")) {
      if (!name) header.push(line.trimStart().replace(/^#\s?/, ""));
      return;
    }
    if (line.startsWith("userspace pattern=")) {
      if (userspace) throw new PatternFileError(file, lineNo, "second `userspace pattern=` line");
      userspace = { source: line.slice("userspace pattern=".length), line: lineNo };
      return;
    }
    if (line.startsWith("packet pattern=")) {
      if (packet) throw new PatternFileError(file, lineNo, "second `packet pattern=` line");
      packet = { source: line.slice("packet pattern=".length), line: lineNo };
      return;
    }
    if (line.startsWith("userspace flags=")) {
      if (flags) throw new PatternFileError(file, lineNo, "second `userspace flags=` line");
      const words = line.slice("userspace flags=".length).trim().split(/\s+/).filter(Boolean);
      for (const w of words) {
        if (!KNOWN_FLAGS.has(w as RegexFlag)) {
          throw new PatternFileError(
            file,
            lineNo,
            `unknown userspace flag "${w}" (known: ${[...KNOWN_FLAGS].join(", ")})`,
          );
        }
      }
      flags = { flags: words as RegexFlag[], line: lineNo };
      return;
    }
    if (!name) {
      const n = line.trim();
      if (!/^[A-Za-z0-9_.+-]+$/.test(n)) {
        throw new PatternFileError(
          file,
          lineNo,
          `invalid protocol name "${n}" (letters, digits, _ . + - only)`,
        );
      }
      name = { source: n, line: lineNo };
      return;
    }
    if (!kernel) {
      kernel = { source: line, line: lineNo };
      return;
    }
    throw new PatternFileError(file, lineNo, "unexpected line after the pattern (comment it out with #)");
  });

  if (!name) throw new PatternFileError(file, lines.length, "no protocol name line");
  if (!kernel) throw new PatternFileError(file, lines.length, "no pattern line after the protocol name");
  const expected = baseName(file);
  const nm = (name as PatternLine).source;
  if (expected && expected !== nm) {
    throw new PatternFileError(
      file,
      (name as PatternLine).line,
      `protocol name "${nm}" must equal the file name "${expected}"`,
    );
  }
  const us = userspace as PatternLine | null;
  const fl = flags as { flags: RegexFlag[]; line: number } | null;
  if (fl && !us)
    throw new PatternFileError(file, fl.line, "`userspace flags=` without a `userspace pattern=` line");
  return {
    name: nm,
    file,
    kernel,
    userspace: us
      ? { ...us, flags: fl ? fl.flags : [...DEFAULT_USERSPACE_FLAGS], flagsLine: fl ? fl.line : null }
      : null,
    packet: packet as PatternLine | null,
    meta: parseMetadata(header),
  };
}

function baseName(file: string): string | null {
  const m = /([^/\\]+)\.pat$/.exec(file);
  return m ? m[1]! : null;
}

function parseMetadata(header: string[]): PatternMetadata {
  const meta: PatternMetadata = {
    title: null,
    quality: null,
    speed: null,
    attributes: [],
    overmatch: false,
    undermatch: false,
    groups: [],
    wiki: null,
    copyright: null,
    notes: [],
    aliases: [],
    relatedTo: null,
    transports: ["tcp", "udp"],
    subject: "flow",
    packetTransports: null,
  };
  for (const [i, line] of header.entries()) {
    const kv =
      /^(Pattern attributes|Pattern quality|Protocol groups|Wiki|Aliases|Transport|Related to|Subject|Packet transport)\s*:\s*(.*)$/i.exec(
        line,
      );
    if (kv) {
      const key = kv[1]!.toLowerCase();
      const words = kv[2]!.trim().split(/\s+/).filter(Boolean);
      if (key === "pattern attributes" || key === "pattern quality") {
        for (const w of words.map((x) => x.toLowerCase())) {
          meta.attributes.push(w);
          if (QUALITY_WORDS.has(w) && !meta.quality) meta.quality = w;
          else if (SPEED_WORDS.has(w) && !meta.speed) meta.speed = w;
          if (w === "overmatch" || w === "superset") meta.overmatch = true;
          if (w === "undermatch" || w === "subset") meta.undermatch = true;
        }
      } else if (key === "protocol groups") meta.groups.push(...words);
      else if (key === "wiki") meta.wiki = kv[2]!.trim() || null;
      else if (key === "transport" || key === "packet transport") {
        const t = words
          .map((w) => w.toLowerCase())
          .filter((w): w is "tcp" | "udp" => w === "tcp" || w === "udp");
        if (t.length && key === "transport") meta.transports = t;
        else if (t.length) meta.packetTransports = t;
      } else if (key === "related to") meta.relatedTo = words[0]?.toLowerCase() ?? null;
      else if (key === "subject") meta.subject = words[0]?.toLowerCase() === "packet" ? "packet" : "flow";
      else meta.aliases.push(...words);
      continue;
    }
    if (/^copyright\b/i.test(line)) {
      meta.copyright = line.trim();
      continue;
    }
    if (i === 0 && line.trim()) {
      meta.title = line.trim();
      continue;
    }
    if (line.trim()) meta.notes.push(line.trim());
  }
  return meta;
}
