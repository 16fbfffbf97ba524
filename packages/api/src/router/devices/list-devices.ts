// The Devices page: the device rules of the edited policy, the LAN's networks they must lie
// in, the devices the box knows (its DHCP leases, with names) and each device class's live
// rate from the latest stats sample.

import { protectedProcedure } from "../../trpc.ts";
import { editablePolicy } from "../../helpers.ts";

export const listDevices = protectedProcedure.query(async ({ ctx }) => {
  const p = await editablePolicy(ctx.deps);
  const known = await ctx.deps.agent.devices();
  const latest = ctx.deps.stats.running ? ctx.deps.stats.latest() : null;
  const rules = p.devices ?? [];
  const names = new Set(rules.map((d) => d.name));
  return {
    rules,
    networks: p.interfaces.lan.networks ?? null,
    /** Classes the device rules may nest in (their names, per direction). */
    parents: {
      upload: p.classes.upload.filter((c) => !c.default).map((c) => c.name),
      download: p.classes.download.filter((c) => !c.default).map((c) => c.name),
    },
    known: known.devices?.devices ?? [],
    leasesFile: known.devices?.leasesFile ?? null,
    agentError: known.error,
    /** The device classes in the latest sample (on the box, i.e. as last applied). */
    live: (latest?.classes ?? [])
      .filter((c) => names.has(c.name))
      .map((c) => ({ name: c.name, direction: c.direction, rateBps: c.rateBps, drops: c.drops })),
  };
});
