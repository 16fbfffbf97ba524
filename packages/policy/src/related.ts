// Related connections: a control connection announces a connection to come (an FTP data
// connection, the RTP media of a SIP call or an RTSP session), and that connection gets a
// protocol of its own (`ftp-data`, `rtp`). Without a rule of its own it follows its control
// protocol's rule, so an FTP download lands where the FTP session does unless a rule says
// otherwise. RTP has two control protocols: the mark says only `rtp`, so it follows sip's
// rule when there is one, else rtsp's.

/** Related protocol → the control protocols whose rule it follows when it has none, in order. */
export const RELATED_CONTROL: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "ftp-data": ["ftp"],
  rtp: ["sip", "rtsp"],
});

/** The control protocols a related protocol follows, first first ([] for others). */
export function controlProtocolsOf(protocol: string): readonly string[] {
  return Object.hasOwn(RELATED_CONTROL, protocol) ? RELATED_CONTROL[protocol]! : [];
}

/** The first control protocol a related protocol follows, or undefined. */
export function controlProtocolOf(protocol: string): string | undefined {
  return controlProtocolsOf(protocol)[0];
}
