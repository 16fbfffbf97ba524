// Does the kernel hold what was rendered? Compares the read-back state with the model:
// iptables rules line by line, tc objects by id with rates within tc's rounding.

import { fieldValue } from "../render/model.ts";
import type { RenderedPolicy } from "../render/scripts.ts";
import { buildRules, ruleLine, HOOKS, SLUICE_CHAINS, type Family } from "../render/iptables.ts";
import { parseTcRate, rootQdisc, type InstalledState, type InstalledTables } from "../kernel/installed.ts";

export function verifyInstalled(r: RenderedPolicy, s: InstalledState): string[] {
  const problems: string[] = [];
  const tables = (t: InstalledTables | null, family: Family) => {
    const name = family === 4 ? "iptables" : "ip6tables";
    if (!t) return;
    for (const c of SLUICE_CHAINS) if (!t.chains.includes(c)) problems.push(`${name}: chain ${c} missing`);
    for (const h of HOOKS)
      if (t.hooks[h.chain] !== 1)
        problems.push(`${name}: ${h.chain} hook present ${t.hooks[h.chain]} times, expected once`);
    // iptables-save lists chains in name order, each chain's rules in kernel order.
    const want = buildRules(r.model, family)
      .map((x, i) => ({ x, i }))
      .sort((a, b) => (a.x.chain === b.x.chain ? a.i - b.i : a.x.chain < b.x.chain ? -1 : 1))
      .map(({ x }) => ruleLine(x));
    if (want.join("\n") !== t.rules.join("\n")) {
      const missing = want.filter((l) => !t.rules.includes(l));
      const extra = t.rules.filter((l) => !want.includes(l));
      problems.push(
        `${name}: rules differ (missing: ${missing.slice(0, 3).join(" | ") || "none"}; unexpected: ${extra.slice(0, 3).join(" | ") || "none"})`,
      );
    }
  };
  tables(s.v4, 4);
  tables(s.v6, 6);
  for (const d of r.model.devices) {
    const dev = s.tc[d.device];
    if (!dev) {
      problems.push(`tc ${d.device}: not read back`);
      continue;
    }
    const root = rootQdisc(dev);
    if (!root || root.kind !== "htb" || root.handle !== "1:")
      problems.push(
        `tc ${d.device}: root qdisc is ${root ? `${root.kind} ${root.handle}` : "the default"}, expected htb 1:`,
      );
    for (const c of d.classes) {
      const line = dev.classes.find((l) => l.startsWith(`class htb ${c.classid} `));
      if (!line) {
        problems.push(`tc ${d.device}: class ${c.classid} (${c.name}) missing`);
        continue;
      }
      const rate = parseTcRate(/ rate (\S+)/.exec(line)?.[1] ?? "");
      const ceil = parseTcRate(/ ceil (\S+)/.exec(line)?.[1] ?? "");
      const near = (a: number, b: number) => Math.abs(a - b) <= Math.max(1000, b * 0.01);
      if (!near(rate, c.rate) || !near(ceil, c.ceil))
        problems.push(
          `tc ${d.device}: class ${c.classid} has rate ${rate} ceil ${ceil}, expected ${c.rate}/${c.ceil}`,
        );
      if (!line.includes(` parent ${c.parent} `))
        problems.push(`tc ${d.device}: class ${c.classid} has the wrong parent`);
      if (
        c.leaf &&
        !dev.qdiscs.some((q) => q.startsWith(`qdisc ${c.leaf!.kind} ${c.leaf!.handle} parent ${c.classid}`))
      ) {
        problems.push(`tc ${d.device}: leaf ${c.leaf.kind} ${c.leaf.handle} under ${c.classid} missing`);
      }
    }
    if (r.model.variant.filter === "fw") {
      for (const route of d.routes) {
        const handle = `handle ${fieldValue(r.model, route.field, route.value)}`;
        if (!dev.filters.some((f) => f.includes(handle) && f.includes(`classid ${route.classid}`))) {
          problems.push(`tc ${d.device}: fw filter ${handle} → ${route.classid} missing`);
        }
      }
    }
  }
  return problems;
}
