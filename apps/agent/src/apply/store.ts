// The agent's own persistent state under its data directory: the history of applied
// policies with their rendered scripts, and which entry is the last good one. Written
// atomically (temp file + rename) so a crash never leaves half a file, and readable by root
// only (private-file.ts).

import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { PolicyInput } from "@sluice/policy";
import { makePrivate, writePrivateFile } from "./private-file.ts";

export type EntryStatus = "applied" | "trying" | "confirmed" | "reverted" | "failed" | "superseded";

export interface HistoryEntry {
  id: number;
  at: string;
  user: string;
  policy: PolicyInput;
  status: EntryStatus;
  /** Rendered scripts as shown to the admin (with headers). */
  scripts: { tc: string; iptables: string; ip6tables: string };
  error?: { step: string; command?: string; stderr?: string; message: string };
  /** Set on the entry the box returns to on failure and on boot. */
  lastGood: boolean;
  tryUntil?: string;
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
    const entry = { ...e, id: this.data.nextId++ };
    this.data.entries.push(entry);
    if (this.data.entries.length > MAX_ENTRIES) {
      const keep = this.data.entries.filter((x) => x.lastGood);
      this.data.entries = [
        ...keep,
        ...this.data.entries.filter((x) => !x.lastGood).slice(-(MAX_ENTRIES - keep.length)),
      ].sort((a, b) => a.id - b.id);
    }
    this.save();
    return entry;
  }

  update(id: number, patch: Partial<HistoryEntry>): void {
    const e = this.get(id);
    if (!e) return;
    Object.assign(e, patch);
    this.save();
  }

  markLastGood(id: number): void {
    for (const e of this.data.entries) e.lastGood = e.id === id;
    this.save();
  }

  private save(): void {
    writePrivateFile(this.file, JSON.stringify(this.data, null, 1));
  }
}
