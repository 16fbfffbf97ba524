// What this kernel (and its iptables/tc) can do, as found by the probe at start, and the
// renderer variants that follow from it. Sluice never assumes: the appliance kernel has
// everything, CI kernels often lack sch_sfq or cls_fw, and the fallbacks say so.

import { hostFairMethod, type HostFairMethod, type HostFeatures } from "@sluice/policy";
import { HOST_BUCKETS } from "../render/hosts-model.ts";

export interface Capabilities {
  qdiscs: { htb: boolean; sfq: boolean; fq_codel: boolean; cake: boolean; pfifo: boolean; ingress: boolean };
  /** flow: cls_flow (SFQ hashed by host, `flow hash keys dst`). */
  classifiers: { fw: boolean; u32: boolean; matchall: boolean; flow: boolean };
  actions: { connmark: boolean; mirred: boolean };
  links: { ifb: boolean };
  iptables: {
    NFQUEUE: boolean;
    CONNMARK: boolean;
    CLASSIFY: boolean;
    connbytes: boolean;
    mark: boolean;
    comment: boolean;
  };
  ip6tables: {
    NFQUEUE: boolean;
    CONNMARK: boolean;
    CLASSIFY: boolean;
    connbytes: boolean;
    mark: boolean;
    comment: boolean;
  };
  /**
   * nf_tables through the `nft` tool: a table with named counters, a mark → counter map,
   * a mark → classid map (`meta priority set`) and a postrouting base chain, all tried.
   */
  nftables: boolean;
  /**
   * The kernel's conntrack helpers, each assigned for real from an nftables `ct helper`
   * object (nf_conntrack_ftp, _sip, _tftp): they follow related connections (FTP data,
   * SIP media, TFTP transfers) for the renderer's prerouting chain (render/nft.ts).
   */
  ctHelpers: Record<HelperType, boolean>;
  /**
   * nftables maps keyed by address . port . address . port with per-element timeouts, read
   * by a prerouting rule: Sluice's own RTSP expectation table (render/rtsp-media.ts).
   * Absent (older probes): taken to be there with nftables.
   */
  rtspMaps?: boolean;
  /** When the probe ran (ISO time) and where (kernel release). */
  probedAt: string;
  kernel: string;
}

/** The conntrack helpers Sluice assigns (see render/helpers.ts). */
export const HELPER_TYPES = ["ftp", "sip", "tftp"] as const;
export type HelperType = (typeof HELPER_TYPES)[number];

export type LeafKind = "sfq" | "fq_codel" | "cake" | "pfifo";
export type FilterMethod = "nft" | "fw" | "CLASSIFY";
export type AccountingMethod = "nft" | "iptables";
/** How a class with `fairness: host` shares among hosts (see @sluice/policy hostFairMethod). */
export type HostFairVariant = HostFairMethod | "none";

export interface Variant {
  /** Leaf qdisc for classes whose policy says `auto`. */
  leaf: LeafKind;
  /**
   * How a mark becomes a class: nftables maps (one lookup per mark field), tc `fw` filters,
   * or the iptables CLASSIFY target (a linear chain).
   */
  filter: FilterMethod;
  /** Per protocol/app byte counters: nftables named counters behind one map lookup, or one
   * iptables rule per protocol and per app (a linear chain every packet walks). */
  accounting: AccountingMethod;
  /** cls_fw is there: a download IFB (no netfilter on its path) gets fw filters. */
  fw: boolean;
  ipv6: boolean;
  /** Conntrack helpers the nftables table assigns (related connections followed). */
  helpers: HelperType[];
  /** RTSP media followed by Sluice's own expectation table (nftables maps with timeouts). */
  rtspMedia: boolean;
  /** Per-host fairness: SFQ hashed by host (sch_sfq + cls_flow), per-host HTB buckets
   * picked in nftables, or none (a class then shares per flow). */
  hostFair: HostFairVariant;
  /** Human notes on fallbacks in use (shown in the UI and script headers). */
  notes: string[];
}

