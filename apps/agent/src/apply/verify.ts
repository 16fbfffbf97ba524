// Does the kernel hold what was rendered? Compares the read-back state with the model:
// iptables rules line by line, tc objects by id with rates within tc's rounding.

import { fieldValue } from "../render/model.ts";
import type { RenderedPolicy } from "../render/scripts.ts";
import { usesFwFilters } from "../render/tc.ts";
import { buildRules, chainsOf, hooksOf, ruleLine, type Family } from "../render/iptables.ts";
import { NFT_HOOK_PRIORITY_VALUE, type NftTable } from "../render/nft.ts";
import { MEDIA_MAPS } from "../render/rtsp-media.ts";
import {
  parseTcRate,
  rootQdisc,
  type InstalledNft,
  type InstalledState,
  type InstalledTables,
} from "../kernel/installed.ts";

export function verifyInstalled(r: RenderedPolicy, s: InstalledState): string[] {
  const problems: string[] = [];
  const tables = (t: InstalledTables | null, family: Family) => {
    const name = family === 4 ? "iptables" : "ip6tables";
    if (!t) return;
    const wanted = chainsOf(r.model);
    for (const c of wanted) if (!t.chains.includes(c)) problems.push(`${name}: chain ${c} missing`);
    for (const c of t.chains) if (!wanted.includes(c)) problems.push(`${name}: chain ${c} left over`);
    // The model's jumps from built-in chains, each once, and no other.
    const hooks = hooksOf(r.model).map((h) => ruleLine(h));
    for (const h of hooks) {
      const n = t.hookLines.filter((l) => l === h).length;
      if (n !== 1) problems.push(`${name}: hook ${h} present ${n} times, expected once`);
    }
    for (const l of t.hookLines) if (!hooks.includes(l)) problems.push(`${name}: hook ${l} left over`);
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
  problems.push(...verifyNft(r.nft?.table ?? null, s.nft));
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
    if (usesFwFilters(r.model, d.device)) {
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

/**
 * The nftables table against what was rendered: the same counters, the same map elements
 * (key and value), the same chains and hooks, and rule by rule the maps, jump targets and
 * devices each rule names (nft prints rules in its own canonical form, so the rule text
 * is not compared).
 */
export function verifyNft(want: NftTable | null, got: InstalledNft | null): string[] {
  if (!want) return got ? ["nft: table inet sluice is there, the policy does not use it"] : [];
  if (!got) return ["nft: table inet sluice missing"];
  const problems: string[] = [];
  const same = (a: string[], b: string[]) => [...a].sort().join("\n") === [...b].sort().join("\n");
  if (!same(want.counters, got.counters)) problems.push("nft: named counters differ");
  if (
    !same(
      (want.quotas ?? []).map((q) => `${q.name} ${q.bytes}`),
      got.quotas ?? [],
    )
  )
    problems.push("nft: quota objects differ");
  const helpers = want.helpers.map((h) => `${h.name} ${h.type} ${h.l4}`);
  if (!same(helpers, got.helpers ?? []))
    problems.push(`nft: conntrack helpers differ (want ${helpers.join(", ") || "none"})`);
  for (const m of want.maps) {
    const g = got.maps.find((x) => x.name === m.name);
    const els = m.elements.map((e) => `${e.key} : ${e.value}`);
    if (!g) problems.push(`nft: map ${m.name} missing`);
    else if (!same(els, g.elements)) problems.push(`nft: map ${m.name} holds other elements`);
  }
  // RTSP media maps: their elements are live (the agent adds them as sessions start).
  const media = want.mediaMaps ?? [];
  for (const f of media) {
    const g = got.maps.find((x) => x.name === MEDIA_MAPS[f]);
    const key = f === 4 ? "ipv4_addr" : "ipv6_addr";
    if (!g) problems.push(`nft: map ${MEDIA_MAPS[f]} missing`);
    else if (
      g.type !== JSON.stringify([key, "inet_service", key, "inet_service"]) ||
      g.data !== JSON.stringify("mark") ||
      !(g.flags ?? "").includes("timeout")
    )
      problems.push(`nft: map ${MEDIA_MAPS[f]} is not an ${key} tuple → mark map with timeouts`);
  }
  if (got.maps.length !== want.maps.length + media.length) problems.push("nft: unexpected maps");
  for (const c of want.chains) {
    const g = got.chains.find((x) => x.name === c.name);
    if (!g) {
      problems.push(`nft: chain ${c.name} missing`);
      continue;
    }
    if (
      (c.hook === null) !== (g.hook === null) ||
      (c.hook && g.hook !== `${c.hook} ${c.priorityValue ?? NFT_HOOK_PRIORITY_VALUE[c.hook]}`)
    )
      problems.push(`nft: chain ${c.name} hooked as ${g.hook ?? "none"}`);
    if (g.rules.length !== c.rules.length) {
      problems.push(`nft: chain ${c.name} has ${g.rules.length} rules, expected ${c.rules.length}`);
      continue;
    }
    c.rules.forEach((rule, i) => {
      for (const ref of rule.refs)
        if (!g.rules[i]!.includes(JSON.stringify(ref).slice(1, -1)))
          problems.push(`nft: chain ${c.name} rule ${i + 1} does not name ${ref}`);
    });
  }
  if (got.chains.length !== want.chains.length) problems.push("nft: unexpected chains");
  return problems;
}
