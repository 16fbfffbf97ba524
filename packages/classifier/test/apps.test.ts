// The application catalogue (protocols/apps/catalogue.json): it loads, covers the
// applications that matter for QoS, and its matcher follows the documented order (host
// suffix or a more specific glob, then protocol, address range, port).

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  loadAppCatalogue,
  parseAppCatalogue,
  matchHostnameGlob,
  isHostnameGlob,
  CatalogueError,
  classifyPayloads,
  loadPatternDirs,
  buildClientHello,
  tlsRecords,
  DEFAULT_CATALOGUE_PATH,
} from "../src/index.ts";
import { dirname, join } from "node:path";

const cat = loadAppCatalogue();

test("the repository's catalogue loads: >= 60 apps in every QoS category, stable unique ids", () => {
  assert.ok(cat.size >= 60, `only ${cat.size} apps`);
  const need: Record<string, string[]> = {
    "video-streaming": ["youtube", "netflix", "twitch", "prime-video", "disney-plus", "tiktok"],
    conferencing: ["zoom", "teams", "google-meet", "webex", "facetime", "discord"],
    messaging: ["whatsapp", "telegram", "signal", "slack"],
    gaming: ["steam", "epic-games", "xbox-live", "playstation-network", "battle-net"],
    "software-updates": ["windows-update", "apple-updates", "ubuntu", "debian"],
    "cloud-storage": ["dropbox", "google-drive", "onedrive", "icloud", "backblaze"],
    social: ["facebook", "instagram", "twitter", "reddit"],
  };
  for (const [category, names] of Object.entries(need)) {
    for (const n of names) assert.equal(cat.app(n)?.category, category, `${n} should be in ${category}`);
  }
  const ids = cat.apps.map((a) => a.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(cat.appMarkOf("youtube"), 1);
  assert.equal(cat.categoryMarkOf("video-streaming"), 1);
  assert.equal(cat.appById(30)?.name, "zoom");
});

test("host names: the longest suffix wins, a more specific glob beats a shorter suffix", () => {
  const m = (h: string) => cat.matchHostname(h)?.app.name ?? null;
  assert.equal(m("r3---sn-vh5ouxa-hjud.googlevideo.com"), "youtube");
  assert.equal(m("youtubei.googleapis.com"), "youtube"); // beats googleapis.com (google)
  assert.equal(m("safebrowsing.googleapis.com"), "google");
  assert.equal(m("WWW.NETFLIX.COM."), "netflix");
  assert.equal(m("music.amazon.de"), "amazon-music"); // glob music.amazon.* beats amazon.de
  assert.equal(m("www.amazon.de"), "amazon");
  assert.equal(m("teams-msgapi.trafficmanager.net"), "teams");
  assert.equal(m("foo.trafficmanager.net"), "azure");
  // Globs are tried only on names ending as they do; the regex still decides the rest.
  assert.equal(m("audio-ak-spotify-com.akamaized.net"), "spotify");
  assert.equal(m("audio-ak-spotify-com.akamaized.net.example.org"), null);
  assert.equal(m("epicgames-download.example.akamaized.net"), null);
  assert.equal(m("www.google.co.uk"), "google");
  assert.equal(m("notgoogle.com"), null); // a suffix matches whole labels only
  assert.equal(m("example.invalid"), null);
});

test("flows: hostname, then protocol, then address range, then port; `only` limits the last two", () => {
  const f = (o: Partial<Parameters<typeof cat.match>[0]>) =>
    cat.match({ hostname: null, protocol: "unknown", l4: "udp", serverIp: "192.0.2.1", serverPort: 9, ...o });
  assert.equal(f({ hostname: "zoom.us", protocol: "ssl" })?.by, "hostname");
  assert.equal(f({ protocol: "whatsapp" })?.app.name, "whatsapp");
  assert.equal(f({ protocol: "whatsapp" })?.by, "protocol");
  assert.equal(f({ serverIp: "170.114.10.1" })?.app.name, "zoom");
  assert.equal(f({ serverIp: "149.154.167.51", protocol: "ssl", l4: "tcp" })?.app.name, "telegram");
  assert.equal(f({ serverIp: "2001:67c:4e8:f004::a" })?.app.name, "telegram");
  assert.equal(f({ serverPort: 8801 })?.app.name, "zoom");
  assert.equal(f({ serverPort: 8801, l4: "tcp" }), null);
  // Meta's ranges mean WhatsApp only for call media (stun/rtp/dtls), not for TLS.
  assert.equal(f({ serverIp: "157.240.21.51", protocol: "stun" })?.app.name, "whatsapp");
  assert.equal(f({ serverIp: "157.240.21.51", protocol: "ssl", l4: "tcp", serverPort: 443 }), null);
});

test("address ranges: the narrowest wins, wide ones span first octets, IPv6 by prefix", () => {
  const c = parseAppCatalogue({
    version: 1,
    categories: [{ id: 1, name: "video", title: "Video" }],
    apps: [
      { id: 1, name: "wide", category: "video", addresses: ["64.0.0.0/2", "::/8"] },
      { id: 2, name: "narrow", category: "video", addresses: ["100.64.0.0/10", "2001:db8::/32"] },
      { id: 3, name: "one", category: "video", addresses: ["127.0.0.1/32", "fe80::1/128"] },
    ],
  });
  const f = (serverIp: string) =>
    c.match({ hostname: null, protocol: "unknown", l4: "tcp", serverIp, serverPort: 1 })?.app.name ?? null;
  assert.equal(f("64.0.0.1"), "wide");
  assert.equal(f("127.255.255.255"), "wide");
  assert.equal(f("127.0.0.1"), "one");
  assert.equal(f("100.100.0.1"), "narrow");
  assert.equal(f("100.128.0.1"), "wide");
  assert.equal(f("128.0.0.1"), null);
  assert.equal(f("63.255.255.255"), null);
  assert.equal(f("2001:DB8:1::5"), "narrow");
  assert.equal(f("2001:db9::5"), null);
  assert.equal(f("::1"), "wide");
  assert.equal(f("0:0::1"), "wide");
  assert.equal(f("fe80::1"), "one");
  assert.equal(f("fe80::2"), null);
  // Only ranges of 16 bits or more have a head: a /8 lets any head through to the parse.
  assert.equal(f("ff:1::1"), "wide");
  assert.equal(f("not::an:address:x"), null);
  // Every IPv6 range 16 bits or longer: the first group gates the parse.
  const d = parseAppCatalogue({
    version: 1,
    categories: [{ id: 1, name: "video", title: "Video" }],
    apps: [{ id: 1, name: "v6", category: "video", addresses: ["2001:db8::/32", "fe80::1/128"] }],
  });
  const g = (serverIp: string) =>
    d.match({ hostname: null, protocol: "unknown", l4: "tcp", serverIp, serverPort: 1 })?.app.name ?? null;
  assert.equal(g("2001:db8::1"), "v6");
  assert.equal(g("FE80:0::1"), "v6");
  assert.equal(g("::1"), null);
  assert.equal(g("2001:db9::1"), null);
  assert.equal(g("12001:db8::1"), null);
});

test("globs: * within a label, a leading *. for one or more labels", () => {
  assert.ok(matchHostnameGlob("*.example.com", "a.b.example.com"));
  assert.ok(!matchHostnameGlob("*.example.com", "example.com"));
  assert.ok(matchHostnameGlob("cdn*.example.*", "cdn7.example.org"));
  assert.ok(!matchHostnameGlob("cdn*.example.*", "cdn7.x.example.org"));
  assert.ok(isHostnameGlob("*.example.com") && !isHostnameGlob("a..b") && !isHostnameGlob("**.x"));
});

test("a bad catalogue is refused with the app and the reason", () => {
  const base = { version: 1, categories: [{ id: 1, name: "video", title: "Video" }] };
  const bad = (apps: unknown[], re: RegExp) =>
    assert.throws(
      () => parseAppCatalogue({ ...base, apps }),
      (e: Error) => e instanceof CatalogueError && re.test(e.message),
    );
  bad(
    [
      { id: 1, name: "a", category: "video" },
      { id: 1, name: "b", category: "video" },
    ],
    /apps\[1\] \(b\): id 1 is also a's/,
  );
  bad([{ id: 1, name: "a", category: "nope" }], /category "nope"/);
  bad([{ id: 1, name: "a", category: "video", hosts: ["bad host"] }], /not a host name suffix/);
  bad([{ id: 1, name: "a", category: "video", addresses: ["10.0.0.0/33"] }], /not an address range/);
  bad([{ id: 1, name: "a", category: "video", ports: ["sctp/5"] }], /not a port rule/);
  bad(
    [
      { id: 1, name: "a", category: "video", hosts: ["x.com"] },
      { id: 2, name: "b", category: "video", hosts: ["x.com"] },
    ],
    /host "x.com" is also listed by a/,
  );
  assert.throws(() => loadAppCatalogue("/nonexistent/catalogue.json"), /cannot read: ENOENT/);
  assert.equal(dirname(DEFAULT_CATALOGUE_PATH).endsWith(join("protocols", "apps")), true);
});

test("through the flow table: an SNI gives app and category with their stable ids", () => {
  const set = loadPatternDirs([join(dirname(DEFAULT_CATALOGUE_PATH), "..")]);
  const f = classifyPayloads(
    set,
    "tcp",
    [{ dir: "c2s", payload: tlsRecords(buildClientHello({ sni: "www.twitch.tv" })) }],
    {
      apps: cat,
    },
  );
  assert.deepEqual(
    [f.protocol, f.hostname, f.app, f.appId, f.appSource, f.category, f.categoryId],
    ["ssl", "www.twitch.tv", "twitch", 3, "hostname", "video-streaming", 1],
  );
  const dnsFlow = classifyPayloads(
    set,
    "udp",
    [
      {
        dir: "c2s",
        payload: Buffer.from("12340100000100000000000003777777067477697463680274760000010001", "hex"),
      },
    ],
    { apps: cat },
  );
  assert.equal(dnsFlow.protocol, "dns");
  assert.equal(dnsFlow.hostname, "www.twitch.tv");
  assert.equal(dnsFlow.app, null); // a lookup is not the application's traffic
});
