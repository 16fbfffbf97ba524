// Hostname globs matched in linear time. A "*" never crosses a dot, so a glob with k labels
// can only match the last k labels of a name, label by label; within a label the stars
// split the pattern into literal pieces that are found greedily, leftmost first (no
// backtracking: a leftmost occurrence never loses a match a later one would find). The
// names come from LAN clients (SNI, Host, DNS), so a regex with many stars must not be
// able to backtrack on them (issue 17.3). Pure TypeScript: the browser bundle uses it too.

/** Whether `text` matches `pattern`, where "*" stands for any run of characters. */
function labelMatches(pattern: string, text: string): boolean {
  const pieces = pattern.split("*");
  if (pieces.length === 1) return pattern === text;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (first.length + last.length > text.length || !text.startsWith(first) || !text.endsWith(last))
    return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const p = pieces[i]!;
    if (p === "") continue;
    const found = text.indexOf(p, at);
    if (found < 0 || found + p.length > end) return false;
    at = found + p.length;
  }
  return true;
}

/** JavaScript's "." (what the earlier regex used for the subdomain part) skips these. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/**
 * The test a hostname rule's glob makes: case-insensitive, "*" stands for any run of
 * characters within one label, and a leading "*." also matches the bare domain
 * ("*.example.com" matches example.com and a.b.example.com). One trailing dot of the name
 * is ignored.
 */
export function hostnameGlobMatcher(glob: string): (host: string) => boolean {
  const g = glob.toLowerCase();
  const anySub = g.startsWith("*.");
  const want = (anySub ? g.slice(2) : g).split(".");
  return (host) => {
    const h = host.toLowerCase().replace(/\.$/, "");
    const labels = h.split(".");
    const extra = labels.length - want.length;
    if (extra < 0 || (extra > 0 && !anySub)) return false;
    for (let i = 0; i < want.length; i++) if (!labelMatches(want[i]!, labels[extra + i]!)) return false;
    if (extra === 0) return true;
    // the subdomain part: at least one character, then the dot, no line terminator
    const sub = labels.slice(0, extra).join(".");
    return sub.length > 0 && !LINE_TERMINATOR.test(sub);
  };
}

/** Hostname rules' globs in list order; `first` finds the one a host name falls under. */
export class HostnameRules {
  readonly globs: readonly string[];
  private readonly matchers: ((host: string) => boolean)[];
  constructor(globs: readonly string[]) {
    this.globs = globs;
    this.matchers = globs.map(hostnameGlobMatcher);
  }
  /** The index of the first glob matching `host`, -1 for none. */
  first(host: string): number {
    return this.matchers.findIndex((m) => m(host));
  }
}
