// Bundles what the appliance runs into plain JavaScript (esbuild), so no Node process on the
// box strips TypeScript types at start: Node's type stripper is a WebAssembly module (amaro),
// and compiling WebAssembly under emulation is where V8's JIT-page check failed (docs/iso.md).
// A few bundles also load much faster than the hundreds of source modules they replace.
//
//   apps/agent/dist/{main,worker-boot}.js + shared chunks   the CLI, the daemon, the NFQUEUE
//                                                          workers (`new Worker(...)`)
//   packages/api/dist/{index,peer}.js + chunks             @sluice/api as the dashboard's
//                                                          .next output imports it at run time
//   apps/web/server.js                                     the dashboard's server, with the
//                                                          part of Next it loads at start
//                                                          (bundle-next.ts)
//
// Native addons and Prisma's runtime (addons, WebAssembly) stay in node_modules, and so does
// the rest of Next. Every source module keeps its own `import.meta.url` (the path it has in the image,
// which keeps the repository's layout), so paths computed from it (Prisma's migrations, the
// pattern set, the app catalogue) still hold; the entry points keep the bundle's own. The
// workspaces' TypeScript sources are then removed from DEST, so a forgotten `.ts` import
// fails the build's warm-up run (warm-cache.sh) instead of stripping types on the box.
//
// usage: node bundle-app.ts REPO DEST [--web]      (DEST is the image's /opt/sluice)

import { readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type BuildOptions, type Plugin } from "esbuild";
import { nextServerPlugin } from "./bundle-next.ts";

const IMAGE_ROOT = "/opt/sluice";

const [repoArg, destArg, ...flags] = process.argv.slice(2);
if (!repoArg || !destArg) {
  console.error("usage: node bundle-app.ts REPO DEST [--web]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const DEST = resolve(destArg);
const WEB = flags.includes("--web");

/** Loaded from node_modules at run time: native addons, WebAssembly, files beside their code. */
const EXTERNAL = ["re2", "koffi", "better-sqlite3", "@node-rs/argon2", "@prisma/*", "pg", "next", "next/*"];

/** Source rewrites that must happen (the build fails if one no longer matches). */
const REWRITES: { file: string; from: string; to: string }[] = [
  {
    // the worker's entry is a bundle of its own beside the agent's (entryNames below)
    file: "apps/agent/src/nfqueue/data-plane.ts",
    from: 'new URL("./worker-boot.ts", import.meta.url)',
    to: 'new URL("./worker-boot.js", import.meta.url)',
  },
];

/**
 * Prisma's query compiler ships as a 4.4 MB JavaScript module holding the WebAssembly in
 * base64, which Node reads, hashes and parses (or loads from the compile cache) before Prisma
 * decodes it again: ~120 ms of CPU natively, seconds under emulation. In the bundle that
 * module becomes a small one reading the binary (written to node_modules by PRISMA_WASM
 * below) and handing it to Prisma as is: the generated client decodes it with
 * `Buffer.from(wasm, "base64")`, which copies a Buffer unchanged (the encoding only applies
 * to strings), so no base64 text is made and decoded again (~0.1 s of the dashboard's start
 * in a native CPU profile; PRISMA_DECODE checks the generated client still decodes that way).
 */
const PRISMA_WASM = /^@prisma\/client\/runtime\/(query_compiler_[\w]+\.[\w]+)\.wasm-base64\.mjs$/;
const prismaWasm = new Set<string>();
const prismaWasmFile = (name: string) =>
  join(IMAGE_ROOT, "node_modules/@prisma/client/runtime", `${name}.wasm`);
/** How the generated client turns the module's `wasm` into bytes (see above). */
const PRISMA_DECODE = 'Buffer.from(wasmBase64, "base64")';
const prismaDecodeChecked = new Set<string>();
const prismaWasmPlugin: Plugin = {
  name: "sluice-prisma-wasm",
  setup(b) {
    b.onResolve({ filter: PRISMA_WASM }, (args) => ({
      path: PRISMA_WASM.exec(args.path)![1]!,
      namespace: "prisma-wasm",
    }));
    b.onLoad({ filter: /[\\/]generated[\\/][^\\/]+[\\/]internal[\\/]class\.ts$/ }, (args) => {
      if (!readFileSync(args.path, "utf8").includes(PRISMA_DECODE))
        throw new Error(
          `bundle-app: ${args.path} no longer decodes the query compiler with ${PRISMA_DECODE}`,
        );
      prismaDecodeChecked.add(args.path);
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "prisma-wasm" }, (args) => {
      prismaWasm.add(args.path);
      return {
        contents: `import { readFileSync } from "node:fs";\nexport const wasm = readFileSync(${JSON.stringify(prismaWasmFile(args.path))});\n`,
        loader: "js",
      };
    });
  },
};

function sourcePaths(entries: string[]): Plugin {
  const entryFiles = new Set(entries.map((e) => resolve(REPO, e)));
  return {
    name: "sluice-source-paths",
    setup(b) {
      b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        const rel = relative(REPO, args.path);
        if (rel.startsWith("..") || rel.split("/").includes("node_modules")) return undefined;
        let text = readFileSync(args.path, "utf8");
        for (const r of REWRITES.filter((w) => w.file === rel)) {
          if (!text.includes(r.from)) throw new Error(`bundle-app: ${rel} no longer has ${r.from}`);
          text = text.replace(r.from, r.to.replace("import.meta.url", "import.meta.bundleUrl"));
        }
        if (!entryFiles.has(args.path)) {
          const image = join(IMAGE_ROOT, rel);
          text = text
            .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(image).href))
            .replaceAll("import.meta.filename", JSON.stringify(image))
            .replaceAll("import.meta.dirname", JSON.stringify(join(image, "..")));
        }
        return { contents: text.replaceAll("import.meta.bundleUrl", "import.meta.url"), loader: "ts" };
      });
    },
  };
}

