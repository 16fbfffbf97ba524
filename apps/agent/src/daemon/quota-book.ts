// The used amount of each quota in the current period, kept in the agent's data directory
// (quota-usage.json): read back from the kernel's quota objects every few seconds and
// before every apply, written whole to a temp file, flushed to disk and renamed, so a
// restart or a reboot carries on from the last amount saved (at most one poll behind).
// The kernel counts and demotes; this file only remembers.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { PRIVATE_MODE } from "../apply/private-file.ts";

interface BookFile {
  version: 1;
  /** Quota name → the period its amount belongs to, and the bytes used in it. */
  used: Record<string, { period: string; bytes: number }>;
}

export class QuotaBook {
  readonly file: string;
  private data: BookFile = { version: 1, used: {} };
  private dirty = false;

  constructor(dataDir: string) {
    this.file = join(dataDir, "quota-usage.json");
    if (existsSync(this.file)) {
      try {
        const d = JSON.parse(readFileSync(this.file, "utf8")) as BookFile;
        if (d.version === 1 && d.used && typeof d.used === "object") this.data = d;
      } catch {
        // a torn file cannot happen (rename), but a hand-edited one can: start from zero
      }
    }
  }

  /** Bytes used by `name` in `period` (0 in a period not recorded yet). */
  used(name: string, period: string): number {
    const u = this.data.used[name];
    return u && u.period === period ? u.bytes : 0;
  }

  record(name: string, period: string, bytes: number): void {
    const u = this.data.used[name];
    if (u && u.period === period && u.bytes === bytes) return;
    this.data.used[name] = { period, bytes };
    this.dirty = true;
  }

  /** Writes the file if anything changed: temp file, fsync, rename, fsync of the directory. */
  save(): void {
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w", PRIVATE_MODE);
    try {
      writeSync(fd, JSON.stringify(this.data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    try {
      const dir = openSync(dirname(this.file), "r");
      fsyncSync(dir);
      closeSync(dir);
    } catch {
      /* some file systems refuse fsync on a directory */
    }
    this.dirty = false;
  }
}

/** `nft -j list quotas table inet sluice` → object name → bytes used. */
export function parseNftQuotas(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const items = (JSON.parse(text) as { nftables?: { quota?: { name?: string; used?: number } }[] }).nftables;
  for (const it of items ?? []) if (it.quota?.name) out.set(it.quota.name, Number(it.quota.used ?? 0));
  return out;
}
