// Copies what the appliance runs into DEST (the image's /opt/sluice), in the repository's own
// layout so every relative path the code uses still holds:
//   apps/agent, packages/{classifier,policy}            always
//   apps/web (.next build), packages/{api,db}           with --web
//   protocols/ (the .pat files, l7-filter.conf and the app catalogue, no fixtures)
//   node_modules/  the production dependencies only, found by walking `dependencies`,
//                  `optionalDependencies` and installed `peerDependencies` from the shipped
//                  workspaces with Node's own resolution, minus build-time-only packages
//                  (Prisma's CLI and studio, TypeScript, Next's SWC compiler, sharp, @types).
// Workspace packages stay symlinks (node_modules/@sluice/x → ../../packages/x); bundle-app.ts
// then replaces their TypeScript sources with JavaScript bundles. Native addons keep only their
// built .node files. Prints nothing but a one-line summary (and warnings).
//
// usage: node stage-app.ts REPO DEST [--web]

import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  realpathSync,
} from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

const [repoArg, destArg, ...flags] = process.argv.slice(2);
if (!repoArg || !destArg) {
  console.error("usage: node stage-app.ts REPO DEST [--web]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const DEST = resolve(destArg);
const WEB = flags.includes("--web");

/** Build-time-only packages (and everything only they pull in). */
const EXCLUDE = [
  /^prisma$/, // the Prisma CLI: the generated client and the runtime migrator need no CLI
  /^@prisma\/(studio-core|dev|fetch-engine|engines|get-platform|schema-engine-wasm|config)$/,
  /^typescript$/,
  /^@types\//,
  /^@next\/swc-/, // next start reads next.config.ts with Node's own type stripping
  /^sharp$/,
  /^@img\//, // next/image optimisation: the dashboard serves no raster images
  /^playwright(-core)?$/,
  /^@electric-sql\//,
  // native addons' build tools (the addons are built already)
  /^(node-gyp|nan|node-addon-api|install-artifact-from-github|prebuild-install)$/,
];
const excluded = (name: string) => EXCLUDE.some((r) => r.test(name));

/** Files never needed at run time (docs, maps, type declarations, sources of native addons). */
const DROP_FILE = /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.md|\.markdown|\.tsbuildinfo|\.flow|\.gyp|\.gypi)$/i;
const DROP_DIR = new Set([
  "docs",
  "doc",
  ".github",
  "example",
  "examples",
  "test",
  "tests",
  "__tests__",
  "benchmark",
  "bench",
  ".vscode",
]);
// Per package: directories inside it that are only sources or build intermediates.
const NATIVE_DROP: Record<string, string[]> = {
  re2: [
    "vendor",
    "build/Release/obj.target",
    "build/Release/.deps",
    "build/Release/obj",
    "build/deps",
    "lib",
    "scripts",
    "llms.txt",
    "llms-full.txt",
  ],
  "better-sqlite3": ["deps", "src", "build/Release/obj.target", "build/Release/.deps", "build/deps"],
  koffi: ["src", "vendor", "doc"],
};

const keepFile = (p: string) => !DROP_FILE.test(p) || /LICEN[CS]E/i.test(basename(p));

function copyTree(src: string, dst: string, filter?: (p: string) => boolean) {
  cpSync(src, dst, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (s) => {
      const rel = relative(src, s);
      if (!rel) return true;
      const st = lstatSync(s);
      if (st.isDirectory()) {
        if (basename(s) === "node_modules") return false;
        if (DROP_DIR.has(basename(s)) && !rel.startsWith("dist")) return false;
      } else if (!keepFile(s)) return false;
      return filter ? filter(rel) : true;
    },
  });
}

// ---- workspaces ------------------------------------------------------------------------------
const workspaces: { dir: string; parts: string[] }[] = [
  { dir: "apps/agent", parts: ["package.json", "bin", "src"] },
  { dir: "packages/classifier", parts: ["package.json", "src"] },
  { dir: "packages/policy", parts: ["package.json", "src"] },
  { dir: "packages/agent-contract", parts: ["package.json", "src"] },
];
if (WEB)
  workspaces.push(
    { dir: "packages/api", parts: ["package.json", "src"] },
    { dir: "packages/db", parts: ["package.json", "src", "prisma"] },
    { dir: "apps/web", parts: ["package.json", "server.ts", "next.config.ts", "public", ".next"] },
  );

rmSync(DEST, { recursive: true, force: true });
mkdirSync(DEST, { recursive: true });
writeFileSync(
  join(DEST, "package.json"),
  JSON.stringify({ name: "sluice-appliance", private: true, type: "module" }, null, 2) + "\n",
);
for (const w of workspaces) {
  for (const part of w.parts) {
    const src = join(REPO, w.dir, part);
    if (!existsSync(src)) continue;
    if (part === ".next") {
      // the build output without its caches and build-time traces
      copyTree(src, join(DEST, w.dir, part), (rel) => {
        const top = rel.split("/")[0]!;
        return !["cache", "trace", "trace-build", "diagnostics", "types", "lock", "turbopack"].includes(top);
      });
    } else if (lstatSync(src).isDirectory())
      copyTree(src, join(DEST, w.dir, part), (rel) => !/(^|\/)(test|testing|bench)(\/|$)/.test(rel));
    else cpSync(src, join(DEST, w.dir, part));
  }
}
// next.config.ts → next.config.mjs (types stripped here): `next start` would otherwise load
// its SWC compiler for the config, and, finding none (it is left out), download one.
const nextTs = join(DEST, "apps/web/next.config.ts");
if (existsSync(nextTs)) {
  const { stripTypeScriptTypes } = await import("node:module");
  writeFileSync(join(DEST, "apps/web/next.config.mjs"), stripTypeScriptTypes(readFileSync(nextTs, "utf8")));
  rmSync(nextTs);
}

