// The agent's own persistent state under its data directory: the history of applied
// policies with their rendered scripts, and which entry is the last good one. Written
// atomically (temp file + rename) so a crash never leaves half a file, readable by root only
// (private-file.ts). A write that fails (disk full, read-only) changes nothing, in memory or
// on disk, and says why (StoreError).

import { mkdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { PolicyInput } from "@sluice/policy";
import { makePrivate, writePrivateFile } from "./private-file.ts";

export type EntryStatus =
  "applying" | "applied" | "trying" | "confirmed" | "reverted" | "failed" | "superseded";

/** The history could not be written (ENOSPC, EROFS, EACCES…); nothing was changed. */
export class StoreError extends Error {
  readonly code: string | undefined;
  constructor(file: string, e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      ENOSPC: "the data directory is full",
      EROFS: "the data directory is read-only",
      EACCES: "the data directory is not writable",
      EDQUOT: "the data directory is over its quota",
    };
    super(`cannot write ${file}: ${(code && why[code]) ?? (e as Error).message}${code ? ` (${code})` : ""}`);
    this.name = "StoreError";
    this.code = code;
  }
}

export interface HistoryEntry {
  id: number;
  at: string;
  user: string;
  policy: PolicyInput;
  status: EntryStatus;
  /** Rendered scripts as shown to the admin (with headers). */
  scripts: { tc: string; iptables: string; ip6tables: string; nft?: string };
  error?: { step: string; command?: string; stderr?: string; message: string };
  /** Set on the entry the box returns to on failure and on boot. */
  lastGood: boolean;
  tryUntil?: string;
  /** Why the agent applied it on its own: "schedule: work-hours started", "quota: kid period reset". */
  note?: string;
  /** The schedule windows in force when it was applied (their changes are in the scripts). */
  windows?: string[];
  /** Each quota's period when it was applied (a new period re-applies with the count at 0). */
  quotaPeriods?: Record<string, string>;
}

interface StoreFile {
  nextId: number;
  entries: HistoryEntry[];
}

const MAX_ENTRIES = 200;

export class HistoryStore {
  private readonly file: string;
  private data: StoreFile;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, "history.json");
    makePrivate(this.file);
    this.data = existsSync(this.file)
      ? (JSON.parse(readFileSync(this.file, "utf8")) as StoreFile)
      : { nextId: 1, entries: [] };
  }

  list(): HistoryEntry[] {
    return [...this.data.entries].reverse();
  }

  get(id: number): HistoryEntry | undefined {
    return this.data.entries.find((e) => e.id === id);
  }

  lastGood(): HistoryEntry | undefined {
    return this.data.entries.find((e) => e.lastGood);
  }

  add(e: Omit<HistoryEntry, "id">): HistoryEntry {
    let entry: HistoryEntry | null = null;
    this.commit((d) => {
      entry = { ...e, id: d.nextId++ };
      d.entries.push(entry);
      if (d.entries.length > MAX_ENTRIES) {
        const keep = d.entries.filter((x) => x.lastGood || x.status === "applying");
        d.entries = [
          ...keep,
          ...d.entries.filter((x) => !keep.includes(x)).slice(-(MAX_ENTRIES - keep.length)),
        ].sort((a, b) => a.id - b.id);
      }
    });
    return this.get((entry as HistoryEntry | null)!.id)!;
  }

  update(id: number, patch: Partial<HistoryEntry>, opts: { lastGood?: boolean } = {}): void {
    if (!this.get(id)) return;
    this.commit((d) => {
      Object.assign(
        d.entries.find((e) => e.id === id)!,
        patch,
      );
      if (opts.lastGood) for (const e of d.entries) e.lastGood = e.id === id;
    });
  }

  markLastGood(id: number): void {
    this.commit((d) => {
      for (const e of d.entries) e.lastGood = e.id === id;
    });
  }

  /**
   * Entries left "applying" by an agent that stopped in the middle (killed, power cut):
   * recorded as failed, so the history says what happened. Returns their ids.
   */
  closeInterrupted(): number[] {
    const open = this.data.entries.filter((e) => e.status === "applying").map((e) => e.id);
    if (open.length)
      this.commit((d) => {
        for (const e of d.entries)
          if (e.status === "applying")
            Object.assign(e, {
              status: "failed",
              error: { step: "interrupted", message: "the agent stopped during this apply" },
            });
      });
    return open;
  }

  /** Applies `change` to a copy, writes it, and only then keeps it. */
  private commit(change: (d: StoreFile) => void): void {
    const next = structuredClone(this.data);
    change(next);
    this.save(next);
    this.data = next;
  }

  private save(data: StoreFile): void {
    try {
      writePrivateFile(this.file, JSON.stringify(data, null, 1));
    } catch (e) {
      try {
        rmSync(`${this.file}.tmp`, { force: true }); // a partial temp file only takes space
      } catch {
        /* read-only: there is none */
      }
      throw new StoreError(this.file, e);
    }
  }
}
