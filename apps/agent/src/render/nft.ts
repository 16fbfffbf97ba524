// KernelModel → an nftables table (`inet sluice`) that counts bytes per protocol and per
// application and picks each packet's class, by map lookups instead of linear rule chains:
//
//   postrouting (priority mangle): packets without Sluice's mark leave at once; then one
//   lookup per field in a mark → named-counter map (protocol; app when the app field is
//   set), then per shaped device one lookup per mark field in a mark → classid map (`meta
//   priority set`, which HTB reads before its filters), least specific first so that the
//   hostname rule wins; a packet with neither an app nor a hostname rule stops after the
//   protocol's lookup.
//
// A download IFB is not on a netfilter path: its classes keep tc fw filters (render/tc.ts).
// Typed data first (NftTable), then text; the text replaces the table atomically (one
// `nft -f` transaction: add, delete, define).

import type { KernelModel, MarkField } from "./model.ts";
import { IFB_DEVICE, fieldMask } from "./model.ts";

export const NFT_FAMILY = "inet";
export const NFT_TABLE = "sluice";
export const NFT_POST_CHAIN = "post";
export const NFT_QUOTA_CHAIN = "quotas";

export interface NftMap {
  name: string;
  data: "counter" | "classid";
  elements: { key: number; value: string }[];
}

export interface NftRule {
  text: string;
  /** What the read-back rule must name (maps, jump targets, devices): see apply/verify.ts. */
  refs: string[];
}

export interface NftChain {
  name: string;
  /** Base chain hooked at postrouting, or a regular chain (jump target). */
  hook: "postrouting" | null;
  rules: NftRule[];
}

export interface NftTable {
  counters: string[];
  /** Quota objects: allowance and the bytes already used (render/quota-model.ts). */
  quotas?: { name: string; bytes: number; used: number }[];
  maps: NftMap[];
  chains: NftChain[];
}

export const protocolCounter = (l7mark: number) => `proto_${l7mark}`;
export const appCounter = (id: number) => `app_${id}`;

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
  const quotas = m.quotas ?? [];
  if (!counting && !classifying && !quotas.length) return null;
  const counters: string[] = [];
  const maps: NftMap[] = [];
  const post: NftRule[] = [
    // Untouched packets (no Sluice field set): nothing to count or route (but quotas count
    // every packet of their target).
    quotas.length
      ? {
          text: `meta mark & ${hex8(m.ownMask)} == ${hex8(0)} goto ${NFT_QUOTA_CHAIN}`,
          refs: [NFT_QUOTA_CHAIN],
        }
      : { text: `meta mark & ${hex8(m.ownMask)} == ${hex8(0)} accept`, refs: [] },
  ];
  const chains: NftChain[] = [{ name: NFT_POST_CHAIN, hook: "postrouting", rules: post }];
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
      const chain = `dev${i}`;
      const rules: NftRule[] = [];
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
        if (field !== "protocol" && !rules.some((r) => r.refs.length === 0)) {
          // Most packets carry neither an app nor a hostname rule: they leave after the
          // protocol lookup instead of missing in two more maps.
          const rest = hex8((m.app.mask | m.host.mask) >>> 0);
          rules.push({ text: `meta mark & ${rest} == ${hex8(0)} return`, refs: [] });
        }
        rules.push({
          text: `meta priority set meta mark & ${hex8(fieldMask(m, field).mask)} map @${name}`,
          refs: [`@${name}`],
        });
      }
      if (!rules.length) return;
      chains.push({ name: chain, hook: null, rules });
      post.push({ text: `oifname "${deviceName(d.device)}" jump ${chain}`, refs: [d.device, chain] });
    });
  }
  if (quotas.length) {
    // Last, after the class lookups: a target past its allowance goes to its demotion class.
    // Every packet of the target passes the quota object, which counts it (and matches once
    // the allowance is spent).
    const rules: NftRule[] = [];
    for (const q of quotas)
      for (const x of q.matches)
        rules.push({
          text: `oifname "${deviceName(x.device)}" ${x.match} quota name "${q.object}"${x.demoteClassid ? ` meta priority set ${x.demoteClassid}` : ""}`,
          refs: [x.device, q.object],
        });
    chains.push({ name: NFT_QUOTA_CHAIN, hook: null, rules });
    post.push({ text: `jump ${NFT_QUOTA_CHAIN}`, refs: [NFT_QUOTA_CHAIN] });
  }
  return {
    counters,
    maps,
    chains,
    ...(quotas.length
      ? { quotas: quotas.map((q) => ({ name: q.object, bytes: q.allowance, used: q.used })) }
      : {}),
  };
}

/** One `nft -f` transaction that replaces the table (or creates it). */
export function renderNft(t: NftTable): string {
  const id = `${NFT_FAMILY} ${NFT_TABLE}`;
  const out = [`table ${id}`, `delete table ${id}`, `table ${id} {`];
  for (const c of t.counters) out.push(`  counter ${c} {`, "  }");
  for (const q of t.quotas ?? [])
    out.push(`  quota ${q.name} {`, `    over ${q.bytes} bytes used ${q.used} bytes`, "  }");
  for (const mp of t.maps) {
    const els = mp.elements.map(
      (e) => `${hex8(e.key)} : ${mp.data === "counter" ? `"${e.value}"` : e.value}`,
    );
    out.push(
      `  map ${mp.name} {`,
      `    type mark : ${mp.data}`,
      `    elements = { ${els.join(", ")} }`,
      "  }",
    );
  }
  for (const ch of t.chains) {
    out.push(`  chain ${ch.name} {`);
    if (ch.hook) out.push(`    type filter hook ${ch.hook} priority mangle; policy accept;`);
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
