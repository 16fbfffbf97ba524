// KernelModel → an nftables table (`inet sluice`) that counts bytes per protocol and per
// application and picks each packet's class, by map lookups instead of linear rule chains:
//
//   postrouting (priority mangle): a packet of a decided connection with only a protocol
//   (nearly every packet) gets its class and its count by one lookup of the connection mark
//   in the `decided` map (element counters) and leaves, or (a class by device, LAN hosts'
//   rules after it) goes by one lookup to its protocol's chain, which counts it and sets its
//   class (see fastPath); the others: the connection mark saved
//   once; then one verdict-map lookup by the packet mark: packets without Sluice's bits
//   leave (to `unmarked`), a decided one with only a protocol goes to the same protocol
//   chain (a queued packet whose verdict just came). Every other packet walks the
//   general rules: one lookup per field in a mark → named-counter map (protocol; app when
//   the app field is set), then per shaped device one lookup per mark field in a mark →
//   classid map (`meta priority set`, which HTB reads before its filters), least specific
//   first so that the hostname rule wins.
//
//   postrouting (priority mangle + 1, after every class choice above): quotas; every packet
//   of a quota's target passes its quota object, which counts it and, once the allowance
//   is spent, matches: the packet's class becomes the demotion class (render/quota-model.ts).
//
//   prerouting (priority mangle - 10, after conntrack): assigns the kernel's conntrack
//   helpers to new control connections and gives the connections they expect the related
//   protocol (render/helpers.ts), and RTSP media the agent expects its mark from Sluice's
//   own expectation maps (render/rtsp-media.ts); then restores the connection mark
//   (render/nft-connmark.ts, which the post chain also uses to save it).
//
// A download IFB is not on a netfilter path: its classes keep tc fw filters (render/tc.ts).
// Typed data first (NftTable), then text; the text replaces the table atomically (one
// `nft -f` transaction: add, delete, define).

import type { KernelModel, MarkField } from "./model.ts";
import type { HelperSpec } from "./helpers.ts";
import type { ModelQuota } from "./quota-model.ts";
import { IFB_DEVICE, MARK_UNSET, fieldMask } from "./model.ts";
import { buildHostChain } from "./nft-hosts.ts";
import { mediaMapLines, mediaRuleTexts } from "./rtsp-media.ts";
import {
  NFT_RESTORE_CHAIN,
  connmarkInNft,
  restoreChains,
  restoreFast,
  saveChains,
  saveRule,
} from "./nft-connmark.ts";

export const NFT_FAMILY = "inet";
export const NFT_TABLE = "sluice";
export const NFT_POST_CHAIN = "post";
export const NFT_QUOTA_CHAIN = "quotas";
/** After the post chain and the iptables mangle table, before NAT (LAN addresses). */
export const NFT_QUOTA_PRIORITY = "mangle + 1";
export const NFT_PRE_CHAIN = "pre";
/** Post-chain packets without any of Sluice's bits: the uninspected counter, LAN hosts. */
export const NFT_UNMARKED_CHAIN = "unmarked";
/** Hook priorities: after conntrack (-200) and before the iptables mangle table (-150) for
 * prerouting; mangle for postrouting. */
export const NFT_HOOK_PRIORITY = { prerouting: "mangle - 10", postrouting: "mangle" } as const;
export const NFT_HOOK_PRIORITY_VALUE = { prerouting: -160, postrouting: -150 } as const;

export interface NftMap {
  name: string;
  /** The key's type: a mark (a number), or an address (hosts' buckets). */
  type?: "ipv4_addr" | "ipv6_addr";
  data: "counter" | "classid";
  /** A counter per element, counted by every lookup that finds it. */
  counted?: true;
  /** Its most elements: a named map with a size gets the kernel's fixed-size hash (4-byte
   * keys: `hash_fast`), faster than the resizable one it gets without (docs/bench.md). */
  size?: number;
  elements: { key: number | string; value: string }[];
}

export interface NftRule {
  text: string;
  /** What the read-back rule must name (maps, jump targets, devices): see apply/verify.ts. */
  refs: string[];
}

