// The policy document: what the dashboard edits and the agent applies. Structural rules
// live in this zod schema; rules that relate fields to each other live in validate.ts.

import { z } from "zod";
import { rateSchema as rate } from "./rate-schema.ts";
import { FairnessSchema, DeviceSchema, NetworkListSchema } from "./devices.ts";
import { plainText } from "./text.ts";
import { DEFAULT_MARKS } from "./marks.ts";
import { ScheduleWindowSchema } from "./schedule-schema.ts";
import { QuotaSchema } from "./quota-schema.ts";
import { DEFAULT_METRICS_PORT, canonicalAddress, notListenable } from "./metrics-listen.ts";

const sizeBytes = z
  .number()
  .int()
  .min(1)
  .max(1 << 24);

export const LEAF_KINDS = ["auto", "sfq", "fq_codel", "cake", "pfifo"] as const;

export const ClassSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, "lowercase letters, digits, _ and -, starting with a letter (max 32)"),
  parent: plainText(100).optional(),
  rate,
  ceil: rate.optional(),
  priority: z.number().int().min(0).max(7).default(3),
  quantum: sizeBytes.optional(),
  burst: sizeBytes.optional(),
  cburst: sizeBytes.optional(),
  default: z.boolean().default(false),
  leaf: z.enum(LEAF_KINDS).default("auto"),
  /** How the class shares among its traffic: per flow (the leaf's own), or per LAN host. */
  fairness: FairnessSchema.optional(),
  description: plainText(200).optional(),
});

const ifname = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, "an interface name (1-15 of A-Z a-z 0-9 _ . -)");

/** What a targeted rule may target: exactly one of these keys. */
export const RULE_TARGETS = ["protocol", "app", "category", "hostname"] as const;
export type RuleTargetKind = (typeof RULE_TARGETS)[number];

export type TargetRule = (
  { protocol: string } | { app: string } | { category: string } | { hostname: string }
) & { class: string; comment?: string };

/**
 * A rule that sends the flows of a protocol (a pattern name, "unset" or "unknown"), of a
 * catalogue application, of an application category, or to a host name matching a glob
 * ("*.example.com": any subdomain; "cdn*.example.*": * within one label) to a class:
 * exactly one of protocol, app, category and hostname.
 *
 * Which rule wins when several match a flow: the most specific kind, hostname > app >
 * category > protocol (so "app youtube → video" beats "protocol quic → web"); among
 * hostname rules, the first in the list. The order of the list matters for nothing else.
 */
export const TargetRuleSchema = z
  .strictObject({
    protocol: plainText(100).min(1).optional(),
    app: plainText(100).min(1).optional(),
    category: plainText(100).min(1).optional(),
    hostname: plainText(253).min(1).optional(),
    class: plainText(100).min(1),
    comment: plainText(200).optional(),
  })
  .superRefine((r, ctx) => {
    const given = RULE_TARGETS.filter((k) => r[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: "custom",
        message:
          given.length === 0
            ? "a rule needs one of protocol, app, category or hostname"
            : `a rule targets exactly one of protocol, app, category or hostname (this one has ${given.join(" and ")})`,
      });
  })
  .transform((r) => r as TargetRule);

/** Which key a rule targets and its value. */
export function ruleTarget(r: TargetRule): { kind: RuleTargetKind; value: string } {
  if ("protocol" in r) return { kind: "protocol", value: r.protocol };
  if ("app" in r) return { kind: "app", value: r.app };
  if ("category" in r) return { kind: "category", value: r.category };
  return { kind: "hostname", value: r.hostname };
}

/** "ssh" for a protocol rule, "app youtube", "category gaming", "hostname *.example.com". */
export function ruleLabel(r: TargetRule): string {
  const t = ruleTarget(r);
  return t.kind === "protocol" ? t.value : `${t.kind} ${t.value}`;
}

/** Precedence of the rule kinds, most specific first. */
export const RULE_PRECEDENCE: readonly RuleTargetKind[] = ["hostname", "app", "category", "protocol"];

const HOST_GLOB = /^(\*\.)?[a-z0-9_*-]+(\.[a-z0-9_*-]+)*$/;

/** A host name or glob a hostname rule accepts: "www.example.com", "*.example.com", "cdn*.example.*". */
export function isHostnameGlob(s: string): boolean {
  return (
    s.length <= 253 && HOST_GLOB.test(s) && !s.includes("**") && s.split(".").every((l) => l.length <= 63)
  );
}

