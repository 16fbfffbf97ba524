// Builds the dashboard (`next build`) unless the build in .next is of the current sources.
// The server side (@sluice/api, @sluice/db) is not part of the bundle, so only the web app,
// @sluice/policy (bundled for the browser) and the config count. Usable as a script
// (scripts/start-web.sh) and as a module (the e2e test).

import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(WEB_DIR, "../..");
const STAMP = join(WEB_DIR, ".next", "sluice-source-stamp");

function files(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

export function sourceStamp(): string {
  const h = createHash("sha256");
  const list = [
    ...files(join(WEB_DIR, "src")),
    ...files(join(ROOT, "packages/policy/src")),
    join(ROOT, "packages/api/src/client-types.ts"),
    join(WEB_DIR, "next.config.ts"),
    join(WEB_DIR, "package.json"),
    join(WEB_DIR, "tsconfig.json"),
  ].sort();
  for (const f of list) {
    if (!existsSync(f)) continue;
    h.update(f);
    h.update(readFileSync(f));
  }
  return h.digest("hex");
}

export function isBuilt(): boolean {
  return (
    existsSync(join(WEB_DIR, ".next", "BUILD_ID")) &&
    existsSync(STAMP) &&
    readFileSync(STAMP, "utf8") === sourceStamp()
  );
}

/** Runs `next build` when needed; returns whether it built. Throws when the build fails. */
export function ensureBuild(opts: { skipTypecheck?: boolean; log?: (s: string) => void } = {}): boolean {
  if (isBuilt()) return false;
  const stamp = sourceStamp();
  opts.log?.("building the dashboard (next build)…");
  const r = spawnSync(join(ROOT, "node_modules/.bin/next"), ["build"], {
    cwd: WEB_DIR,
    stdio: opts.log ? ["ignore", "pipe", "pipe"] : "inherit",
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      ...(opts.skipTypecheck ? { SLUICE_NEXT_SKIP_TYPECHECK: "1" } : {}),
    },
    encoding: "utf8",
  });
  if (r.status !== 0)
    throw new Error(
      `next build failed (exit ${r.status}):\n${String(r.stdout ?? "").slice(-3000)}\n${String(r.stderr ?? "").slice(-3000)}`,
    );
  writeFileSync(STAMP, stamp);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = ensureBuild();
  console.log(built ? "dashboard built" : "dashboard build is up to date");
}
