// db:generate (and postinstall): derives schema.postgres.prisma from schema.prisma, then runs
// `prisma generate` for both. PRISMA_SCHEMA_ENGINE_BINARY=/bin/false keeps the Prisma CLI
// from trying to download its native schema engine (generate does not need it).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync, type Dirent } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as Prettier from "prettier";
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

/**
 * Formats the generated clients with the repo's prettier config: the root `prettier --check .`
 * reads only the root ignore files, so src/generated must be formatted to pass it. Skipped
 * when prettier is not installed (a production install).
 */
export async function formatGenerated(): Promise<number> {
  let prettier: typeof Prettier;
  try {
    prettier = await import("prettier");
  } catch {
    return 0;
  }
  const root = join(PKG_DIR, "src", "generated");
  const files = (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => join(d.parentPath, d.name));
  const options = (await prettier.resolveConfig(join(PKG_DIR, "package.json"))) ?? {};
  await Promise.all(
    files.map(async (file) => {
      const text = readFileSync(file, "utf8");
      const out = await prettier.format(text, { ...options, filepath: file });
      if (out !== text) writeFileSync(file, out);
    }),
  );
  return files.length;
}

const STAMP = join(PKG_DIR, "src", "generated", ".stamp");

/** What the generated output depends on: both schemas, the Prisma versions, this script. */
function inputsHash(): string {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string }).version;
  const h = createHash("sha256");
  for (const p of PROVIDERS) h.update(readFileSync(FILES[p].schemaPath));
  h.update(`${version("prisma")} ${version("@prisma/client")}`);
  h.update(readFileSync(new URL(import.meta.url)));
  return h.digest("hex");
}

/** Generates both clients unless the output is there for the same inputs (or force). */
export async function generate(opts: { force?: boolean } = {}): Promise<void> {
  if (writePostgresSchema()) console.log("db: wrote prisma/schema.postgres.prisma");
  const want = inputsHash();
  const have = existsSync(STAMP) ? readFileSync(STAMP, "utf8") : "";
  const complete = PROVIDERS.every((p) => existsSync(join(PKG_DIR, "src", "generated", p, "client.ts")));
  if (!opts.force && complete && have === want) {
    console.log("db: the generated clients are up to date (db:generate -- --force to redo)");
    return;
  }
  const t0 = Date.now();
  await Promise.all(PROVIDERS.map((p) => prismaGenerate(p)));
  const t1 = Date.now();
  const n = await formatGenerated();
  writeFileSync(STAMP, want);
  console.log(
    `db: generated the sqlite and postgres clients in ${t1 - t0} ms` +
      (n ? `, formatted ${n} files in ${Date.now() - t1} ms` : ""),
  );
}

if (import.meta.main) {
  generate({ force: process.argv.includes("--force") }).catch((e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
