// Reads back what the kernel holds (iptables-save, tc show) in a normalized text form:
// used to diff a policy against the box, to verify an apply, and to prove that a failed
// apply left the box exactly as it was.

import type { Executor } from "./executor.ts";
import { HOOK_CHAINS, SLUICE_CHAINS, isHookLine } from "../render/iptables.ts";
import { NFT_FAMILY, NFT_TABLE } from "../render/nft.ts";

export interface InstalledTables {
  /** Sluice's chains that exist. */
  chains: string[];
  /** How many jumps to Sluice's chains each built-in chain holds. */
  hooks: Record<string, number>;
  /** Those jumps as iptables-save lines (`-A FORWARD … -j SLUICE_FWD`), in kernel order. */
  hookLines: string[];
  /** `-A SLUICE_*` lines in kernel order. */
  rules: string[];
}

export interface InstalledDevice {
  qdiscs: string[];
  classes: string[];
  filters: string[];
}

/** Sluice's nftables table, without counter values and handles (so two reads compare). */
export interface InstalledNft {
  counters: string[];
  /** Quota objects as "name allowance" (the used amount moves with traffic: not kept here). */
  quotas?: string[];
  /** `ct helper` objects as "name type protocol", sorted. */
  helpers: string[];
  /** Elements as "key : value", sorted; flags (e.g. ["timeout"]) as JSON when set. */
  maps: { name: string; type: string; data: string; elements: string[]; flags?: string }[];
  /** Each rule as its expression JSON (as `nft -j` prints it). */
  chains: { name: string; hook: string | null; rules: string[] }[];
}

export interface InstalledState {
  v4: InstalledTables;
  v6: InstalledTables | null;
  tc: Record<string, InstalledDevice>;
  /** null: no Sluice table (or no nft tool). */
  nft: InstalledNft | null;
}

type NftJson = { nftables?: Record<string, Record<string, unknown>>[] };

/** `nft -j list table inet sluice` → the normalized form. */
export function parseNftJson(text: string): InstalledNft {
  const items = (JSON.parse(text) as NftJson).nftables ?? [];
  const out: InstalledNft = { counters: [], helpers: [], maps: [], chains: [] };
  const rules = new Map<string, string[]>();
  for (const it of items) {
    if (it.counter) out.counters.push(String(it.counter.name));
    else if (it.quota) (out.quotas ??= []).push(`${String(it.quota.name)} ${Number(it.quota.bytes)}`);
    else if (it["ct helper"]) {
      const h = it["ct helper"];
      out.helpers.push(`${String(h.name)} ${String(h.type)} ${String(h.protocol)}`);
    } else if (it.map) {
      const elem = (it.map.elem as unknown[] | undefined) ?? [];
      out.maps.push({
        name: String(it.map.name),
        type: JSON.stringify(it.map.type),
        data: JSON.stringify(it.map.map),
        elements: elem
          .map((e) => (Array.isArray(e) ? `${elemKey(e[0])} : ${e[1]}` : JSON.stringify(e)))
          .sort(),
        ...(it.map.flags ? { flags: JSON.stringify(it.map.flags) } : {}),
      });
    } else if (it.chain) {
      out.chains.push({
        name: String(it.chain.name),
        hook: it.chain.hook ? `${it.chain.hook} ${it.chain.prio}` : null,
        rules: [],
      });
    } else if (it.rule) {
      const chain = String(it.rule.chain);
      rules.set(chain, [...(rules.get(chain) ?? []), JSON.stringify(it.rule.expr)]);
    }
  }
  for (const c of out.chains) c.rules = rules.get(c.name) ?? [];
  out.counters.sort();
  out.quotas?.sort();
  out.helpers.sort();
  out.maps.sort((a, b) => (a.name < b.name ? -1 : 1));
  out.chains.sort((a, b) => (a.name < b.name ? -1 : 1));
  return out;
}

/** A map element's key as text: a number or address, or (with a timeout, or a concatenation)
 * nft's `{"elem": {"val": …}}` / `{"concat": […]}` objects as "a . b . c". */
function elemKey(k: unknown): string {
  if (typeof k !== "object" || k === null) return String(k);
  const o = k as { elem?: { val?: unknown }; concat?: unknown[] };
  if (o.elem) return elemKey(o.elem.val);
  if (Array.isArray(o.concat)) return o.concat.map(String).join(" . ");
  return JSON.stringify(k);
}

/** Sluice's nftables table, or null when it is absent (or nft is not installed). */
export async function readNft(exec: Executor): Promise<InstalledNft | null> {
  const r = await exec.run(["nft", "-j", "list", "table", NFT_FAMILY, NFT_TABLE]);
  if (r.code !== 0) {
    if (r.code === 127 || /No such file|does not exist/i.test(r.stderr)) return null;
    throw new Error(`nft list table failed: ${r.stderr.trim()}`);
  }
  return parseNftJson(r.stdout);
}

