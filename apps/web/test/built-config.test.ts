// apps/web/server.ts starts Next with the configuration `next build` resolved (what Next's own
// standalone server does), so next.config is not loaded and completed again at every start.
// The e2e tests run the real server with it; here, the hand-over itself.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useBuiltConfig } from "../server.ts";

const KEY = "__NEXT_PRIVATE_STANDALONE_CONFIG";

test("the build's resolved configuration goes to Next through the environment", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-built-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, ".next"));
  const config = { poweredByHeader: false, distDir: ".next", reactStrictMode: true };
  writeFileSync(join(dir, ".next", "required-server-files.json"), JSON.stringify({ version: 1, config }));
  const env = {} as NodeJS.ProcessEnv;
  assert.equal(useBuiltConfig(dir, env), true);
  assert.deepEqual(JSON.parse(env[KEY]!), config);
});

test("no build output, or a configuration set already: nothing changes", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-built-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = {} as NodeJS.ProcessEnv;
  assert.equal(useBuiltConfig(dir, env), false);
  assert.equal(env[KEY], undefined);
  const set = {} as NodeJS.ProcessEnv;
  set[KEY] = '{"distDir":".next"}';
  assert.equal(useBuiltConfig(dir, set), true);
  assert.equal(set[KEY], '{"distDir":".next"}');
});