const markMask = z
  .union([z.number().int(), z.string().regex(/^0x[0-9a-f]+$/i)])
  .transform((v) => (typeof v === "number" ? v : parseInt(v, 16)) >>> 0);

/**
 * The agent's Prometheus/OpenMetrics endpoint: off by default; when on, served on
 * `address:port` (loopback or a LAN address: metricsListenIssues) at /metrics, with an
 * optional bearer token kept as its SHA-256 (hex), so the policy never holds the secret.
 */
export const MetricsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  address: z
    .string()
    .max(64)
    .superRefine((a, ctx) => {
      const c = canonicalAddress(a);
      const why =
        c === null ? "is not an IPv4 or IPv6 address (e.g. 192.168.77.1 or 127.0.0.1)" : notListenable(c);
      if (why) ctx.addIssue({ code: "custom", message: `${JSON.stringify(a)} ${why}` });
    })
    .default("127.0.0.1"),
  port: z.number().int().min(1).max(65535).default(DEFAULT_METRICS_PORT),
  bearerTokenSha256: z
    .string()
    .regex(
      /^[0-9a-f]{64}$/,
      "the SHA-256 of the token, 64 lowercase hex digits (printf %s TOKEN | sha256sum)",
    )
    .optional(),
});

export const DEFAULT_METRICS = { enabled: false, address: "127.0.0.1", port: DEFAULT_METRICS_PORT } as const;

export const PolicySchema = z.strictObject({
  version: z.literal(1),
  name: plainText(100).default("policy"),
  interfaces: z.strictObject({
    wan: z.strictObject({ device: ifname, rate }),
    lan: z.strictObject({ device: ifname, rate, networks: NetworkListSchema.optional() }),
  }),
  /** Where download is shaped: LAN egress when the box routes, an IFB on WAN ingress otherwise. */
  download: z.enum(["lan", "ifb"]).default("lan"),
  inspection: z
    .strictObject({
      packets: z.number().int().min(1).max(1000).default(10),
      bytes: z.number().int().min(64).max(65536).default(2048),
      queues: z.number().int().min(1).max(16).default(2),
      queueBase: z.number().int().min(0).max(65000).default(0),
    })
    .default({ packets: 10, bytes: 2048, queues: 2, queueBase: 0 }),
  /**
   * Which packet/connection mark bits Sluice owns: the protocol's l7 mark (1 unset, 2
   * unknown, 3+ patterns), the catalogue application (its id, 0 none) and the hostname
   * rule that matched (its 1-based position among the hostname rules, 0 none).
   */
  marks: z
    .strictObject({
      mask: markMask.default(DEFAULT_MARKS.mask),
      appMask: markMask.default(DEFAULT_MARKS.appMask),
      hostMask: markMask.default(DEFAULT_MARKS.hostMask),
    })
    .default({ ...DEFAULT_MARKS }),
  metrics: MetricsSchema.default({ ...DEFAULT_METRICS }),
  classes: z.strictObject({
    upload: z.array(ClassSchema).min(1).max(200),
    download: z.array(ClassSchema).min(1).max(200),
  }),
  rules: z.array(TargetRuleSchema).max(1000).default([]),
  /** The box's IANA time zone: schedules and quota periods follow its wall clock. */
  timeZone: z.string().max(64).default("UTC"),
  /** Time windows in which class limits or rules differ (schedule-schema.ts). */
  schedules: z
    .array(z.lazy(() => ScheduleWindowSchema))
    .max(50)
    .default([]),
  /** Data allowances per period; past one, traffic goes to a demotion class (quota-schema.ts). */
  quotas: z
    .array(z.lazy(() => QuotaSchema))
    .max(100)
    .default([]),
  /** Per-device limits (devices.ts): LAN hosts or groups with their own rate/ceil. */
  devices: z.array(DeviceSchema).max(200).optional(),
});

export type PolicyInput = z.input<typeof PolicySchema>;
export type Policy = z.output<typeof PolicySchema>;
export type PolicyClass = z.output<typeof ClassSchema>;
export type PolicyRule = TargetRule;
export type MetricsSettings = z.output<typeof MetricsSchema>;
export type Direction = "upload" | "download";
export const DIRECTIONS: readonly Direction[] = ["upload", "download"];
