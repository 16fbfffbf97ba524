// db:generate (and postinstall): derives schema.postgres.prisma from schema.prisma, then runs
// `prisma generate` for both. PRISMA_SCHEMA_ENGINE_BINARY=/bin/false keeps the Prisma CLI
// from trying to download its native schema engine (generate does not need it).

import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { FILES, PKG_DIR, PROVIDERS, schemaText, type Provider } from "./schemas.ts";

export function writePostgresSchema(): boolean {
  const want = schemaText("postgres");
  const path = FILES.postgres.schemaPath;
  if (existsSync(path) && readFileSync(path, "utf8") === want) return false;
  writeFileSync(path, want);
  return true;
}

export function prismaGenerate(provider: Provider): Promise<void> {
  const require = createRequire(import.meta.url);
  const cli = join(require.resolve("prisma/package.json"), "..", "build", "index.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, "generate", "--schema", FILES[provider].schemaPath], {
      cwd: PKG_DIR,
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false",
        CHECKPOINT_DISABLE: "1",
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        PRISMA_GENERATE_NO_HINTS: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`prisma generate (${provider}) exited with ${code}:\n${out.trim()}`)),
    );
  });
}

export async function generate(): Promise<void> {
  if (writePostgresSchema()) console.log("db: wrote prisma/schema.postgres.prisma");
  const t0 = Date.now();
  await Promise.all(PROVIDERS.map((p) => prismaGenerate(p)));
  console.log(`db: generated the sqlite and postgres clients in ${Date.now() - t0} ms`);
}

if (import.meta.main) {
  generate().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