export interface NftChain {
  name: string;
  /** Base chain hooked at postrouting or prerouting, or a regular chain (jump target). */
  hook: "postrouting" | "prerouting" | null;
  /** The hook priority when not the hook's usual one (NFT_HOOK_PRIORITY), and its value. */
  priority?: string;
  priorityValue?: number;
  rules: NftRule[];
}

export interface NftTable {
  counters: string[];
  /** `ct helper` objects (conntrack helpers the prerouting chain assigns). */
  helpers: Pick<HelperSpec, "name" | "type" | "l4">[];
  /** RTSP media maps (render/rtsp-media.ts), by address family: their elements are live. */
  mediaMaps?: (4 | 6)[];
  /** Quota objects: allowance and the bytes already used (render/quota-model.ts). */
  quotas?: { name: string; bytes: number; used: number }[];
  maps: NftMap[];
  chains: NftChain[];
}

export const protocolCounter = (l7mark: number) => `proto_${l7mark}`;
/** Forwarded TCP/UDP packets that left without a verdict (see `uninspectedRule`). */
export const UNINSPECTED_COUNTER = "uninspected";
export const appCounter = (id: number) => `app_${id}`;
/** Decided connections' constant classes, with a counter per protocol (see buildNft). */
export const NFT_DECIDED_MAP = "decided";

const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
const FIELDS: MarkField[] = ["protocol", "app", "host"];

/** Interface names as the kernel allows them, and nothing nft would read as syntax. */
function deviceName(dev: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(dev))
    throw new Error(`device name ${JSON.stringify(dev)} is not valid`);
  return dev;
}