async function bundle(entries: string[], outdir: string, extra: BuildOptions = {}): Promise<void> {
  const res = await build({
    entryPoints: entries.map((e) => join(REPO, e)),
    outdir: join(DEST, outdir),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    external: EXTERNAL,
    entryNames: "[name]",
    chunkNames: "[name]-[hash]",
    // CommonJS dependencies (commander, pino, prom-client…) call require(): give the
    // ES-module bundle one
    banner: {
      js: 'import { createRequire as __sluiceRequire } from "node:module"; const require = __sluiceRequire(import.meta.url);',
    },
    // prismaWasmPlugin first: its check of the generated client falls through to sourcePaths
    plugins: [prismaWasmPlugin, sourcePaths(entries)],
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
    ...extra,
  });
  const inputs = Object.keys(res.metafile?.inputs ?? {}).length;
  const outputs = Object.keys(res.metafile?.outputs ?? {}).length;
  console.log(`bundle-app: ${outdir}: ${inputs} modules → ${outputs} files`);
}

await bundle(["apps/agent/src/cli/main.ts", "apps/agent/src/nfqueue/worker-boot.ts"], "apps/agent/dist");
if (WEB) {
  await bundle(
    ["packages/api/src/index.ts", "packages/api/src/http/client-address.ts"],
    "packages/api/dist",
    {
      entryNames: "[name]",
    },
  );
  // peer.js: what `@sluice/api/peer` names
  const peer = join(DEST, "packages/api/dist/client-address.js");
  // Next's server start in the same file (bundle-next.ts): `next` is no longer external
  await bundle(["apps/web/server.ts"], "apps/web", {
    splitting: false,
    external: EXTERNAL.filter((e) => e !== "next" && e !== "next/*"),
    plugins: [
      prismaWasmPlugin,
      sourcePaths(["apps/web/server.ts"]),
      await nextServerPlugin(REPO, IMAGE_ROOT),
    ],
  });
  const apiPkg = join(DEST, "packages/api/package.json");
  const pkg = JSON.parse(readFileSync(apiPkg, "utf8")) as Record<string, unknown>;
  pkg.exports = { ".": "./dist/index.js", "./peer": `./${relative(join(DEST, "packages/api"), peer)}` };
  writeFileSync(apiPkg, JSON.stringify(pkg, null, 2) + "\n");
}
// the query compilers the bundles read as binaries (prismaWasmPlugin), in place of their
// base64 modules
for (const name of prismaWasm) {
  const runtime = join(DEST, "node_modules/@prisma/client/runtime");
  const mod = (await import(pathToFileURL(join(runtime, `${name}.wasm-base64.mjs`)).href)) as {
    wasm: string;
  };
  writeFileSync(join(runtime, `${name}.wasm`), Buffer.from(mod.wasm, "base64"));
  rmSync(join(runtime, `${name}.wasm-base64.mjs`));
}
if (prismaWasm.size && !prismaDecodeChecked.size)
  throw new Error("bundle-app: Prisma's query compiler is bundled but no generated client was checked");
if (prismaWasm.size)
  console.log(`bundle-app: Prisma's query compilers as binaries: ${[...prismaWasm].join(", ")}`);
// CommonJS packages loaded at start as many small modules, made one file each in place (the
// same code: what `require` of the package name loads). @opentelemetry/api: 51 modules, which
// Next's tracer loads at start (the agent's bundle has its own copy); ~27 → ~9 ms of CPU
// natively, about 0.3 s under user-mode emulation (docs/iso.md). Its state is global
// (Symbol.for), so a module of it loaded apart (e.g. its `./experimental` entry) still shares it.
for (const [pkg, entry] of [["@opentelemetry/api", "dist/index.cjs"]] as const) {
  const file = join(DEST, "node_modules", pkg, entry);
  if (!existsSync(file)) continue;
  const res = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    platform: "node",
    format: "cjs",
    target: "node24",
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
  });
  writeFileSync(file, res.outputFiles[0]!.contents);
  console.log(`bundle-app: ${pkg}: ${Object.keys(res.metafile.inputs).length} modules → 1 file`);
}
// the sources are in the bundles now (the db's migrations and the web build stay)
for (const dir of [
  "apps/agent/src",
  "packages/classifier/src",
  "packages/policy/src",
  "packages/agent-contract/src",
  "packages/api/src",
  "packages/db/src",
])
  rmSync(join(DEST, dir), { recursive: true, force: true });
if (WEB && existsSync(join(DEST, "apps/web/server.ts"))) rmSync(join(DEST, "apps/web/server.ts"));
