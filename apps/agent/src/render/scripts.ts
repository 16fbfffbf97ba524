// The complete rendered output of one policy: what `sluice render` prints, what the
// history keeps, and what the applier installs. Each script carries a header with the
// policy, the probed capabilities and the fallbacks in use.

import { scriptSafe, type Policy } from "@sluice/policy";
import {
  capabilitySummary,
  chooseVariant,
  type Capabilities,
  type LeafKind,
} from "../kernel/capabilities.ts";
import { buildModel, type AppIndex, type KernelModel } from "./model.ts";
import type { HostInputs } from "./hosts-model.ts";
import { renderTc, type TcScript } from "./tc.ts";
import { renderIptables } from "./iptables.ts";
import { buildNft, renderNft, type NftTable } from "./nft.ts";
import { buildQuotas } from "./quota-model.ts";

export interface RenderedPolicy {
  model: KernelModel;
  header: string[];
  tc: TcScript;
  /** iptables-restore input (v4, v6) including the hook rules, as installed on a clean box. */
  iptables: { v4: string; v6: string };
  /** The nftables table (counters, class maps), when the variant uses one. */
  nft: { table: NftTable; script: string } | null;
}

export function leafAvailability(c: Capabilities): (k: LeafKind) => boolean {
  return (k) => c.qdiscs[k];
}

export function renderPolicy(
  policy: Policy,
  protocolMarks: ReadonlyMap<string, number>,
  caps: Capabilities,
  apps: AppIndex | null = null,
  hostIds: ReadonlyMap<string, number> | null = null,
  hostInputs: HostInputs = {},
  quotaUsed: (name: string) => number = () => 0,
): RenderedPolicy {
  const variant = chooseVariant(caps);
  const model = buildModel(policy, protocolMarks, variant, leafAvailability(caps), apps, hostIds, hostInputs);
  if (policy.quotas.length) model.quotas = buildQuotas(policy, model.devices, quotaUsed);
  const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
  // Header lines embed free text (the policy name, protocol and app names in warnings):
  // printable ASCII only, so none can end its comment line and start a command.
  const header = [
    `Sluice policy "${policy.name}"`,
    ...capabilitySummary(caps, variant),
    `marks: protocol ${hex(model.mask)} (1 unset, 2 unknown, 3+ protocols), app ${hex(model.app.mask)} (catalogue id), hostname rule ${hex(model.host.mask)} (rule id); window ${model.window.packets} packets; queues ${model.queues.first}-${model.queues.last}`,
    ...model.warnings.map((w) => `warning: ${w}`),
  ].map(scriptSafe);
  const table = buildNft(model);
  return {
    model,
    header,
    nft: table ? { table, script: renderNft(table) } : null,
    tc: renderTc(model),
    iptables: {
      v4: renderIptables(model, 4, { addHooks: true }),
      v6: renderIptables(model, 6, { addHooks: true }),
    },
  };
}

/** Human-readable text of all scripts, with the header as comments. */
export function scriptText(r: RenderedPolicy): {
  tc: string;
  iptables: string;
  ip6tables: string;
  nft: string;
} {
  const head = r.header.map((h) => `# ${h}`).join("\n");
  return {
    nft: r.nft ? `${head}\n# nft -f -\n${r.nft.script}` : "",
    tc: `${head}\n# tc -batch - (devices cleared first: ${r.tc.devices.join(", ")})\n${r.tc.lines.join("\n")}\n`,
    iptables: `${head}\n# iptables-restore --noflush\n${r.iptables.v4}`,
    ip6tables: `${head}\n# ip6tables-restore --noflush\n${r.iptables.v6}`,
  };
}