/** The table, or null when the variant counts and classifies without nftables. */
export function buildNft(m: KernelModel): NftTable | null {
  const counting = m.variant.accounting === "nft";
  const classifying = m.variant.filter === "nft";
  if (!counting && !classifying && !m.quotas?.length) return null;
  const counters: string[] = [];
  const maps: NftMap[] = [];
  // Every rule a decided packet walks costs about 25 ns on a small VM (docs/bench.md, issue
  // 10): packets without Sluice's bits leave the post chain after one lookup (to
  // `unmarked`), a decided one after one lookup, its counter and its class (fastPath).
  const post: NftRule[] = [];
  const unmarked: NftRule[] = [];
  const chains: NftChain[] = [{ name: NFT_POST_CHAIN, hook: "postrouting", rules: post }];
  const hostJumps: NftRule[] = [];
  const devJumps: { device: string; chain: string }[] = [];
  if (counting) {
    const protocols = m.accounting.map((a) => ({
      key: (a.l7mark << m.shift) >>> 0,
      value: protocolCounter(a.l7mark),
    }));
    counters.push(...protocols.map((e) => e.value));
    maps.push({ name: "protocols", data: "counter", elements: protocols });
    post.push({ text: `counter name meta mark & ${hex8(m.mask)} map @protocols`, refs: ["@protocols"] });
    if (m.appAccounting.length) {
      const apps = m.appAccounting.map((a) => ({
        key: (a.id << m.app.shift) >>> 0,
        value: appCounter(a.id),
      }));
      counters.push(...apps.map((e) => e.value));
      maps.push({ name: "apps", data: "counter", elements: apps });
      // Most packets carry no app: a test costs less than a lookup that misses.
      const app = hex8(m.app.mask);
      post.push({
        text: `meta mark & ${app} != ${hex8(0)} counter name meta mark & ${app} map @apps`,
        refs: ["@apps"],
      });
    }
  }
  if (classifying) {
    m.devices.forEach((d, i) => {
      if (d.device === IFB_DEVICE) return;
      // LAN hosts (device rules, host fairness): last, and for unmarked packets too.
      const hosts = buildHostChain(d, i);
      if (hosts) {
        const to = {
          text: `oifname "${deviceName(d.device)}" goto ${hosts.name}`,
          refs: [d.device, hosts.name],
        };
        unmarked.push(to);
        maps.push(...hosts.maps);
        chains.push({ name: hosts.name, hook: null, rules: hosts.rules });
        hostJumps.push(to);
      }
      const chain = `dev${i}`;
      const rules = deviceRules(m, d, chain, maps);
      if (!rules.length) return;
      chains.push({ name: chain, hook: null, rules });
      devJumps.push({ device: deviceName(d.device), chain });
    });
  }
  if (devJumps.length) {
    // One lookup by output device instead of one test per device.
    const els = devJumps.map((j) => `"${j.device}" : jump ${j.chain}`);
    post.push({
      text: `oifname vmap { ${els.join(", ")} }`,
      refs: devJumps.flatMap((j) => [j.device, j.chain]),
    });
  }
  post.push(...hostJumps);
  const fast = fastPath(m, maps, devJumps, hostJumps);
  if (fast) chains.push(...fast.chains);
  const uninspected = uninspectedRule(m);
  if (uninspected) {
    counters.push(UNINSPECTED_COUNTER);
    unmarked.unshift(uninspected);
  }
  const connmark = connmarkInNft(m);
  // Untouched packets (no Sluice field set): nothing to save, count or route by mark. With
  // the fast map they are its 0 element (one lookup for both), after the save test (which
  // they fail: nothing to save); else the first test.
  const own = hex8(m.ownMask);
  const untouched = unmarked.length ? `goto ${NFT_UNMARKED_CHAIN}` : "accept";
  const untouchedRefs = unmarked.length ? [NFT_UNMARKED_CHAIN] : [];
  if (unmarked.length) chains.splice(1, 0, { name: NFT_UNMARKED_CHAIN, hook: null, rules: unmarked });
  if (fast)
    post.unshift({
      text: `meta mark & ${own} vmap { ${[`${hex8(0)} : ${untouched}`, ...fast.entries.map((e) => `${hex8(e.key)} : goto ${e.chain}`)].join(", ")} }`,
      refs: [...untouchedRefs, ...fast.refs],
    });
  if (connmark) {
    // Saved once, before the counters.
    post.unshift(saveRule(m));
    for (const c of saveChains(m)) chains.push({ name: c.name, hook: null, rules: c.rules });
    // A decided connection (its own mark's protocol field neither 0 nor unset) is never
    // saved again, so its packets may skip the save test: first, one lookup by the
    // connection mark to the same chain as the packet mark's (docs/bench.md, issue 10).
    const decided = fast?.entries.filter((e) => e.key >>> m.shift > MARK_UNSET) ?? [];
    // Before it, where nothing follows the class (no LAN hosts' rules): a protocol with a
    // constant class and a counter in one data-map lookup that counts it (an element
    // counter, which the sampler adds to the protocol's named counter) and leaves `post`.
    const direct = hostJumps.length ? [] : decided.filter((e) => e.constant && e.counted);
    const rest = decided.filter((e) => !direct.includes(e));
    if (rest.length)
      post.unshift({
        text: `ct mark & ${own} vmap { ${rest.map((e) => `${hex8(e.key)} : goto ${e.chain}`).join(", ")} }`,
        refs: rest.map((e) => e.chain),
      });
    if (direct.length) {
      maps.push({
        name: NFT_DECIDED_MAP,
        data: "classid",
        counted: true,
        size: direct.length,
        elements: direct.map((e) => ({ key: e.key, value: e.constant! })),
      });
      post.unshift({
        text: `meta priority set ct mark & ${own} map @${NFT_DECIDED_MAP} accept`,
        refs: [`@${NFT_DECIDED_MAP}`],
      });
    }
  }
  if (!fast) post.unshift({ text: `meta mark & ${own} == ${hex8(0)} ${untouched}`, refs: untouchedRefs });
  // The restore comes after the related connections' rules (a connection they mark now is
  // restored at its first packet); a confirmed connection nobody expected is restored by
  // the first rule.
  const pre = relatedRules(m, connmark ? restoreFast(m) : "return");
  if (connmark) {
    if (!pre.length) pre.push({ text: restoreFast(m), refs: [] });
    pre.push({ text: `goto ${NFT_RESTORE_CHAIN}`, refs: [NFT_RESTORE_CHAIN] });
  }
  if (pre.length)
    chains.unshift(
      { name: NFT_PRE_CHAIN, hook: "prerouting", rules: pre },
      ...(connmark ? restoreChains(m).map((c) => ({ ...c, hook: null })) : []),
    );
  const helpers = m.related.helpers.map(({ name, type, l4 }) => ({ name, type, l4 }));
  const quotas = m.quotas ?? [];
  if (quotas.length) chains.push(quotaChain(quotas));
  const mediaMaps: (4 | 6)[] = m.related.rtspMedia ? [4, 6] : [];
  return {
    counters,
    helpers,
    maps,
    chains,
    ...(mediaMaps.length ? { mediaMaps } : {}),
    ...(quotas.length
      ? { quotas: quotas.map((q) => ({ name: q.object, bytes: q.allowance, used: q.used })) }
      : {}),
  };
}

