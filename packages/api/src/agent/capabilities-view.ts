// The kernel capabilities as an admin reads them: what is used, and which fallback is in
// use and why ("leaves: pfifo (sch_sfq missing)").

import type { AgentStatus } from "@sluice/agent-contract";

export interface CapabilityLine {
  label: string;
  value: string;
  /** A fallback is in use. */
  fallback: boolean;
}

export function capabilityLines(s: AgentStatus): CapabilityLine[] {
  const c = s.capabilities;
  const v = s.variant;
  const leafWhy = !c.qdiscs.sfq
    ? c.qdiscs.fq_codel
      ? "sch_sfq missing"
      : "sch_sfq and sch_fq_codel missing"
    : "";
  const lines: CapabilityLine[] = [
    { label: "leaves", value: leafWhy ? `${v.leaf} (${leafWhy})` : v.leaf, fallback: !!leafWhy },
    {
      label: "marks → classes",
      value:
        v.filter === "nft"
          ? "nftables maps"
          : v.filter === "fw"
            ? "tc fw filter (nftables missing)"
            : `CLASSIFY (nftables${c.classifiers.fw ? "" : " and cls_fw"} missing)`,
      fallback: v.filter !== "nft",
    },
    {
      label: "IPv6",
      value: v.ipv6
        ? "classified and shaped"
        : "shaped, not classified (ip6tables lacks NFQUEUE/CONNMARK/connbytes)",
      fallback: !v.ipv6,
    },
    {
      label: "download via IFB",
      value:
        c.actions.connmark && c.actions.mirred && c.links.ifb
          ? "available"
          : `not available (${[!c.actions.connmark && "act_connmark", !c.actions.mirred && "act_mirred", !c.links.ifb && "ifb"].filter(Boolean).join(", ")} missing)`,
      fallback: !(c.actions.connmark && c.actions.mirred && c.links.ifb),
    },
    {
      label: "related connections",
      value: v.helpers.length
        ? `followed by the conntrack helpers ${v.helpers.join(", ")}${v.helpers.length < 3 ? " (others missing)" : ""}`
        : `not followed (${c.nftables ? "no conntrack helper" : "nftables missing"}): FTP data and SIP media are classified on their own`,
      fallback: v.helpers.length < 3,
    },
    {
      label: "sharing among hosts",
      value:
        v.hostFair === "sfq-flow"
          ? "SFQ hashed by host (cls_flow)"
          : v.hostFair === "htb-buckets"
            ? `HTB buckets picked in nftables (${!c.qdiscs.sfq ? "sch_sfq" : "cls_flow"} missing)`
            : "not available (sch_sfq/cls_flow and nftables missing): classes share per flow, no device rules",
      fallback: v.hostFair !== "sfq-flow",
    },
  ];
  return lines;
}
