// Saves the device rules (and the LAN's networks) into the edited policy, validated as a
// whole: a host outside the LAN, a duplicate name, a limit above the link or the parent,
// guarantees that no longer add up come back as BAD_REQUEST with paths like
// "devices[1].hosts[0]". A kernel without nftables refuses device rules here too.

import { z } from "zod";
import { plainText, validatePolicy } from "@sluice/policy";
import { PolicyValidationError, toAgentPolicy } from "@sluice/db";
import { adminProcedure } from "../../trpc.ts";
import { audit, checkKernelFit, editablePolicy, policyError, ruleNames } from "../../helpers.ts";

const rate = z.union([plainText(40), z.number()]);
const limit = z.object({ rate, ceil: rate.optional() });

export const saveDevicesInput = z.object({
  /** The policy's `devices` (checked by @sluice/policy's schema and validatePolicy). */
  devices: z
    .array(
      z.object({
        name: plainText(40),
        hosts: z.array(plainText(64)).max(64),
        upload: limit.optional(),
        download: limit.optional(),
        parent: plainText(100).optional(),
        comment: plainText(200).optional(),
      }),
    )
    .max(200),
  /** interfaces.lan.networks; null removes them (the agent's LAN addresses are used). */
  networks: z.array(plainText(64)).max(16).nullable().optional(),
});

export const saveDevices = adminProcedure.input(saveDevicesInput).mutation(async ({ ctx, input }) => {
  const p = await editablePolicy(ctx.deps);
  const { networks: _old, ...lan } = p.interfaces.lan;
  const networks = input.networks === undefined ? p.interfaces.lan.networks : input.networks;
  const next = {
    ...p,
    interfaces: { ...p.interfaces, lan: { ...lan, ...(networks?.length ? { networks } : {}) } },
    devices: input.devices,
  };
  // Field problems first (a host outside the LAN is the admin's to fix whatever the kernel).
  const checked = validatePolicy(toAgentPolicy(next as never));
  if (!checked.ok) policyError(new PolicyValidationError(checked.issues));
  checkKernelFit(ctx.deps, next);
  await ctx.deps.db.policy.save(next as never, await ruleNames(ctx.deps)).catch(policyError);
  await audit(ctx, "policy.devices", null, { devices: input.devices.map((d) => d.name) });
  const saved = await editablePolicy(ctx.deps);
  return { devices: saved.devices ?? [], networks: saved.interfaces.lan.networks ?? null };
});