/** A protocol mark's fast chain: whether it counts, and its class when a constant. */
interface FastEntry {
  key: number;
  chain: string;
  counted: boolean;
  constant?: string;
}

/** The chain a decided packet with only a protocol goes to (see fastPath). */
export const fastChain = (l7mark: number) => `fast_${l7mark}`;
/** The LAN hosts' jumps, shared by the fast chains. */
export const NFT_HOSTS_TAIL_CHAIN = "hosts_tail";

/**
 * A decided packet with only a protocol in its mark (nearly every packet: no app nor
 * hostname rule) in one verdict-map lookup by its mark, to a chain of its own that counts
 * it (a named counter: no lookup) and picks its class by output device (one lookup), instead
 * of walking the general rules (a counter lookup, the app test, the device lookup, the
 * device chain's test and lookup). Same counters and classes as the general rules, which
 * every other mark (and a mark the map lacks) still walks. The map's 0 element (added by
 * the caller) sends untouched packets on. Rules cost per expression and per lookup on a
 * small VM (docs/bench.md, issue 10, sixth to eighth passes): the class is a constant when
 * every shaped device gives the protocol the same one (no output-device lookup, the
 * dearest part of the chain); keyed by mark and output device in one lookup (a constant
 * class per chain) measured slower than a mark lookup and a device lookup.
 */
function fastPath(
  m: KernelModel,
  maps: NftMap[],
  devJumps: { device: string; chain: string }[],
  hostJumps: NftRule[],
): { entries: FastEntry[]; refs: string[]; chains: NftChain[] } | null {
  const counted = new Set(maps.find((mp) => mp.name === "protocols")?.elements.map((e) => e.key as number));
  const byDevice = devJumps.map((j) => ({
    device: j.device,
    classes: new Map(
      maps.find((mp) => mp.name === `${j.chain}_protocol`)?.elements.map((e) => [e.key, e.value]),
    ),
  }));
  const keys = [...new Set([...counted, ...byDevice.flatMap((d) => [...d.classes.keys()])])] as number[];
  if (!keys.length) return null;
  const chains: NftChain[] = [];
  const entries: FastEntry[] = [];
  // Both of the policy's devices shaped here (not download on an IFB, where the LAN device
  // has no tree of Sluice's): only then may a class be a constant.
  const everyDevice = byDevice.length > 0 && byDevice.length === m.devices.length;
  const tail = hostJumps.length
    ? [{ text: `goto ${NFT_HOSTS_TAIL_CHAIN}`, refs: [NFT_HOSTS_TAIL_CHAIN] }]
    : [];
  for (const key of keys.sort((a, b) => a - b)) {
    const l7mark = key >>> m.shift;
    const name = fastChain(l7mark);
    const parts: string[] = [];
    const refs: string[] = [];
    if (counted.has(key)) {
      parts.push(`counter name "${protocolCounter(l7mark)}"`);
      refs.push(protocolCounter(l7mark));
    }
    const classes = byDevice.flatMap((d) =>
      d.classes.has(key) ? [`"${d.device}" : ${d.classes.get(key)}`] : [],
    );
    const same = new Set(byDevice.map((d) => d.classes.get(key)));
    const constant =
      everyDevice && same.size === 1 && classes.length === byDevice.length
        ? byDevice[0]!.classes.get(key)
        : undefined;
    if (constant) {
      // The same class on every shaped device (the common case): a constant, no lookup.
      // Another device's qdisc ignores it unless it reads skb->priority (see ARCHITECTURE.md).
      parts.push(`meta priority set ${constant}`);
    } else if (classes.length) {
      // A device the map lacks: the lookup fails and the rule stops there, after the counter.
      parts.push(`meta priority set oifname map { ${classes.join(", ")} }`);
      refs.push(...byDevice.filter((d) => d.classes.has(key)).map((d) => d.device));
    }
    chains.push({ name, hook: null, rules: [{ text: parts.join(" "), refs }, ...tail] });
    entries.push({ key, chain: name, counted: counted.has(key), ...(constant ? { constant } : {}) });
  }
  if (tail.length) chains.push({ name: NFT_HOSTS_TAIL_CHAIN, hook: null, rules: hostJumps });
  return { entries, refs: chains.filter((c) => c.name !== NFT_HOSTS_TAIL_CHAIN).map((c) => c.name), chains };
}

