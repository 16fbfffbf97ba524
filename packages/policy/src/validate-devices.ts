// Cross-field checks of per-host fairness and device rules: device hosts inside the LAN,
// names apart from the classes', limits within the link or the parent class, guarantees
// that still add up, and fairness only on leaf classes. Paths as in validate.ts.

import { DIRECTIONS, type Direction, type Policy, type PolicyClass } from "./schema.ts";
import { formatRate } from "./units.ts";
import { insideNetwork, parseHostMatch } from "./devices.ts";

type Add = (path: string, message: string) => void;

/** Where the policy's device rules and host fairness are checked (called by validatePolicy). */
export function checkHosts(
  policy: Policy,
  link: Record<Direction, number>,
  lanNetworks: readonly string[] | undefined,
  add: Add,
): void {
  for (const dir of DIRECTIONS)
    policy.classes[dir].forEach((c, i) => {
      if (c.fairness === "host" && policy.classes[dir].some((x) => x.parent === c.name))
        add(
          `classes.${dir}[${i}].fairness`,
          `only a leaf class shares among hosts ("${c.name}" has child classes: set it on them)`,
        );
    });
  const devices = policy.devices ?? [];
  if (!devices.length) return;
  const networks = policy.interfaces.lan.networks ?? lanNetworks;
  const names = new Map<string, number>();
  const hosts = new Map<string, string>();
  devices.forEach((d, i) => {
    const at = `devices[${i}]`;
    const prev = names.get(d.name);
    if (prev !== undefined) add(`${at}.name`, `duplicate device name "${d.name}" (also devices[${prev}])`);
    else names.set(d.name, i);
    for (const dir of DIRECTIONS)
      if (policy.classes[dir].some((c) => c.name === d.name))
        add(`${at}.name`, `"${d.name}" is already a ${dir} class name; a device needs a name of its own`);
    d.hosts.forEach((h, j) => {
      const m = parseHostMatch(h);
      if ("error" in m) return; // the schema said so
      const here = `${at}.hosts[${j}]`;
      const other = hosts.get(m.text);
      if (other) add(here, `${m.text} is already in ${other}`);
      else hosts.set(m.text, here);
      if (m.kind === "mac" || !networks?.length) return;
      if (!networks.some((n) => insideNetwork(m, n)))
        add(here, `${m.text} is outside the LAN (${networks.join(", ")})`);
    });
    for (const dir of DIRECTIONS) {
      const lim = d[dir];
      if (!lim) continue;
      const lat = `${at}.${dir}`;
      const ceil = lim.ceil ?? lim.rate;
      if (ceil < lim.rate)
        add(`${lat}.ceil`, `ceil ${formatRate(ceil)} is below the rate ${formatRate(lim.rate)}`);
      if (d.parent === undefined) {
        if (ceil > link[dir])
          add(
            `${lat}.ceil`,
            `ceil ${formatRate(ceil)} is above the ${dir} link rate ${formatRate(link[dir])}`,
          );
        continue;
      }
      const parent = policy.classes[dir].find((c) => c.name === d.parent);
      if (!parent) {
        add(`${at}.parent`, `no ${dir} class named "${d.parent}" (the device limits ${dir})`);
        continue;
      }
      checkParent(policy, parent, dir, `${at}.parent`, add);
      if (lim.rate > parent.rate)
        add(
          `${lat}.rate`,
          `rate ${formatRate(lim.rate)} is above "${parent.name}"'s rate ${formatRate(parent.rate)}`,
        );
      const pceil = parent.ceil ?? parent.rate;
      if (ceil > pceil)
        add(`${lat}.ceil`, `ceil ${formatRate(ceil)} is above "${parent.name}"'s ceil ${formatRate(pceil)}`);
    }
  });
  checkGuarantees(policy, link, add);
}

function checkParent(policy: Policy, parent: PolicyClass, dir: Direction, path: string, add: Add): void {
  if (parent.default) {
    add(
      path,
      `"${parent.name}" is the ${dir} default class; a device nests only in a class no traffic goes to directly`,
    );
    return;
  }
  const rule = policy.rules.findIndex((r) => r.class === parent.name);
  if (rule >= 0)
    add(
      path,
      `rules[${rule}] sends traffic to "${parent.name}"; a device nests only in a class no rule targets`,
    );
  else if (parent.fairness === "host")
    add(path, `"${parent.name}" shares among hosts (fairness: host); nest the device in a plain class`);
}

/** The guaranteed rates under the link and under each parent, devices included. */
function checkGuarantees(policy: Policy, link: Record<Direction, number>, add: Add): void {
  const devices = policy.devices ?? [];
  for (const dir of DIRECTIONS) {
    const classes = policy.classes[dir];
    const groups = new Map<string | undefined, { sum: number; last: number | null }>();
    for (const c of classes) {
      const g = groups.get(c.parent) ?? { sum: 0, last: null };
      g.sum += c.rate;
      groups.set(c.parent, g);
    }
    devices.forEach((d, i) => {
      const lim = d[dir];
      if (!lim) return;
      const g = groups.get(d.parent) ?? { sum: 0, last: null };
      g.sum += lim.rate;
      g.last = i;
      groups.set(d.parent, g);
    });
    for (const [parent, g] of groups) {
      if (g.last === null) continue;
      const cls = parent === undefined ? undefined : classes.find((c) => c.name === parent);
      if (parent !== undefined && !cls) continue;
      const cap = cls ? cls.rate : link[dir];
      if (g.sum > cap)
        add(
          `devices[${g.last}].${dir}.rate`,
          `the guaranteed ${dir} rates ${cls ? `under "${cls.name}"` : "beside the classes"} add up to ${formatRate(g.sum)} with the devices, above ${cls ? `its rate` : "the link rate"} ${formatRate(cap)}`,
        );
    }
  }
}