// the pattern set: .pat files and the priority config, not the fixtures
mkdirSync(join(DEST, "protocols"), { recursive: true });
for (const f of readdirSync(join(REPO, "protocols")))
  if (f.endsWith(".pat") || f.endsWith(".conf"))
    cpSync(join(REPO, "protocols", f), join(DEST, "protocols", f));
// the application catalogue beside them (app and category rules, app ids in the marks)
mkdirSync(join(DEST, "protocols/apps"), { recursive: true });
cpSync(join(REPO, "protocols/apps/catalogue.json"), join(DEST, "protocols/apps/catalogue.json"));

// ---- production node_modules -------------------------------------------------------------------
interface Pkg {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const readPkg = (dir: string): Pkg => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Pkg;

/** Node's lookup: DIR/node_modules/NAME, then each parent's, up to the repository root. */
function resolvePkg(fromDir: string, name: string): string | null {
  let d = fromDir;
  for (;;) {
    const p = join(d, "node_modules", name);
    if (existsSync(join(p, "package.json"))) return p;
    if (d === REPO || d === dirname(d)) return null;
    d = dirname(d);
  }
}

const copied = new Set<string>();
const missing: string[] = [];
const skipped = new Set<string>();
const queue: string[] = workspaces.map((w) => join(REPO, w.dir));
const seen = new Set<string>();
while (queue.length) {
  const dir = queue.shift()!;
  if (seen.has(dir)) continue;
  seen.add(dir);
  const pkg = readPkg(dir);
  const deps = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  for (const name of deps) {
    if (excluded(name)) {
      skipped.add(name);
      continue;
    }
    const at = resolvePkg(dir, name);
    if (!at) {
      const optional =
        name in (pkg.optionalDependencies ?? {}) ||
        (name in (pkg.peerDependencies ?? {}) && !(name in (pkg.dependencies ?? {})));
      if (!optional) missing.push(`${name} (from ${relative(REPO, dir) || "."})`);
      continue;
    }
    const rel = relative(REPO, at);
    if (copied.has(rel)) continue;
    copied.add(rel);
    const real = realpathSync(at);
    if (lstatSync(at).isSymbolicLink() && !relative(REPO, real).includes("node_modules")) {
      // a workspace package: link it, its sources are copied above (or it is not shipped)
      const target = relative(REPO, real);
      if (!workspaces.some((w) => w.dir === target)) {
        missing.push(`${name} (workspace ${target} is not shipped)`);
        continue;
      }
      mkdirSync(dirname(join(DEST, rel)), { recursive: true });
      symlinkSync(relative(dirname(join(DEST, rel)), join(DEST, target)), join(DEST, rel));
      continue;
    }
    const drop = (NATIVE_DROP[name] ?? []).map((d) => join(real, d));
    copyTree(real, join(DEST, rel), (r) => {
      const abs = join(real, r);
      if (drop.some((d) => abs === d || abs.startsWith(d + "/"))) return false;
      // koffi ships prebuilt addons for every platform: keep linux x64
      if (name === "koffi" && /^build\/koffi\/[^/]+/.test(r) && !/^build\/koffi\/linux_x64(\/|$)/.test(r))
        return false;
      // prebuilt addons (prebuilds/<platform>-<arch>[.node]): keep glibc linux x64
      if (/^prebuilds\/[^/]+/.test(r) && !/^prebuilds\/linux-x64([./]|$)/.test(r)) return false;
      return true;
    });
    queue.push(real);
  }
}

// Trim Prisma's runtime to the query compilers the generated clients import (SQLite and
// PostgreSQL, their ES-module copies: about 4.5 MB of base64 WebAssembly each); the CommonJS
// copies and the other databases' compilers are never loaded.
const prismaRuntime = join(DEST, "node_modules/@prisma/client/runtime");
if (existsSync(prismaRuntime)) {
  const imported = new Set<string>();
  const scan = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) scan(p);
      else if (e.name.endsWith(".ts"))
        for (const m of readFileSync(p, "utf8").matchAll(
          /@prisma\/client\/runtime\/(query_compiler[\w.-]+)/g,
        ))
          imported.add(m[1]!);
    }
  };
  const generated = join(DEST, "packages/db/src/generated");
  if (existsSync(generated)) scan(generated);
  for (const f of readdirSync(prismaRuntime))
    if (
      /\.(mysql|cockroachdb|sqlserver)\./.test(f) ||
      /^query_compiler_small_bg\./.test(f) ||
      (imported.size && f.startsWith("query_compiler") && !imported.has(f))
    )
      rmSync(join(prismaRuntime, f));
}
// Next's documentation copy and its dev-only bundles
for (const d of ["node_modules/next/dist/docs", "node_modules/next/dist/bundle-analyzer"])
  rmSync(join(DEST, d), { recursive: true, force: true });

if (missing.length) console.error(`stage-app: WARNING unresolved dependencies: ${missing.join(", ")}`);
console.log(
  `stage-app: ${workspaces.length} workspaces, ${copied.size} packages${WEB ? " (with the dashboard)" : " (agent only)"}; left out: ${[...skipped].sort().join(" ")}`,
);
