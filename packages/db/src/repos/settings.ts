// Key/value settings with JSON values. The keys the policy and the dashboard use are typed
// (KnownSettings); any other key holds unknown JSON.

import type { Fairness, Policy, PolicyDevice } from "@sluice/policy";
import type { PrismaClient } from "../generated/sqlite/client.ts";
import type { InputJsonValue } from "../generated/sqlite/internal/prismaNamespace.ts";

export interface InterfaceSetting {
  device: string;
  /** bit/s */
  rate: number;
  /** The LAN's networks (CIDR), where the policy names them (device rules lie inside). */
  networks?: string[];
}

export interface RetentionSetting {
  /** Per-minute accounting rows (default 30 days). */
  accountingDays: number;
  /** Login attempts (default 30 days). */
  loginAttemptDays: number;
  /** Audit log rows; null keeps them forever (default 365 days). */
  auditDays: number | null;
  /** Policy versions to keep (the last good one is always kept; default 500). */
  versionsKeep: number;
}

export interface KnownSettings {
  /** The policy's name. */
  "policy.name": string;
  /** The shaped interfaces and their link rates. */
  interfaces: { wan: InterfaceSetting; lan: InterfaceSetting };
  /** Where download is shaped: LAN egress, or an IFB on WAN ingress. */
  download: "lan" | "ifb";
  inspection: { packets: number; bytes: number; queues: number; queueBase: number };
  /** Sluice's mark bits: protocol, catalogue app, hostname rule (the last two may be missing in old rows). */
  marks: { mask: number; appMask?: number; hostMask?: number };
  /** Per-device limits (the policy's devices, rates in bit/s). */
  devices: PolicyDevice[];
  /** Classes shared among hosts: direction → class name → fairness. */
  "class.fairness": Record<"upload" | "download", Record<string, Fairness>>;
  /** The agent's metrics endpoint (off, or its address, port and token digest). */
  metrics: { enabled: boolean; address: string; port: number; bearerTokenSha256?: string };
  /** The agent's control socket. */
  "agent.socket": string;
  retention: RetentionSetting;
  /** The policy's time zone, schedule windows and quotas (as parsed: rates in bit/s, bytes). */
  "policy.timeZone": Policy["timeZone"];
  "policy.schedules": Policy["schedules"];
  "policy.quotas": Policy["quotas"];
}

export type SettingKey = keyof KnownSettings | (string & {});
export type SettingValue<K extends string> = K extends keyof KnownSettings ? KnownSettings[K] : unknown;

export function settingsRepo(prisma: PrismaClient) {
  return {
    async get<K extends SettingKey>(key: K): Promise<SettingValue<K> | undefined> {
      const row = await prisma.setting.findUnique({ where: { key } });
      return row ? (row.value as SettingValue<K>) : undefined;
    },

    async set<K extends SettingKey>(key: K, value: SettingValue<K>): Promise<void> {
      const v = value as InputJsonValue;
      await prisma.setting.upsert({ where: { key }, create: { key, value: v }, update: { value: v } });
    },

    /** Several settings in one transaction. */
    async setMany(values: Partial<KnownSettings> & Record<string, unknown>): Promise<void> {
      await prisma.$transaction(
        Object.entries(values).map(([key, value]) =>
          prisma.setting.upsert({
            where: { key },
            create: { key, value: value as InputJsonValue },
            update: { value: value as InputJsonValue },
          }),
        ),
      );
    },

    async all(): Promise<Record<string, unknown>> {
      const rows = await prisma.setting.findMany({ orderBy: { key: "asc" } });
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },

    async delete(key: SettingKey): Promise<boolean> {
      return (await prisma.setting.deleteMany({ where: { key } })).count > 0;
    },
  };
}

export type SettingsRepo = ReturnType<typeof settingsRepo>;
