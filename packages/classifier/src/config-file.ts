// Parser for the l7-filter userspace configuration file: one `protocol mark` pair a line.
// The order of the lines is the matching priority (the first listed protocol wins).

// The marks' entry only: the data-plane workers load this package, and the policy's
// schemas (zod) would cost each of them a few MB of heap for nothing.
import { FIRST_PROTOCOL_MARK, MARK_UNKNOWN, MARK_UNSET, MARK_UNTOUCHED } from "@sluice/policy/marks";

export interface ConfigEntry {
  protocol: string;
  mark: number;
  line: number;
}

export class ConfigFileError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = "ConfigFileError";
    this.file = file;
    this.line = line;
  }
}

/** Marks 0, 1 and 2 mean untouched, unset and unknown in l7-filter; protocols get 3 and up. */
export { MARK_UNTOUCHED, MARK_UNSET, MARK_UNKNOWN, FIRST_PROTOCOL_MARK };

export function parseConfigFile(text: string, file = "l7-filter.conf"): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new ConfigFileError(file, i + 1, `expected "protocol mark", got "${line}"`);
    const [protocol, markText] = parts as [string, string];
    if (!/^\d+$/.test(markText)) throw new ConfigFileError(file, i + 1, `mark "${markText}" is not a number`);
    const mark = Number(markText);
    if (mark > 0xffffffff) throw new ConfigFileError(file, i + 1, `mark ${mark} does not fit in 32 bits`);
    if (mark < FIRST_PROTOCOL_MARK) {
      throw new ConfigFileError(
        file,
        i + 1,
        `mark ${mark} is reserved (0 untouched, 1 unset, 2 unknown); use 3 or more`,
      );
    }
    const prev = seen.get(protocol);
    if (prev !== undefined)
      throw new ConfigFileError(file, i + 1, `protocol "${protocol}" already listed on line ${prev}`);
    seen.set(protocol, i + 1);
    out.push({ protocol, mark, line: i + 1 });
  });
  return out;
}
