// Fault injection (issue 16): the dashboard's SQLite database locked by another process
// (a writer that holds it: a backup tool, a stuck sqlite3 shell). Apply and save are refused
// with a clear, retryable error (SERVICE_UNAVAILABLE, "the database is busy"), the box stays
// on its last good policy (the agent is not asked to apply anything it could not record),
// what was saved before is intact, and everything works once the lock is gone.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createDb, type Db } from "@sluice/db";
import { defaultPolicy } from "@sluice/policy";
import { createDeps, configFromEnv, type ApiDeps } from "../src/index.ts";
import { TestAgent } from "@sluice/agent/testing";
import { Browser, trpcError } from "./harness.ts";

let dir: string;
let db: Db;
let agent: TestAgent;
let deps: ApiDeps;
let admin: Browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-db-locked-"));
  const socket = join(dir, "agent.sock");
  // a short busy timeout keeps the test quick (the default waits 15 s for the lock)
  db = await createDb({ url: `file:${join(dir, "sluice.db")}`, busyTimeoutMs: 300 });
  agent = await TestAgent.start({ socket, initialPolicy: defaultPolicy(), sampleMs: 0 });
  deps = createDeps(db, { ...configFromEnv({}), socket });
  admin = new Browser(deps);
  await (await admin.api()).auth.getSession();
  await (await admin.api()).auth.setupAdmin({ username: "admin", password: "correct horse" });
});

after(async () => {
  await deps.stats.stop();
  await agent.stop();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Another process's write lock on the database file, until released. (A process: SQLite's
 * POSIX locks never conflict within one process, whichever library opened the file.)
 */
async function lockDatabase(): Promise<() => Promise<void>> {
  const holder = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "-e",
      `const db = new (require("node:sqlite").DatabaseSync)(process.argv[1]);
       db.exec("BEGIN IMMEDIATE");
       console.log("locked");
       process.stdin.on("end", () => { db.exec("ROLLBACK"); db.close(); });
       process.stdin.resume();`,
      join(dir, "sluice.db"),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  await once(holder.stdout!, "data");
  return async () => {
    holder.stdin!.end();
    await once(holder, "exit");
  };
}

async function editedPolicy(rate: string) {
  const p = structuredClone((await (await admin.api()).policy.getPolicy()).policy);
  const web = p.classes.upload.find((c: { name: string }) => c.name === "web")!;
  (web as { rate: string | number }).rate = rate;
  return p;
}

test("a locked database: apply refused with a clear error, box on its last good policy, nothing lost", async () => {
  // an edit to apply (an unchanged policy is refused: nothing to apply)
  await (await admin.api()).policy.savePolicy({ policy: await editedPolicy("6500kbit"), what: "classes" });
  const first = await (await admin.api()).deploy.applyPolicy();
  assert.equal(first.entry.status, "applied");
  await (await admin.api()).policy.savePolicy({ policy: await editedPolicy("6mbit"), what: "classes" });
  const historyBefore = await deps.agent.history();
  const versionsBefore = (await db.versions.list({ limit: 100 })).items.length;

  const release = await lockDatabase();
  try {
    const e = await trpcError(async () => (await admin.api()).deploy.applyPolicy());
    assert.equal(e.code, "SERVICE_UNAVAILABLE", e.message);
    assert.match(e.message, /the database is busy/);
    const history = await deps.agent.history();
    assert.equal(history.length, historyBefore.length, "the agent was not asked to apply");
    assert.equal(history.find((h) => h.lastGood)?.id, first.entry.id, "the box is on its last good policy");

    // saving is refused the same way; what was saved before is still there (readers go on)
    const s = await trpcError(async () =>
      (await admin.api()).policy.savePolicy({ policy: await editedPolicy("5mbit"), what: "classes" }),
    );
    assert.equal(s.code, "SERVICE_UNAVAILABLE", s.message);
    const kept = (await (await admin.api()).policy.getPolicy()).policy;
    assert.equal(
      kept.classes.upload.find((c: { name: string }) => c.name === "web")!.rate,
      6_000_000,
      "the saved edit (6 Mbit/s) is kept",
    );
  } finally {
    await release();
  }

  // the lock gone: the same apply goes through and is recorded
  const again = await (await admin.api()).deploy.applyPolicy();
  assert.equal(again.entry.status, "applied");
  assert.equal((await deps.agent.history()).find((h) => h.lastGood)?.id, again.entry.id);
  assert.equal((await db.versions.list({ limit: 100 })).items.length, versionsBefore + 1);
});
