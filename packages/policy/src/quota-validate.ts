// Cross-field checks of the quotas: what each counts exists, it names a demotion class that
// exists and is a leaf, allowances are positive (the schema), names are unique.

import type { Policy } from "./schema.ts";
import { DIRECTIONS } from "./schema.ts";
import { quotaTarget } from "./quota-schema.ts";
import { parseIpPrefix } from "./ip-prefix.ts";

type Add = (path: string, message: string) => void;

export function checkQuotas(policy: Policy, add: Add): void {
  const names = new Map<string, number>();
  const leaf = (name: string) =>
    DIRECTIONS.some(
      (d) =>
        policy.classes[d].some((c) => c.name === name) && !policy.classes[d].some((c) => c.parent === name),
    );
  const exists = (name: string) => DIRECTIONS.some((d) => policy.classes[d].some((c) => c.name === name));
  if (policy.quotas.length && policy.download === "ifb")
    add(
      "quotas",
      "quotas need download shaped on the LAN interface: traffic on an IFB is not seen by nftables",
    );
  policy.quotas.forEach((q, i) => {
    const at = `quotas[${i}]`;
    const prev = names.get(q.name);
    if (prev !== undefined) add(`${at}.name`, `duplicate quota name "${q.name}" (also quotas[${prev}])`);
    else names.set(q.name, i);
    const t = quotaTarget(q);
    if (t.kind === "address") {
      const p = parseIpPrefix(t.value);
      if (!p)
        add(
          `${at}.address`,
          `"${t.value}" is not an IP address or prefix (examples: 10.1.0.2, 10.1.0.0/24, fd00::/64)`,
        );
      else if (p.hostBits) add(`${at}.address`, `"${t.value}" has bits set after the prefix length`);
    } else if (!exists(t.value)) add(`${at}.class`, `no class named "${t.value}" in upload or download`);
    if (q.demoteTo === undefined) {
      add(
        `${at}.demoteTo`,
        "a quota needs demoteTo: the class its traffic goes to once the allowance is spent",
      );
      return;
    }
    if (!exists(q.demoteTo)) add(`${at}.demoteTo`, `no class named "${q.demoteTo}" in upload or download`);
    else if (!leaf(q.demoteTo))
      add(`${at}.demoteTo`, `class "${q.demoteTo}" has child classes; traffic can only go to a leaf class`);
    else if (t.kind === "class" && t.value === q.demoteTo)
      add(`${at}.demoteTo`, `demoting class "${q.demoteTo}" to itself changes nothing`);
  });
}
