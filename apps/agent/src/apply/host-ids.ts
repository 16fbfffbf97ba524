// Stable mark values for hostname rules. The data plane writes the matching rule's id into
// the mark's hostname field once, when it decides a connection; the kernel maps ids to
// classes. Giving a glob the same id for as long as it stays in the policy lets an apply
// that moves "*.example.com" to another class move its live connections too (as app ids
// do), whatever else was added, removed or reordered. Ids live in a small JSON file in the
// agent's data directory; an id is only reused once its glob has left the policy and the
// table is full.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFile } from "./private-file.ts";
import { StoreError } from "./store.ts";

interface Entry {
  id: number;
  /** Last time the glob was in a rendered policy (ms since the epoch). */
  seen: number;
}

export class HostIdRegistry {
  private readonly byGlob = new Map<string, Entry>();
  private readonly file: string | null;

  /** `dir`: where host-ids.json lives (null: in memory only, e.g. tests and dry renders). */
  constructor(dir: string | null) {
    this.file = dir ? join(dir, "host-ids.json") : null;
    if (this.file && existsSync(this.file)) {
      try {
        const doc = JSON.parse(readFileSync(this.file, "utf8")) as Record<string, Entry>;
        for (const [glob, e] of Object.entries(doc))
          if (Number.isInteger(e.id) && e.id > 0) this.byGlob.set(glob, { id: e.id, seen: e.seen ?? 0 });
      } catch {
        // a damaged file only costs live re-routing of hostname rules: start afresh
      }
    }
  }

  /**
   * Ids for the globs of one policy (1..max), keeping the ids the globs had; new globs take
   * the lowest id no glob holds, else the one of the glob unseen the longest. Throws when
   * the policy has more hostname rules than the field holds (validation refuses those).
   */
  ids(globs: readonly string[], max: number): Map<string, number> {
    const now = Date.now();
    const before = new Map([...this.byGlob].map(([k, v]) => [k, { ...v }]));
    const keys = [...new Set(globs.map((g) => g.toLowerCase()))];
    if (keys.length > max) throw new RangeError(`${keys.length} hostname rules, the mark field holds ${max}`);
    const out = new Map<string, number>();
    const wanted = new Set(keys);
    let changed = false;
    for (const k of keys) {
      const e = this.byGlob.get(k);
      if (e && e.id <= max && ![...out.values()].includes(e.id)) {
        out.set(k, e.id);
        if (e.seen !== now) e.seen = now;
      }
    }
    for (const k of keys) {
      if (out.has(k)) continue;
      const taken = new Set([...this.byGlob.values()].map((e) => e.id));
      let id = 0;
      for (let i = 1; i <= max; i++)
        if (!taken.has(i)) {
          id = i;
          break;
        }
      if (id === 0) {
        // full: take the id of the glob out of the policy for the longest time
        const [oldGlob, old] = [...this.byGlob.entries()]
          .filter(([g]) => !wanted.has(g))
          .sort((a, b) => a[1].seen - b[1].seen)[0]!;
        this.byGlob.delete(oldGlob);
        id = old.id;
      }
      for (const [g, e] of this.byGlob) if (e.id === id && !wanted.has(g)) this.byGlob.delete(g);
      this.byGlob.set(k, { id, seen: now });
      out.set(k, id);
      changed = true;
    }
    if (changed) {
      try {
        this.save();
      } catch (e) {
        // not recorded, so not given: the next render tries again with the ids on disk
        this.byGlob.clear();
        for (const [k, v] of before) this.byGlob.set(k, v);
        throw new StoreError(this.file ?? "host-ids.json", e);
      }
    }
    return new Map(globs.map((g) => [g, out.get(g.toLowerCase())!]));
  }

  private save(): void {
    if (!this.file) return;
    writePrivateFile(this.file, JSON.stringify(Object.fromEntries(this.byGlob), null, 1));
  }
}
