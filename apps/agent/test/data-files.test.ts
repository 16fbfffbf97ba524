// The agent's data files hold every policy and the user names that applied them: root only.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy } from "@sluice/policy";
import { HistoryStore } from "../src/apply/store.ts";
import { HostIdRegistry } from "../src/apply/host-ids.ts";

const mode = (f: string) => statSync(f).mode & 0o777;

test("history.json and host-ids.json are written 0600, and an older 0644 file is narrowed", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-data-"));
  const old = process.umask(0o022);
  try {
    const store = new HistoryStore(dir);
    store.add({
      at: new Date().toISOString(),
      user: "admin",
      policy: defaultPolicy(),
      status: "applied",
      scripts: { tc: "", iptables: "", ip6tables: "" },
      lastGood: true,
    });
    assert.equal(mode(join(dir, "history.json")).toString(8), "600");
    // left by an older agent, world-readable, and a temp file left by a crash
    writeFileSync(join(dir, "history.json"), JSON.stringify({ nextId: 2, entries: [] }), { mode: 0o644 });
    writeFileSync(join(dir, "history.json.tmp"), "", { mode: 0o644 });
    const again = new HistoryStore(dir);
    assert.equal(mode(join(dir, "history.json")).toString(8), "600", "narrowed on open");
    again.markLastGood(1);
    assert.equal(mode(join(dir, "history.json")).toString(8), "600");
    const ids = new HostIdRegistry(dir);
    ids.ids(["*.example.com"], 255);
    assert.equal(mode(join(dir, "host-ids.json")).toString(8), "600");
  } finally {
    process.umask(old);
    rmSync(dir, { recursive: true, force: true });
  }
});
