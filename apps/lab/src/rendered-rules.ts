// The rules a data-plane test installs: exactly what the agent renders (render/iptables.ts
// and render/nft.ts through renderPolicy) for a default policy on the lab's router, so the
// tests run against the layout the agent really installs. With nftables (this kernel's
// variant) the connection mark is restored and saved by the nftables table: the iptables
// rules alone queue but do not keep a verdict (installRenderedRules installs both).

import { defaultPolicy, defaultPolicyProtocols, validatePolicy } from "@sluice/policy";
import { MINIMAL_CAPABILITIES } from "@sluice/agent/src/kernel/capabilities.ts";
import { renderPolicy } from "@sluice/agent/src/render/scripts.ts";
import { ROUTER_LAN, ROUTER_WAN, type NetnsLab } from "./netns-lab.ts";

export interface RenderedRulesOptions {
  /** Queues `queueBase`..`queueBase + queues - 1` (--queue-balance, or one queue). */
  queues: number;
  queueBase?: number;
  /** The inspection window, in packets (both directions). */
  packets?: number;
  /** Protocols and their l7 marks, as the data plane's l7-filter.conf numbers them. */
  protocolMarks?: ReadonlyMap<string, number>;
}

/** iptables-restore --noflush input for IPv4 and IPv6, hooks included. */
export function renderedRules(o: RenderedRulesOptions): { v4: string; v6: string } {
  return render(o).iptables;
}

/** The `nft -f -` script of the same policy (counters, class maps), or null. */
export function renderedNft(o: RenderedRulesOptions): string | null {
  return render(o).nft?.script ?? null;
}

/** The iptables rules (for `families`) and the nftables table, in the lab's router. */
export function installRenderedRules(
  lab: NetnsLab,
  o: RenderedRulesOptions,
  families: (4 | 6)[] = [4],
): void {
  const r = render(o);
  if (families.includes(4)) lab.restoreRules(lab.router, r.iptables.v4, [4]);
  if (families.includes(6)) lab.restoreRules(lab.router, r.iptables.v6, [6]);
  if (r.nft) lab.mustExec(lab.router, "nft", ["-f", "-"], r.nft.script);
}

function render(o: RenderedRulesOptions) {
  const p = defaultPolicy({ wan: ROUTER_WAN, lan: ROUTER_LAN });
  p.inspection = { packets: o.packets ?? 10, bytes: 2048, queues: o.queues, queueBase: o.queueBase ?? 0 };
  const marks = new Map(o.protocolMarks ?? []);
  const v = validatePolicy(p, { protocols: new Set([...marks.keys(), ...defaultPolicyProtocols()]) });
  if (!v.ok) throw new Error(`the lab's policy does not validate: ${JSON.stringify(v)}`);
  return renderPolicy(v.policy, marks, MINIMAL_CAPABILITIES);
}