/**
 * A device's class pick: one `meta priority` lookup per mark field, least specific first so
 * that the hostname rule wins. A packet with neither an app nor a hostname rule (nearly
 * every one) leaves after its protocol's lookup, in one rule.
 */
function deviceRules(
  m: KernelModel,
  d: KernelModel["devices"][number],
  chain: string,
  maps: NftMap[],
): NftRule[] {
  const lookups: { field: MarkField; name: string }[] = [];
  for (const field of FIELDS) {
    const seen = new Set<number>();
    const elements: NftMap["elements"] = [];
    for (const r of d.routes) {
      // The first route of a value wins (as tc's first fw filter would).
      if (r.field !== field || seen.has(r.value)) continue;
      seen.add(r.value);
      elements.push({ key: (r.value << fieldMask(m, field).shift) >>> 0, value: r.classid });
    }
    if (!elements.length) continue;
    const name = `${chain}_${field}`;
    maps.push({ name, data: "classid", elements });
    lookups.push({ field, name });
  }
  const set = (l: { field: MarkField; name: string }) =>
    `meta priority set meta mark & ${hex8(fieldMask(m, l.field).mask)} map @${l.name}`;
  const rules: NftRule[] = [];
  const [first, ...more] = lookups;
  if (!first) return rules;
  if (first.field === "protocol" && more.length) {
    // The common case in one rule: no app nor hostname rule, the protocol's class found.
    const rest = hex8((m.app.mask | m.host.mask) >>> 0);
    rules.push({ text: `meta mark & ${rest} == ${hex8(0)} ${set(first)} return`, refs: [`@${first.name}`] });
  }
  for (const l of lookups) rules.push({ text: set(l), refs: [`@${l.name}`] });
  return rules;
}

/**
 * Its own base chain, so that it runs after every class choice (the post chain's host
 * chains end in accept) and sees unmarked packets too: a host's allowance is all its traffic.
 */
function quotaChain(quotas: readonly ModelQuota[]): NftChain {
  const rules: NftRule[] = [];
  for (const q of quotas)
    for (const x of q.matches)
      rules.push({
        text: `oifname "${deviceName(x.device)}" ${x.match} quota name "${q.object}"${x.demoteClassid ? ` meta priority set ${x.demoteClassid}` : ""}`,
        refs: [x.device, q.object],
      });
  return {
    name: NFT_QUOTA_CHAIN,
    hook: "postrouting",
    priority: NFT_QUOTA_PRIORITY,
    priorityValue: NFT_HOOK_PRIORITY_VALUE.postrouting + 1,
    rules,
  };
}

/**
 * Every forwarded TCP/UDP packet whose protocol field is still 0 goes to the queue (see
 * render/iptables.ts), and a verdict sets the field; so one that leaves with it still 0
 * passed uninspected: a full queue (or socket) failed open, or no data plane was bound
 * (--queue-bypass). The kernel counts neither, so this rule does, first in the chain of
 * packets without Sluice's bits (before any goto; a protocol field of 0 comes with no other
 * field set). Local traffic has no input device and is not counted.
 */