export function chooseVariant(c: Capabilities): Variant {
  const notes: string[] = [];
  let leaf: LeafKind;
  if (c.qdiscs.sfq) leaf = "sfq";
  else if (c.qdiscs.fq_codel) {
    leaf = "fq_codel";
    notes.push("sch_sfq missing: leaves use fq_codel (per-flow fairness kept)");
  } else {
    leaf = "pfifo";
    notes.push("sch_sfq and fq_codel missing: leaves use pfifo (no per-flow fairness inside a class)");
  }
  let filter: FilterMethod = "nft";
  if (!c.nftables) {
    notes.push(
      "nftables missing: per-protocol and per-app bytes are counted by one iptables rule each (a linear chain per packet)",
    );
    filter = "fw";
    if (!c.classifiers.fw) {
      filter = "CLASSIFY";
      notes.push("nftables and cls_fw missing: marks map to classes with the iptables CLASSIFY target");
    }
  }
  const accounting: AccountingMethod = c.nftables ? "nft" : "iptables";
  const ipv6 = c.ip6tables.NFQUEUE && c.ip6tables.CONNMARK && c.ip6tables.connbytes && c.ip6tables.mark;
  if (!ipv6) notes.push("ip6tables lacks NFQUEUE/CONNMARK/connbytes: IPv6 is shaped but not classified");
  const helpers = c.nftables ? HELPER_TYPES.filter((h) => c.ctHelpers[h]) : [];
  if (!c.nftables)
    notes.push(
      "nftables missing: related connections (FTP data, SIP and RTSP media, TFTP transfers) are not followed and are classified on their own",
    );
  else
    for (const h of HELPER_TYPES.filter((x) => !c.ctHelpers[x]))
      notes.push(`conntrack helper ${h} missing: its related connections are classified on their own`);
  const hostFair = hostFairMethod(hostFeatures(c), false) ?? "none";
  if (hostFair === "htb-buckets")
    notes.push(
      `sch_sfq or cls_flow missing: a class shared among hosts gets ${HOST_BUCKETS} HTB bucket classes, picked by address in nftables`,
    );
  else if (hostFair === "none")
    notes.push("sch_sfq/cls_flow and nftables missing: classes cannot share among hosts, nor limit devices");
  const rtspMedia = c.nftables && c.rtspMaps !== false;
  if (c.nftables && !rtspMedia)
    notes.push(
      "nftables lacks concatenated maps with timeouts: RTSP media is not followed and is classified on its own",
    );
  return { leaf, filter, accounting, fw: c.classifiers.fw, ipv6, helpers, rtspMedia, hostFair, notes };
}

/** What the policy's kernel-fit check needs to know about host fairness and device rules. */
export function hostFeatures(c: Capabilities): HostFeatures {
  return { sfqFlow: c.qdiscs.sfq && c.classifiers.flow, nftables: c.nftables };
}

/** Every capability present: the appliance kernel, and the golden files' reference. */
export const FULL_CAPABILITIES: Capabilities = {
  qdiscs: { htb: true, sfq: true, fq_codel: true, cake: true, pfifo: true, ingress: true },
  classifiers: { fw: true, u32: true, matchall: true, flow: true },
  actions: { connmark: true, mirred: true },
  links: { ifb: true },
  iptables: { NFQUEUE: true, CONNMARK: true, CLASSIFY: true, connbytes: true, mark: true, comment: true },
  ip6tables: { NFQUEUE: true, CONNMARK: true, CLASSIFY: true, connbytes: true, mark: true, comment: true },
  nftables: true,
  ctHelpers: { ftp: true, sip: true, tftp: true },
  probedAt: "2026-01-01T00:00:00.000Z",
  kernel: "reference",
};

/** Every capability but nftables (no `nft` tool): fw filters and iptables accounting. */
export const LEGACY_CAPABILITIES: Capabilities = {
  ...FULL_CAPABILITIES,
  nftables: false,
  kernel: "reference-legacy",
};

/** What this CI kernel has: no sch_sfq, cls_fw, cls_flow, fq_codel, cake, act_connmark, matchall. */
export const MINIMAL_CAPABILITIES: Capabilities = {
  ...FULL_CAPABILITIES,
  qdiscs: { htb: true, sfq: false, fq_codel: false, cake: false, pfifo: true, ingress: true },
  classifiers: { fw: false, u32: true, matchall: false, flow: false },
  actions: { connmark: false, mirred: true },
  kernel: "reference-minimal",
};

export function capabilitySummary(c: Capabilities, v: Variant): string[] {
  const yes = (o: Record<string, boolean>) =>
    Object.entries(o)
      .filter(([, b]) => b)
      .map(([k]) => k)
      .join(",") || "none";
  const no = (o: Record<string, boolean>) =>
    Object.entries(o)
      .filter(([, b]) => !b)
      .map(([k]) => k)
      .join(",") || "none";
  return [
    `kernel ${c.kernel}, probed ${c.probedAt}`,
    `qdiscs: ${yes(c.qdiscs)} (missing: ${no(c.qdiscs)}); classifiers: ${yes(c.classifiers)} (missing: ${no(c.classifiers)})`,
    `iptables: ${yes(c.iptables)}; ip6tables: ${yes(c.ip6tables)}`,
    `nftables: ${c.nftables ? "yes" : "no"}; conntrack helpers: ${yes(c.ctHelpers)} (missing: ${no(c.ctHelpers)})`,
    `variant: leaf=${v.leaf} filter=${v.filter} accounting=${v.accounting} ipv6=${v.ipv6 ? "classified" : "shaped only"} related=${[...v.helpers, ...(v.rtspMedia ? ["rtsp"] : [])].join(",") || "none"}`,
    ...v.notes.map((n) => `fallback: ${n}`),
  ];
}
