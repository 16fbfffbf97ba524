// The policy operations: POST /v1/render (dry run), /v1/apply (optionally tried: reverts
// unless confirmed), /v1/confirm, /v1/rollback; GET /v1/history and /v1/history/:id.

import { z } from "zod";
import { plainText, type PolicyInput } from "@sluice/policy";

/** A field-level problem of a policy, e.g. { path: "classes.upload[2].ceil", message }. */
export const PolicyIssue = z.object({ path: z.string(), message: z.string() });
export type PolicyIssue = z.infer<typeof PolicyIssue>;

/** A policy as sent or stored; the agent validates it (@sluice/policy), the wire does not. */
const PolicyDocument = z.custom<PolicyInput>((v) => typeof v === "object" && v !== null, "a policy object");

export const Scripts = z.object({
  tc: z.string(),
  iptables: z.string(),
  ip6tables: z.string(),
  /** The nftables table (counters, class maps), "" or absent when not used. */
  nft: z.string().optional(),
});
export type Scripts = z.infer<typeof Scripts>;

/** What changes against the last good policy: in words, and the scripts line by line. */
export const PolicyDiff = z.object({
  policy: z.object({ changes: z.array(z.string()) }),
  tc: z.array(z.string()),
  iptables: z.array(z.string()),
});
export type PolicyDiff = z.infer<typeof PolicyDiff>;

export const RenderRequest = z.object({ policy: z.unknown() });
export type RenderRequest = z.infer<typeof RenderRequest>;

export const RenderResponse = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), header: z.array(z.string()), scripts: Scripts, diff: PolicyDiff }),
  z.object({ ok: z.literal(false), issues: z.array(PolicyIssue), error: z.string() }),
]);
export type RenderResponse = z.infer<typeof RenderResponse>;

export const ApplyRequest = z.object({
  policy: z.unknown(),
  /** Revert automatically unless POST /v1/confirm comes within this many seconds. */
  trySeconds: z.number().int().min(5).max(3600).optional(),
  /** Who asked (shown in the history): plain text, no control characters. */
  user: plainText(100).optional(),
});
export type ApplyRequest = z.infer<typeof ApplyRequest>;

export const RollbackRequest = z.object({
  /** The history entry to re-apply; default: the good one before the current. */
  id: z.number().int().positive().optional(),
  /** Who asked (shown in the history): plain text, no control characters. */
  user: plainText(100).optional(),
});
export type RollbackRequest = z.infer<typeof RollbackRequest>;

export const EntryStatus = z.enum([
  "applying",
  "applied",
  "trying",
  "confirmed",
  "reverted",
  "failed",
  "superseded",
]);
export type EntryStatus = z.infer<typeof EntryStatus>;

export const EntryError = z.object({
  step: z.string(),
  command: z.string().optional(),
  stderr: z.string().optional(),
  message: z.string(),
});

/** A history entry without its policy and scripts (lists, apply/confirm/rollback answers). */
export const HistorySummary = z.object({
  id: z.number(),
  at: z.string(),
  user: z.string(),
  status: EntryStatus,
  lastGood: z.boolean(),
  error: EntryError.optional(),
  tryUntil: z.string().optional(),
  name: z.string().optional(),
  /** Why the agent applied it on its own: "schedule: work-hours started", "quota: kid period reset". */
  note: z.string().optional(),
});
export type HistorySummary = z.infer<typeof HistorySummary>;

export const HistoryResponse = z.array(HistorySummary);

/** GET /v1/history/:id: the entry in full (the agent's own record of it). */
export const HistoryEntry = z.object({
  id: z.number(),
  at: z.string(),
  user: z.string(),
  policy: PolicyDocument,
  status: EntryStatus,
  /** Rendered scripts as shown to the admin (with headers). */
  scripts: Scripts,
  error: EntryError.optional(),
  /** Set on the entry the box returns to on failure and on boot. */
  lastGood: z.boolean(),
  tryUntil: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const ApplyResponse = z.object({ entry: HistorySummary, diff: PolicyDiff });
export type ApplyResponse = z.infer<typeof ApplyResponse>;

/** The error body of a failed apply/rollback/confirm (422 invalid policy, 500 otherwise). */
export const ApplyErrorBody = z.object({
  error: z.string(),
  step: z.string().optional(),
  issues: z.array(PolicyIssue).optional(),
  /** The command that failed, as one line for reading (it ran as an argv array). */
  command: z.string().optional(),
  stderr: z.string().optional(),
  /** Did restoring the last good state succeed (null: nothing was touched)? */
  restored: z.boolean().nullable().optional(),
  entry: z.number().optional(),
});
export type ApplyErrorBody = z.infer<typeof ApplyErrorBody>;

/** Any other refusal: { error } (400 bad request, 404 no route or no entry, 413 too large). */
export const ErrorBody = z.looseObject({ error: z.string() });
export type ErrorBody = z.infer<typeof ErrorBody>;
