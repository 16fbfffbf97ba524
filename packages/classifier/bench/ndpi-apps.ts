// Maps nDPI application names onto Sluice catalogue apps (protocols/apps/catalogue.json),
// for the application score of `npm run accuracy`. nDPI names a flow `MASTER.APP`
// (`TLS.YouTube`, `QUIC.Google`, `STUN.WhatsAppCall`); the APP part is looked up here, and
// when there is none, the master itself when it is an application (`WhatsApp`, `Zoom`).
// null: nDPI's name has no catalogue app (not scored, counted as "not in the catalogue").
// Decisions are documented in docs/accuracy.md.

import type { NdpiLabel } from "./ndpi-names.ts";

export const NDPI_APP_TO_SLUICE: Readonly<Record<string, string | null>> = {
  // video and audio
  YouTube: "youtube",
  YouTubeUpload: "youtube",
  NetFlix: "netflix",
  Twitch: "twitch",
  AmazonVideo: "prime-video",
  DisneyPlus: "disney-plus",
  TikTok: "tiktok",
  Hulu: "hulu",
  Vimeo: "vimeo",
  iQIYI: "iqiyi",
  Spotify: "spotify",
  Deezer: "deezer",
  SoundCloud: "soundcloud",
  Pandora: "pandora",
  LastFM: "lastfm",
  // calls and meetings
  Zoom: "zoom",
  Teams: "teams",
  Skype_Teams: "teams",
  Skype_TeamsCall: "teams",
  GoogleMeet: "google-meet",
  GoogleCall: "google-meet",
  Webex: "webex",
  Discord: "discord",
  AdobeConnect: "adobe-connect",
  Fuze: "fuze",
  // messaging
  WhatsApp: "whatsapp",
  WhatsAppCall: "whatsapp",
  WhatsAppFiles: "whatsapp",
  Telegram: "telegram",
  TelegramVoip: "telegram",
  Signal: "signal",
  Slack: "slack",
  FacebookMessenger: "messenger",
  FacebookVoip: "messenger",
  WeChat: "wechat",
  QQ: "qq",
  Viber: "viber",
  ViberVoip: "viber",
  Line: "line",
  // social
  Facebook: "facebook",
  Instagram: "instagram",
  Twitter: "twitter",
  Reddit: "reddit",
  Pinterest: "pinterest",
  LinkedIn: "linkedin",
  VK: "vk",
  Snapchat: "snapchat",
  SnapchatCall: "snapchat",
  Bluesky: "bluesky",
  Threads: "threads",
  // games
  Steam: "steam",
  SteamDatagramRelay: "steam",
  Dota2: "steam",
  Xbox: "xbox-live",
  Playstation: "playstation-network",
  Starcraft: "battle-net",
  WorldOfWarcraft: "battle-net",
  ElectronicArts: "ea",
  Activision: "activision",
  // updates and stores
  WindowsUpdate: "windows-update",
  PlayStore: "google-play",
  AppleiTunes: "apple-app-store",
  AppleStore: "apple-app-store",
  // storage
  Dropbox: "dropbox",
  GoogleDrive: "google-drive",
  GoogleDocs: "google-drive",
  MS_OneDrive: "onedrive",
  AppleiCloud: "icloud",
  // work
  Microsoft365: "microsoft-365",
  Outlook: "microsoft-365",
  GMail: "gmail",
  Github: "github",
  GitLab: "gitlab",
  // web and infrastructure
  Google: "google",
  GoogleServices: "google",
  GoogleMaps: "google",
  GoogleChat: "google",
  GoogleClassroom: "google",
  DataSaver: "google",
  Amazon: "amazon",
  AmazonAlexa: "amazon",
  AmazonAWS: "aws",
  Microsoft: "microsoft",
  Azure: "azure",
  Apple: "apple",
  ApplePush: "apple",
  AppleSiri: "apple",
  Wikipedia: "wikipedia",
  eBay: "ebay",
  Yandex: "yandex",
  YandexCloud: "yandex",
  YandexDisk: "yandex",
  YandexMetrika: "yandex",
  YandexDirect: "yandex",
  YandexMusic: "yandex",
  YandexMarket: "yandex",
  YandexMail: "yandex",
  Cloudflare: "cloudflare",
  // VPN, remote access, P2P
  NordVPN: "nordvpn",
  SurfShark: "surfshark",
  Mullvad: "mullvad",
  Tailscale: "tailscale",
  AnyDesk: "anydesk",
  TeamViewer: "teamviewer",
  BitTorrent: "bittorrent",
};

export interface AppExpectation {
  /** The nDPI application name the expectation comes from. */
  ndpi: string;
  /** The catalogue app Sluice should say, or null when the catalogue has none. */
  app: string | null;
  /** The flow is a DNS lookup (`DNS.X`): scored on the queried name, not the flow's app. */
  dnsLookup: boolean;
}

/** What app Sluice should give a labelled flow; null when nDPI names no application. */
export function expectedApp(label: Pick<NdpiLabel, "master" | "app">): AppExpectation | null {
  const ndpi = label.app ?? (label.master in NDPI_APP_TO_SLUICE ? label.master : null);
  if (ndpi === null) return null;
  const app = NDPI_APP_TO_SLUICE[ndpi];
  return { ndpi, app: app ?? null, dnsLookup: label.master === "DNS" };
}