export function parseMangle(save: string): InstalledTables {
  const lines = save.split("\n");
  const chains = SLUICE_CHAINS.filter((c) => lines.some((l) => l.startsWith(`:${c} `)));
  const hookLines = lines.filter(isHookLine);
  const hooks: Record<string, number> = {};
  for (const c of HOOK_CHAINS) hooks[c] = hookLines.filter((l) => l.startsWith(`-A ${c} `)).length;
  const rules = lines.filter((l) => SLUICE_CHAINS.some((c) => l.startsWith(`-A ${c} `)));
  return { chains, hooks, hookLines, rules };
}

/** tc's text output without counters and kernel-internal noise. */
export function normalizeTc(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/\s+(refcnt \d+|not_in_hw|direct_packets_stat \d+|direct_qlen \d+)/g, "").trim())
    .filter((l) => l && !/^(Sent|backlog|lended|tokens|rate \d)/.test(l))
    .sort();
}

export async function readInstalled(
  exec: Executor,
  devices: readonly string[],
  ipv6: boolean,
): Promise<InstalledState> {
  const save = async (bin: string) => {
    const r = await exec.run([bin, "-t", "mangle"]);
    if (r.code !== 0) throw new Error(`${bin} -t mangle failed: ${r.stderr.trim()}`);
    return parseMangle(r.stdout);
  };
  const show = async (dev: string, what: string) => {
    const r = await exec.run(["tc", what, "show", "dev", dev]);
    return r.code === 0 ? normalizeTc(r.stdout) : [`(${what} unreadable: ${r.stderr.trim()})`];
  };
  const showDevice = async (dev: string): Promise<InstalledDevice> => {
    const lists = await showAll(exec, dev);
    if (lists) return lists;
    // a refused list (no such device?): one command each, so each says why
    const [qdiscs, classes, filters] = await Promise.all([
      show(dev, "qdisc"),
      show(dev, "class"),
      show(dev, "filter"),
    ]);
    return { qdiscs, classes, filters };
  };
  // Read-only commands, all at once: each is a process, seconds apiece on an emulated box.
  const [v4, v6, nft, ...perDevice] = await Promise.all([
    save("iptables-save"),
    ipv6 ? save("ip6tables-save") : null,
    readNft(exec),
    ...devices.map(async (dev): Promise<[string, InstalledDevice]> => [dev, await showDevice(dev)]),
  ]);
  return { v4, v6, tc: Object.fromEntries(perDevice), nft };
}

/** A device name as the kernel allows it (IFNAMSIZ): nothing else goes into a tc batch line. */
const DEVICE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/**
 * A device's qdiscs, classes and filters from one `tc -batch` process instead of three (every
 * process is a fork of the agent and an exec of tc: about a tenth of a second each in the
 * emulated boot, where readInstalled runs twice per apply). tc prints the three lists one
 * after the other; each entry starts at the line's first column with its kind ("qdisc",
 * "class", "filter"), its further lines are indented. null when tc refused a line.
 */
export async function showAll(exec: Executor, dev: string): Promise<InstalledDevice | null> {
  if (!DEVICE_NAME.test(dev)) return null;
  const r = await exec.run(["tc", "-force", "-batch", "-"], {
    input: ["qdisc", "class", "filter"].map((what) => `${what} show dev ${dev}\n`).join(""),
  });
  if (r.code !== 0) return null;
  const lists: Record<"qdisc" | "class" | "filter", string[]> = { qdisc: [], class: [], filter: [] };
  let current: string[] | null = null;
  for (const line of r.stdout.split("\n")) {
    const kind = /^(qdisc|class|filter) /.exec(line)?.[1] as keyof typeof lists | undefined;
    if (kind) current = lists[kind];
    else if (!line.trim()) continue;
    if (!current) return null; // not tc's show output as this reader knows it
    current.push(line);
  }
  return {
    qdiscs: normalizeTc(lists.qdisc.join("\n")),
    classes: normalizeTc(lists.class.join("\n")),
    filters: normalizeTc(lists.filter.join("\n")),
  };
}

/** Root qdisc kind of a device per `tc qdisc show`, or null for the kernel default. */
export function rootQdisc(dev: InstalledDevice): { kind: string; handle: string } | null {
  for (const l of dev.qdiscs) {
    const m = /^qdisc (\S+) (\S+) root\b/.exec(l);
    if (m && m[2] !== "0:") return { kind: m[1]!, handle: m[2]! };
  }
  return null;
}

/** Rate text from tc ("20Mbit", "512Kbit", "1600b" is bytes) → bit/s. */
export function parseTcRate(text: string): number {
  const m = /^([\d.]+)([KMGT]?)bit$/.exec(text);
  if (!m) return NaN;
  const mult = { "": 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Number(m[1]) * mult;
}
