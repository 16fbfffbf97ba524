// Related connections: a control connection announces a connection to come (an FTP data
// connection, the RTP media of a SIP call), and that connection gets a protocol of its own
// (`ftp-data`, `rtp`). Without a rule of its own it follows its control protocol's rule, so
// an FTP download lands where the FTP session does unless a rule says otherwise.

/** Related protocol → the control protocol whose rule it follows when it has none. */
export const RELATED_CONTROL: Readonly<Record<string, string>> = Object.freeze({
  "ftp-data": "ftp",
  rtp: "sip",
});

/** The control protocol a related protocol follows, or undefined. */
export function controlProtocolOf(protocol: string): string | undefined {
  return Object.hasOwn(RELATED_CONTROL, protocol) ? RELATED_CONTROL[protocol] : undefined;
}