function uninspectedRule(m: KernelModel): NftRule | null {
  const devices = m.devices.filter((d) => d.device !== IFB_DEVICE).map((d) => `"${deviceName(d.device)}"`);
  if (!devices.length) return null;
  const family = m.variant.ipv6 ? "meta l4proto" : "meta nfproto ipv4 meta l4proto";
  return {
    text:
      `${family} { tcp, udp } ` +
      `iifname { ${[...new Set(devices)].join(", ")} } counter name "${UNINSPECTED_COUNTER}"`,
    refs: [UNINSPECTED_COUNTER],
  };
}

/**
 * New control connections get their helper; a connection a helper expected (it carries
 * its control connection's mark from conntrack) gets the related protocol in its protocol
 * field, once: the test skips it afterwards; a new connection whose tuple the RTSP maps
 * expect gets their mark. All of it is for a connection's first packet (a helper can only
 * be set before conntrack confirms the connection) or an expected one, so every packet of
 * a confirmed connection nobody expected (nearly every packet) leaves at the first rule
 * instead of failing each rule's test in turn. Confirmed, not established: a one-way UDP
 * flow (no reply yet) stays `ct state new` at every packet.
 */
function relatedRules(m: KernelModel, exit: string): NftRule[] {
  if (!m.related.helpers.length && !m.related.relabel.length && !m.related.rtspMedia) return [];
  const rules: NftRule[] = [{ text: `ct status & (expected | confirmed) == confirmed ${exit}`, refs: [] }];
  rules.push(
    ...m.related.helpers.map((h) => ({
      text: `ct state new ${h.l4} dport ${h.port} ct helper set "${h.name}"`,
      refs: [h.name],
    })),
  );
  const keep = hex8(~m.mask >>> 0);
  for (const r of m.related.relabel) {
    const value = hex8((r.l7mark << m.shift) >>> 0);
    rules.push({
      text: `ct status expected ct helper "${r.helper}" ct mark & ${hex8(m.mask)} != ${value} ct mark set ct mark & ${keep} | ${value}`,
      refs: [r.helper],
    });
  }
  // RTSP media the agent expects (its own table): the tuple's mark, at the first packet.
  if (m.related.rtspMedia) rules.push(...mediaRuleTexts());
  return rules;
}

/** One `nft -f` transaction that replaces the table (or creates it). */
export function renderNft(t: NftTable): string {
  const id = `${NFT_FAMILY} ${NFT_TABLE}`;
  const out = [`table ${id}`, `delete table ${id}`, `table ${id} {`];
  for (const c of t.counters) out.push(`  counter ${c} {`, "  }");
  for (const q of t.quotas ?? [])
    out.push(`  quota ${q.name} {`, `    over ${q.bytes} bytes used ${q.used} bytes`, "  }");
  for (const h of t.helpers)
    out.push(`  ct helper ${h.name} {`, `    type "${h.type}" protocol ${h.l4}`, "  }");
  for (const mp of t.maps) {
    const els = mp.elements.map(
      (e) =>
        `${typeof e.key === "number" ? hex8(e.key) : e.key} : ${mp.data === "counter" ? `"${e.value}"` : e.value}`,
    );
    out.push(
      `  map ${mp.name} {`,
      `    type ${mp.type ?? "mark"} : ${mp.data}`,
      ...(mp.size ? [`    size ${mp.size}`] : []),
      ...(mp.counted ? ["    counter"] : []),
      `    elements = { ${els.join(", ")} }`,
      "  }",
    );
  }
  for (const f of t.mediaMaps ?? []) out.push(...mediaMapLines(f));
  for (const ch of t.chains) {
    out.push(`  chain ${ch.name} {`);
    if (ch.hook)
      out.push(
        `    type filter hook ${ch.hook} priority ${ch.priority ?? NFT_HOOK_PRIORITY[ch.hook]}; policy accept;`,
      );
    for (const r of ch.rules) out.push(`    ${r.text}`);
    out.push("  }");
  }
  out.push("}", "");
  return out.join("\n");
}

/** Removes the table (the applier only runs it when the table is there). */
export function renderNftTeardown(): string {
  return `delete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
}
