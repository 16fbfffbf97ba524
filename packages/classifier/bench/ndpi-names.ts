// Maps nDPI protocol names onto Sluice pattern names, for scoring Sluice against the
// nDPI-labelled corpus (`npm run accuracy`). The decisions are documented in docs/accuracy.md.
//
// nDPI names a flow `MASTER` or `MASTER.APP` (e.g. `TLS.YouTube`, `DNS.Google`). The master is
// the wire protocol, the app is who it talks to; Sluice classifies wire protocols, so the
// master decides. A few nDPI masters describe a layer that an l7-filter style classifier,
// looking only at the first packets of a flow, sees as something else (STARTTLS mail is
// plaintext IMAP/POP3/SMTP/FTP first; a WebRTC DTLS or SRTP flow starts with a STUN
// exchange): for those a second Sluice name is accepted as right too.

/** One flow as the corpus labels it (`labels/NAME.json`). */
export interface NdpiLabel {
  l4: string;
  a: string;
  b: string;
  proto: string;
  master: string;
  app: string | null;
  confidence: string;
  hostname?: string | null;
}

export interface Expectation {
  /** The Sluice name the flow should get. */
  name: string;
  /** Other Sluice names that are also right for this flow (see the header comment). */
  also: readonly string[];
}

/**
 * nDPI master -> Sluice pattern name; null means Sluice has no equivalent (not covered).
 * Masters absent from this table are treated as not covered too.
 */
export const NDPI_MASTER_TO_SLUICE: Readonly<Record<string, string | null>> = {
  // web
  HTTP: "http",
  HTTP_Proxy: "http", // a request in absolute form to a proxy is plain HTTP on the wire
  HTTP_Connect: "httpconnect",
  HTTP2: "http2",
  WebSocket: "websocket",
  TLS: "ssl",
  DoH_DoT: "ssl", // DNS inside TLS: the wire protocol is TLS
  ApplePush: "ssl", // APNs is TLS on port 5223
  QUIC: "quic",
  SOCKS: "socks",
  // mail and news
  SMTP: "smtp",
  SMTPS: "ssl",
  POP3: "pop3",
  POPS: "ssl",
  IMAP: "imap",
  IMAPS: "ssl",
  Usenet: "nntp",
  // remote access
  SSH: "ssh",
  Telnet: "telnet",
  RDP: "rdp",
  VNC: "vnc",
  // files
  FTP_CONTROL: "ftp",
  FTPS: "ssl",
  FTP_DATA: "ftp-data", // told by its control connection (PORT/PASV/EPRT/EPSV)
  SMBv23: "smb",
  NetBIOS: "netbios",
  RSYNC: "rsync",
  TFTP: "tftp",
  NFS: "nfs",
  Git: "git",
  // names, time, addresses
  DNS: "dns",
  MDNS: "mdns",
  LLMNR: "llmnr",
  NTP: "ntp",
  DHCP: "dhcp",
  DHCPV6: "dhcpv6",
  "NAT-PMP": "natpmp",
  // directory and authentication
  LDAP: "ldap",
  Kerberos: "kerberos",
  RADIUS: "radius",
  // databases
  MySQL: "mysql",
  PostgreSQL: "postgres",
  RESP: "redis",
  Memcached: "memcached",
  MongoDB: "mongodb",
  "MsSQL-TDS": "mssql",
  Kafka: "kafka",
  Elasticsearch: "elasticsearch",
  // messaging, voice, video
  SIP: "sip",
  RTSP: "rtsp",
  RTP: "rtp",
  SRTP: "rtp",
  STUN: "stun",
  DTLS: "dtls",
  IRC: "irc",
  Jabber: "jabber",
  MQTT: "mqtt",
  AMQP: "amqp",
  H323: "h323",
  MGCP: "mgcp",
  WhatsApp: "whatsapp",
  Discord: "discord",
  Telegram: "telegram",
  Spotify: "spotify",
  Dropbox: "dropbox",
  TeamSpeak: "teamspeak",
  COAP: "coap",
  Megaco: null,
  IAX: null,
  CiscoSkinny: null,
  RTMP: null,
  Zoom: null,
  Viber: null,
  TeamViewer: null,
  Skype_TeamsCall: null,
  Webex: null,
  // VPN
  OpenVPN: "openvpn",
  WireGuard: "wireguard",
  IPSec: "ipsec",
  PPTP: "pptp",
  Tailscale: null,
  CiscoVPN: null,
  // peer to peer
  BitTorrent: "bittorrent",
  Gnutella: "gnutella",
  eDonkey: "edonkey",
  // management
  SNMP: "snmp",
  Syslog: "syslog",
  SSDP: "ssdp",
  WSD: "wsd",
  // not TCP or UDP payload at all
  ICMP: null,
  ICMPV6: null,
  IGMP: null,
  // games and the rest
  Steam: null,
  SteamDatagramRelay: null,
  Starcraft: null,
  BACnet: null,
  AJP: null,
  Google: null,
  AmazonAWS: null,
  Unknown: null,
};

/** Extra Sluice names accepted as right, by nDPI master or by full `MASTER.APP` name. */
export const ALSO_ACCEPTED: Readonly<Record<string, readonly string[]>> = {
  // Mail and FTP "S" masters are either implicit TLS (-> ssl) or STARTTLS, whose first
  // packets are the plaintext protocol.
  SMTPS: ["smtp"],
  POPS: ["pop3"],
  IMAPS: ["imap"],
  FTPS: ["ftp"],
  // NetBIOS: the classic l7-filter set calls the name service "nbns"; nDPI files SMB over
  // the NetBIOS session and datagram services under NetBIOS too.
  NetBIOS: ["nbns", "smb"],
  // WebRTC: nDPI names the flow after what follows the STUN connectivity checks.
  DTLS: ["stun"],
  SRTP: ["stun"],
  // RDP negotiates TLS inside its X.224 connection request: the first bytes are RDP.
  "TLS.RDP": ["rdp"],
  // nDPI names an HTTP flow after the application it recognises by host name even when
  // the request is a WebSocket upgrade, a BitTorrent tracker announce or a Gnutella
  // download; Sluice's more specific pattern is right too.
  HTTP: ["websocket"],
  "HTTP.BitTorrent": ["bittorrent"],
  "HTTP.Gnutella": ["gnutella"],
};

/** What Sluice should say for an nDPI-labelled flow, or null when Sluice has no equivalent. */
export function expectedSluiceName(label: Pick<NdpiLabel, "master" | "proto">): Expectation | null {
  const name = NDPI_MASTER_TO_SLUICE[label.master];
  if (name === undefined || name === null) return null;
  const also = [...(ALSO_ACCEPTED[label.master] ?? []), ...(ALSO_ACCEPTED[label.proto] ?? [])];
  return { name, also };
}
