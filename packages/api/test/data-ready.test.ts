// The dashboard may start before its data directory is mounted (the appliance): with
// SLUICE_DATA_READY set, the database is opened only once that file exists, so nothing is
// written under a mount point before the disk is on it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createDepsFromEnv } from "../src/deps.ts";
import { dataReady } from "../src/data-ready.ts";

test("unset: nothing waits", async () => {
  await dataReady({});
});

test("the database is opened only after SLUICE_DATA_READY appears", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-ready-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ready = join(dir, "storage");
  const saved = { data: process.env.SLUICE_DATA, url: process.env.DATABASE_URL };
  process.env.SLUICE_DATA = dir;
  delete process.env.DATABASE_URL;
  t.after(() => {
    if (saved.data === undefined) delete process.env.SLUICE_DATA;
    else process.env.SLUICE_DATA = saved.data;
    if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
  });
  let done = false;
  const deps = createDepsFromEnv({ ...process.env, SLUICE_DATA_READY: ready }).finally(() => {
    done = true;
  });
  await sleep(400);
  assert.equal(done, false, "the deps must wait for the ready file");
  assert.equal(existsSync(join(dir, "sluice.db")), false, "no database before the ready file");
  writeFileSync(ready, "persistent /dev/vda\n");
  const d = await deps;
  t.after(() => d.db.close());
  assert.equal(existsSync(join(dir, "sluice.db")), true);
});
