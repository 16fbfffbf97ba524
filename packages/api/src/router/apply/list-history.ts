// The history: the agent's entries (what the box went through, CLI applies included) joined
// with the versions the dashboard recorded (who, what). When the agent is down, the
// recorded versions alone, marked as such.

import { protectedProcedure } from "../../trpc.ts";
import type { HistorySummary } from "@sluice/agent-contract";
import { syncVersions } from "./shared.ts";

export interface HistoryRow {
  key: string;
  agentEntryId: number | null;
  versionId: number | null;
  at: string;
  user: string;
  status: string;
  lastGood: boolean;
  name: string | null;
  error: string | null;
  tryUntil: string | null;
  /** What the apply changed, in words (from the audit log of the dashboard's applies). */
  changes: string[];
  /** Applied from the dashboard (a recorded version) or only known to the agent. */
  source: "dashboard" | "agent";
}

/** Why an entry failed, in the agent's words: the message, the step, the kernel's stderr. */
const errorText = (e: unknown): string | null => {
  if (!e) return null;
  if (typeof e === "string") return e;
  const o = e as { error?: unknown; message?: unknown; step?: unknown; stderr?: unknown };
  const main =
    typeof o.error === "string" ? o.error : typeof o.message === "string" ? o.message : JSON.stringify(e);
  const step = typeof o.step === "string" && o.step !== "validate" ? ` (step ${o.step})` : "";
  const stderr = typeof o.stderr === "string" && o.stderr.trim() ? `: ${o.stderr.trim().slice(0, 300)}` : "";
  return `${main}${step}${stderr}`;
};

export const listHistory = protectedProcedure.query(async ({ ctx }) => {
  const { db, agent } = ctx.deps;
  let entries: HistorySummary[] | null = null;
  let agentError: string | null = null;
  try {
    entries = await agent.history();
    await syncVersions(db, entries);
  } catch (e) {
    agentError = (e as Error).message;
  }
  const health = await agent.checkHealth();
  const versions = (await db.versions.list({ limit: 200 })).items;
  const changesOf = new Map<number, string[]>();
  for (const a of (await db.audit.list({ action: "policy.", limit: 200 })).items) {
    const d = a.details as { versionId?: unknown; changes?: unknown } | null;
    if (typeof d?.versionId === "number" && Array.isArray(d.changes))
      changesOf.set(
        d.versionId,
        d.changes.filter((c): c is string => typeof c === "string"),
      );
  }
  const byEntry = new Map(versions.filter((v) => v.agentEntryId !== null).map((v) => [v.agentEntryId!, v]));
  const rows: HistoryRow[] = [];
  const seen = new Set<number>();
  for (const e of entries ?? []) {
    const v = byEntry.get(e.id);
    seen.add(e.id);
    rows.push({
      key: `a${e.id}`,
      agentEntryId: e.id,
      versionId: v?.id ?? null,
      at: e.at,
      user: e.user,
      status: e.status,
      lastGood: e.lastGood,
      name: e.name ?? null,
      error: errorText(v?.error ?? e.error),
      tryUntil: e.tryUntil ?? null,
      // an entry the agent made on its own says why ("schedule: work-hours started")
      changes: v ? (changesOf.get(v.id) ?? []) : e.note ? [e.note] : [],
      source: v ? "dashboard" : "agent",
    });
  }
  for (const v of versions) {
    if (v.agentEntryId !== null && seen.has(v.agentEntryId)) continue;
    rows.push({
      key: `v${v.id}`,
      agentEntryId: v.agentEntryId,
      versionId: v.id,
      at: v.appliedAt.toISOString(),
      user: v.appliedBy,
      status: v.result,
      lastGood: v.isLastGood && entries === null,
      name: (v.policy as { name?: string }).name ?? null,
      error: errorText(v.error),
      tryUntil: v.tryUntil?.toISOString() ?? null,
      changes: changesOf.get(v.id) ?? [],
      source: "dashboard",
    });
  }
  rows.sort((a, b) => b.at.localeCompare(a.at) || (b.agentEntryId ?? 0) - (a.agentEntryId ?? 0));
  return {
    agentReachable: entries !== null,
    agentError,
    trying: health.reachable ? (health.status?.trying ?? null) : null,
    installed: health.status?.policy ?? null,
    rows,
  };
});
