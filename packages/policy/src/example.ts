// The default policy a new box starts with: interactive and VoIP first, then web, then
// bulk transfers, with P2P and background traffic last. Rates fit a 20 Mbit/s link; the
// dashboard's first-run settings scale them to the real link.

import type { PolicyInput } from "./schema.ts";

export function defaultPolicy(
  opts: { wan?: string; lan?: string; uplink?: string; downlink?: string } = {},
): PolicyInput {
  const up = opts.uplink ?? "20mbit";
  const down = opts.downlink ?? "20mbit";
  const tree = (link: string) => {
    const bps = Number(/^\d+/.exec(link)?.[0] ?? 20);
    const unit = link.replace(/^\d+/, "") || "mbit";
    const part = (pct: number) =>
      `${Math.max(1, Math.floor((bps * 1000 * pct) / 100))}${unit === "mbit" ? "kbit" : unit === "gbit" ? "mbit" : "bit"}`;
    return [
      {
        name: "interactive",
        rate: part(20),
        ceil: link,
        priority: 0,
        description: "SSH, DNS, VoIP, games: low latency",
      },
      { name: "web", rate: part(35), ceil: link, priority: 1, description: "browsing, TLS, QUIC" },
      { name: "bulk", rate: part(15), ceil: link, priority: 4, description: "downloads, backups, mail" },
      { name: "p2p", rate: part(5), ceil: part(50), priority: 6, description: "BitTorrent and other P2P" },
      {
        name: "default",
        rate: part(25),
        ceil: link,
        priority: 3,
        default: true,
        description: "everything else",
      },
    ];
  };
  return {
    version: 1,
    name: "default",
    interfaces: {
      wan: { device: opts.wan ?? "wan0", rate: up },
      lan: { device: opts.lan ?? "lan0", rate: down },
    },
    classes: { upload: tree(up), download: tree(down) },
    rules: [
      { protocol: "ssh", class: "interactive" },
      { protocol: "dns", class: "interactive" },
      { protocol: "rtp", class: "interactive" },
      { protocol: "sip", class: "interactive" },
      { protocol: "stun", class: "interactive" },
      { protocol: "http", class: "web" },
      { protocol: "ssl", class: "web" },
      { protocol: "quic", class: "web" },
      { protocol: "ftp", class: "bulk" },
      { protocol: "rsync", class: "bulk" },
      { protocol: "smtp", class: "bulk" },
      { protocol: "bittorrent", class: "p2p" },
      { protocol: "gnutella", class: "p2p" },
      { protocol: "edonkey", class: "p2p" },
      { protocol: "unset", class: "default" },
      { protocol: "unknown", class: "default" },
    ],
  };
}

/**
 * The pattern-set protocols the default policy's rules name (not the reserved "unset" and
 * "unknown"), in rule order: what a pattern set must hold for the default policy to validate.
 */
export function defaultPolicyProtocols(): string[] {
  return (defaultPolicy().rules ?? []).flatMap((r) =>
    "protocol" in r && r.protocol && r.protocol !== "unset" && r.protocol !== "unknown" ? [r.protocol] : [],
  );
}
