// Related connections on the box: the kernel's conntrack helpers read the control
// connections (FTP commands and replies, SIP's SDP, TFTP requests) and expect the
// connection they announce. Current kernels assign no helper on their own: Sluice's
// nftables table assigns one per control port (`ct helper set`), and conntrack gives the
// expected connection its control connection's mark at its first packet. A prerouting rule
// then sets the related protocol in the protocol field (ftp-data, rtp, tftp), after
// conntrack (priority -200) and before the same chain restores the mark, so the new connection
// is decided before it reaches the queue and keeps the control connection's app and
// hostname-rule fields. Without a rule of its own, ftp-data follows ftp's rule and rtp
// sip's (@sluice/policy related.ts).

import type { HelperType } from "../kernel/capabilities.ts";

export interface HelperSpec {
  /** The nftables `ct helper` object's name. */
  name: string;
  type: HelperType;
  l4: "tcp" | "udp";
  /** The control connection's server port. */
  port: number;
}

/** Where the control connections are: the helpers' standard ports. */
export const HELPER_SPECS: readonly HelperSpec[] = [
  { name: "ftp", type: "ftp", l4: "tcp", port: 21 },
  { name: "tftp", type: "tftp", l4: "udp", port: 69 },
  { name: "sip", type: "sip", l4: "udp", port: 5060 },
  { name: "sip-tcp", type: "sip", l4: "tcp", port: 5060 },
];

/** The protocol a related connection gets, by the helper that expected it. */
export const RELATED_BY_HELPER: Readonly<Record<HelperType, string>> = {
  ftp: "ftp-data",
  sip: "rtp",
  tftp: "tftp",
};
