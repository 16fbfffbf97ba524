// The fake agent's application side: the real catalogue (protocols/apps/catalogue.json, as
// GET /v1/apps serves it), the iptables lines targeted rules would render to, and made-up
// per-app traffic for the stats samples.

import { loadAppCatalogue } from "@sluice/classifier";
import { ruleLabel, ruleTarget, type Policy } from "@sluice/policy";
import type { AppCatalogue, AppSample, CategorySample, ConnectionSample } from "@sluice/agent-contract";

/** GET /v1/apps from the repository's catalogue file. */
export function loadFakeAppCatalogue(): AppCatalogue {
  const c = loadAppCatalogue();
  return {
    apps: c.apps.map((a) => ({ id: a.id, name: a.name, title: a.title, category: a.category })),
    categories: c.categories.map((x) => ({ id: x.id, name: x.name, title: x.title })),
  };
}

const shiftOf = (mask: number) => (mask === 0 ? 0 : 31 - Math.clz32(mask & -mask));
const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/**
 * CLASSIFY lines for the rules that are not protocol rules: an app rule matches the app's id
 * in the app bits, a category rule one line per app of the category, a hostname rule its
 * 1-based position among the hostname rules in the host bits.
 */
export function targetedIptLines(
  p: Policy,
  apps: AppCatalogue | null,
  classId: (cls: string) => string,
): string[] {
  const { appMask, hostMask } = p.marks;
  const line = (value: number, mask: number, r: Policy["rules"][number], what = ruleLabel(r)) =>
    `-A SLUICE_POST -m mark --mark ${hex(value << shiftOf(mask))}/${hex(mask)} -j CLASSIFY --set-class ${classId(r.class)} -m comment --comment "${what} -> ${r.class}"`;
  const out: string[] = [];
  let host = 0;
  for (const r of p.rules) {
    const t = ruleTarget(r);
    if (t.kind === "hostname") out.push(line(++host, hostMask, r));
    else if (t.kind === "app") {
      const a = apps?.apps.find((x) => x.name === t.value);
      if (a) out.push(line(a.id, appMask, r));
    } else if (t.kind === "category")
      for (const a of apps?.apps.filter((x) => x.category === t.value) ?? [])
        out.push(line(a.id, appMask, r, `category ${t.value} (${a.name})`));
  }
  return out;
}

/** Which app and host name the fake connections of a protocol belong to. */
export const FAKE_CONNECTION_APPS: Record<string, { app: string; hostname: string }> = {
  ssl: { app: "youtube", hostname: "rr4---sn-fake.googlevideo.com" },
  quic: { app: "netflix", hostname: "ipv4-c001-fake.1.oca.nflxvideo.net" },
  http: { app: "windows-update", hostname: "download.windowsupdate.com" },
};

/** App, category and host name of a fake connection (null where the catalogue knows nothing). */
export function connectionApp(
  protocol: string,
  apps: AppCatalogue | null,
): Pick<ConnectionSample, "app" | "category" | "hostname"> {
  const known = FAKE_CONNECTION_APPS[protocol];
  const a = known && apps?.apps.find((x) => x.name === known.app);
  return a
    ? { app: a.name, category: a.category, hostname: known.hostname }
    : { app: null, category: null, hostname: null };
}

const TRAFFIC_APPS = ["youtube", "netflix", "steam", "zoom", "windows-update", "dropbox"];

/** Per-app and per-category samples: made-up rates, cumulative bytes kept in `counters`. */
export function fakeAppSamples(
  apps: AppCatalogue | null,
  phase: number,
  dt: number,
  counters: Map<string, { bytes: number; packets: number; drops: number }>,
): { apps: AppSample[]; categories: CategorySample[] } {
  if (!apps) return { apps: [], categories: [] };
  const out: AppSample[] = [];
  TRAFFIC_APPS.forEach((name, i) => {
    const a = apps.apps.find((x) => x.name === name);
    if (!a) return;
    const rateBps = Math.round((4e6 * (1.2 + Math.sin(phase / (6 + i) + i))) / (i + 1));
    const key = `app/${name}`;
    const k = counters.get(key) ?? { bytes: 0, packets: 0, drops: 0 };
    k.bytes += Math.round((rateBps * dt) / 8);
    k.packets += Math.round((rateBps * dt) / 8 / 1200);
    counters.set(key, k);
    out.push({
      app: a.name,
      title: a.title,
      category: a.category,
      bytes: k.bytes,
      packets: k.packets,
      rateBps,
      connections: 6 - i,
    });
  });
  out.sort((a, b) => b.rateBps - a.rateBps);
  const cats = new Map<string, CategorySample>();
  for (const a of out) {
    const title = apps.categories.find((c) => c.name === a.category)?.title ?? a.category;
    const c = cats.get(a.category) ?? { category: a.category, title, bytes: 0, rateBps: 0, connections: 0 };
    c.bytes += a.bytes;
    c.rateBps += a.rateBps;
    c.connections += a.connections;
    cats.set(a.category, c);
  }
  return { apps: out, categories: [...cats.values()].sort((a, b) => b.rateBps - a.rateBps) };
}
