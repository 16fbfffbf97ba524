// Validation issues in the page's words: "upload class "p2p", ceil" rather than
// "classes.upload[1].ceil", "rule #14" (as the Rules page numbers them) rather than
// "rules[13]", and plain sentences for the schema's terse messages.

export interface Issue {
  path: string;
  message: string;
}

/** What the issue's paths point at, when the page knows it (names of classes, rule numbers). */
export interface IssueContext {
  classes?: { upload: { name: string }[]; download: { name: string }[] };
}

const FIELD: Record<string, string> = {
  name: "name",
  parent: "parent",
  rate: "rate",
  ceil: "ceil",
  priority: "priority",
  leaf: "leaf qdisc",
  default: "default",
  description: "description",
  quantum: "quantum",
  burst: "burst",
  cburst: "cburst",
  class: "class",
  protocol: "protocol",
  app: "application",
  category: "category",
  hostname: "host name",
  comment: "comment",
};

const TOP: Record<string, string> = {
  "interfaces.wan.device": "WAN device",
  "interfaces.wan.rate": "upload rate (WAN)",
  "interfaces.lan.device": "LAN device",
  "interfaces.lan.rate": "download rate (LAN)",
  download: "download shaping",
  "marks.mask": "mark layout (protocol field)",
  "marks.appMask": "mark layout (application field)",
  "marks.hostMask": "mark layout (host name field)",
  name: "policy name",
  "": "the policy",
};

function className(ctx: IssueContext | undefined, dir: string, i: number): string {
  const c = ctx?.classes?.[dir as "upload" | "download"]?.[i];
  return c?.name ? `${dir} class "${c.name}"` : `${dir} class in row ${i + 1}`;
}

/** Where an issue is, as the page calls it. */
export function issueLabel(path: string, ctx?: IssueContext): string {
  if (path in TOP) return TOP[path]!;
  const cls = /^classes\.(upload|download)\[(\d+)\](?:\.(\w+))?$/.exec(path);
  if (cls) {
    const where = className(ctx, cls[1]!, Number(cls[2]));
    return cls[3] ? `${where}, ${FIELD[cls[3]] ?? cls[3]}` : where;
  }
  const dirOnly = /^classes\.(upload|download)$/.exec(path);
  if (dirOnly) return `${dirOnly[1]} classes`;
  const rule = /^rules\[(\d+)\](?:\.(\w+))?$/.exec(path);
  if (rule) return `rule #${Number(rule[1]) + 1}${rule[2] ? `, ${FIELD[rule[2]] ?? rule[2]}` : ""}`;
  return path.replace(/\[(\d+)\]/g, (_m, n: string) => ` ${Number(n) + 1}`).replace(/\./g, " ");
}

/** The message with references to other fields in the page's words, and zod's terse phrases replaced. */
export function issueMessage(message: string): string {
  let m = message
    .replace(/\brules\[(\d+)\]/g, (_m, n: string) => `rule #${Number(n) + 1}`)
    // a reference to another row (names may be what is wrong, so say where it is)
    .replace(
      /\bclasses\.(upload|download)\[(\d+)\]/g,
      (_m, d: string, n: string) => `the ${d} class in row ${Number(n) + 1}`,
    );
  // zod's defaults ("Too small: expected string to have >=1 characters", "Invalid input")
  if (/^Too small: expected string to have >=1 characters?$/i.test(m)) m = "required";
  else if (/^Too big: expected string to have <=(\d+) characters?$/i.test(m))
    m = m.replace(/^Too big: expected string to have <=(\d+) characters?$/i, "at most $1 characters");
  else if (/^Too big: expected number to be <=(\S+)$/i.test(m))
    m = m.replace(/^Too big: expected number to be <=(\S+)$/i, "at most $1");
  else if (/^Too small: expected number to be >=(\S+)$/i.test(m))
    m = m.replace(/^Too small: expected number to be >=(\S+)$/i, "at least $1");
  else if (/^Invalid input/i.test(m)) m = "not a valid value here";
  return m;
}

/** One line for a list of problems: "upload class "p2p", ceil: ceil 900Mbit is above …". */
export function issueLine(i: Issue, ctx?: IssueContext): string {
  return `${issueLabel(i.path, ctx)}: ${issueMessage(i.message)}`;
}

/** Field issues with their messages in the page's words (for errors next to the field). */
export function humanIssues<T extends Issue>(issues: T[]): T[] {
  return issues.map((i) => ({ ...i, message: issueMessage(i.message) }));
}
