// Writes the appliance's initial policy template: packages/policy's default policy with the
// placeholders __WAN__ and __LAN__ for the device names, which the first-boot script replaces
// with the detected ports. Validated here (with sample names and the shipped pattern set's
// protocol names) so a policy the agent would refuse never reaches an image.
//
// usage: node initial-policy.ts REPO > initial-policy.template.json

import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as PolicyPkg from "../../../packages/policy/src/index.ts";

const repo = resolve(process.argv[2] ?? ".");
const policyPkg = (await import(
  pathToFileURL(join(repo, "packages/policy/src/index.ts")).href
)) as typeof PolicyPkg;

const template = policyPkg.defaultPolicy({ wan: "__WAN__", lan: "__LAN__" });
// What an appliance that knows applications should do out of the box: calls and games
// before everything, updates and backups behind browsing (most specific rule wins).
const targeted = [
  { category: "conferencing", class: "interactive" },
  { category: "gaming", class: "interactive" },
  { category: "software-updates", class: "bulk" },
  { category: "cloud-storage", class: "bulk" },
  { hostname: "*.windowsupdate.com", class: "bulk" },
];
for (const r of targeted)
  if (!template.rules!.some((x) => JSON.stringify(x) === JSON.stringify(r))) template.rules!.push(r);
const sample = JSON.parse(
  JSON.stringify(template).replaceAll("__WAN__", "eth0").replaceAll("__LAN__", "eth1"),
);

// protocol names (and aliases) of the shipped pattern set, read from the .pat files' names
const protocols = new Set<string>();
for (const f of readdirSync(join(repo, "protocols"))) {
  if (!f.endsWith(".pat")) continue;
  protocols.add(f.replace(/\.pat$/, ""));
  const aliases = /^#\s*aliases?:\s*(.+)$/im.exec(readFileSync(join(repo, "protocols", f), "utf8"));
  for (const a of aliases?.[1]?.split(/[\s,]+/) ?? []) if (a) protocols.add(a);
}
const catalogue = JSON.parse(readFileSync(join(repo, "protocols/apps/catalogue.json"), "utf8")) as {
  apps: { name: string }[];
  categories: { name: string }[];
};
const r = policyPkg.validatePolicy(sample, {
  protocols,
  apps: new Set(catalogue.apps.map((a) => a.name)),
  categories: new Set(catalogue.categories.map((c) => c.name)),
});
if (!r.ok) {
  console.error("initial-policy: the default policy does not validate:");
  for (const i of r.issues) console.error(`  ${i.path}: ${i.message}`);
  process.exit(1);
}
process.stdout.write(JSON.stringify(template, null, 2) + "\n");
