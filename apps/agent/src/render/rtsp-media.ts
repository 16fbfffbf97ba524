// RTSP media followed live by Sluice's own expectation table (the mainline kernel has no
// RTSP conntrack helper). The static part, rendered with the policy: one map per address
// family in Sluice's nftables table, keyed by the media tuple (LAN client address and port,
// server address and port) with a timeout per element, and prerouting rules that give a
// new UDP connection whose tuple is there (either way round) the map's mark: `rtp` in the
// protocol field, the RTSP control connection's app and hostname-rule fields. The live
// part: the data plane reads an RTSP SETUP reply (`Transport:` client_port/server_port,
// @sluice/classifier rtspReplyMedia), and the agent adds the elements through its Executor
// (`nft -f -`, this file's renderMediaElements), so the media connection is decided at its
// first packet and never queued. SLUICE_FWD keeps an RTSP control connection's first
// RTSP_CONTROL_PACKETS packets queued so the data plane sees its SETUP replies.

import { isIP } from "node:net";
import type { MediaTuple } from "@sluice/classifier";
import { NFT_FAMILY, NFT_TABLE } from "./nft.ts";

/** The maps, by address family. */
export const MEDIA_MAPS = { 4: "rtsp_media4", 6: "rtsp_media6" } as const;
/** Elements per map at most (the kernel refuses more; the agent stops before). */
export const MEDIA_MAX_ELEMENTS = 1024;
/** Seconds an expectation waits for its first packet (a player starts within seconds). */
export const MEDIA_TIMEOUT_SECONDS = 60;
/** An RTSP control connection's packets (both ways) queued: OPTIONS … PLAY fit easily. */
export const RTSP_CONTROL_PACKETS = 64;

/** One expectation: the media tuple and the connection mark its first packet gives. */
export interface MediaElement {
  tuple: MediaTuple;
  mark: number;
  /** Seconds to its first packet, when not the script's (re-added after an apply). */
  timeoutSeconds?: number;
}

const KEY_TYPE = { 4: "ipv4_addr", 6: "ipv6_addr" } as const;

/** The map declaration inside the table block (render/nft.ts). */
export function mediaMapLines(family: 4 | 6): string[] {
  const t = KEY_TYPE[family];
  return [
    `  map ${MEDIA_MAPS[family]} {`,
    `    type ${t} . inet_service . ${t} . inet_service : mark`,
    `    size ${MEDIA_MAX_ELEMENTS}`,
    "    flags timeout",
    "  }",
  ];
}

/** The prerouting rules (after the helpers'): a new connection of an expected tuple, either way. */
export function mediaRuleTexts(): { text: string; refs: string[] }[] {
  const out: { text: string; refs: string[] }[] = [];
  for (const [family, ip] of [
    [4, "ip"],
    [6, "ip6"],
  ] as const) {
    const map = `@${MEDIA_MAPS[family]}`;
    const fwd = `${ip} saddr . udp sport . ${ip} daddr . udp dport`;
    const rev = `${ip} daddr . udp dport . ${ip} saddr . udp sport`;
    out.push({ text: `ct state new ct mark set ${fwd} map ${map}`, refs: [map] });
    out.push({ text: `ct state new ct mark set ${rev} map ${map}`, refs: [map] });
  }
  return out;
}

/** An address as it may appear on a script line (and its family), or an error. */
function address(a: string): { text: string; family: 4 | 6 } {
  const family = isIP(a);
  // isIP accepts an IPv6 zone ("fe80::1%eth0"): nothing but hex digits, colons and dots here.
  if (family === 0 || !/^[0-9A-Fa-f:.]+$/.test(a)) throw new Error(`not an address: ${JSON.stringify(a)}`);
  return { text: a.toLowerCase(), family: family as 4 | 6 };
}

function port(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`not a port: ${JSON.stringify(p)}`);
  return p;
}

/** The map key of an element, checked: "addr . port . addr . port", and its family. */
export function mediaKey(t: MediaTuple): { family: 4 | 6; key: string } {
  const c = address(t.client);
  const s = address(t.server);
  if (c.family !== s.family) throw new Error(`address families differ: ${t.client}, ${t.server}`);
  return { family: c.family, key: `${c.text} . ${port(t.clientPort)} . ${s.text} . ${port(t.serverPort)}` };
}

/**
 * One `nft -f -` transaction that adds (or refreshes) the elements: add, delete, add again,
 * so an element already there gets its full timeout back (a plain add keeps the old one;
 * nft 1.0 has no `destroy`). "replace" is delete and add: for an element known to be there
 * with another mark (an add would conflict). Throws on any bad address, port, mark or
 * timeout, before a line is written.
 */
export function renderMediaElements(
  elements: readonly MediaElement[],
  timeoutSeconds = MEDIA_TIMEOUT_SECONDS,
  mode: "refresh" | "replace" = "refresh",
): string {
  if (elements.length > MEDIA_MAX_ELEMENTS) throw new Error(`${elements.length} elements: too many`);
  const lines: string[] = [];
  for (const e of elements) {
    const timeout = e.timeoutSeconds ?? timeoutSeconds;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600)
      throw new Error(`timeout out of range: ${timeout}`);
    if (!Number.isInteger(e.mark) || e.mark <= 0 || e.mark > 0xffffffff)
      throw new Error(`not a mark: ${JSON.stringify(e.mark)}`);
    const { family, key } = mediaKey(e.tuple);
    const set = `element ${NFT_FAMILY} ${NFT_TABLE} ${MEDIA_MAPS[family]}`;
    const add = `add ${set} { ${key} timeout ${timeout}s : 0x${e.mark.toString(16).padStart(8, "0")} }`;
    if (mode === "refresh") lines.push(add);
    lines.push(`delete ${set} { ${key} }`, add);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}
