// Bundles the part of Next's server that `next()` loads at start (next.js, next-server.js,
// base-server.js, the router, … about 300 of its modules) into the dashboard's server.js, so the
// box does not resolve, read, hash and wrap each of them as a module of its own on every boot
// (under emulation each costs page faults and the CommonJS loader's work).
//
// What stays a module of its own, loaded by Node from node_modules as before:
//   - everything the `.next` build output and Next's precompiled runtimes
//     (`next/dist/compiled/next-server/*.runtime.prod.js`) load themselves: the `*.external.js`
//     modules (the request's async storages and the like, whose state the server shares with
//     the pages), `trace/tracer.js`, and every module those load (SHARED below): a second copy
//     inside the bundle would have state of its own;
//   - `next/dist/compiled/*` (already bundles) and every other package (`react` must still
//     go through Next's require hook, so bare names stay bare).
// Bundled modules keep their own `__dirname`/`__filename` (the image's path of the file), so
// paths computed from them still hold.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { build, type Plugin } from "esbuild";

/** The modules Next's runtimes and the build output load by themselves, and theirs (statically). */
async function sharedModules(nextDist: string, appServer: string): Promise<Set<string>> {
  const roots: string[] = [join(nextDist, "server/lib/trace/tracer.js")];
  // what the app's build output requires of Next by name (today only `*.external.js` and the
  // runtimes, but another page type may name others)
  for (const p of existsSync(appServer) ? filesUnder(appServer) : [])
    if (p.endsWith(".js"))
      for (const m of readFileSync(p, "utf8").matchAll(/require\("next\/(dist\/[^"]+)"\)/g)) {
        const f = join(nextDist, "..", m[1]!);
        for (const c of [f, `${f}.js`, join(f, "index.js")])
          if (c.endsWith(".js") && existsSync(c)) {
            roots.push(c);
            break;
          }
      }
  // the `*.external.js` modules (not the ESM copies, nor the precompiled packages)
  for (const p of filesUnder(nextDist))
    if (p.endsWith(".external.js") && !p.startsWith(join(nextDist, "esm") + "/") && !isCompiled(nextDist, p))
      roots.push(p);
  const runtimes = join(nextDist, "compiled/next-server");
  for (const f of readdirSync(runtimes)) if (f.endsWith(".runtime.prod.js")) roots.push(join(runtimes, f));
  const closure = new Set<string>();
  const res = await build({
    entryPoints: roots,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "cjs",
    outdir: "/nonexistent",
    logLevel: "silent",
    absWorkingDir: "/",
    plugins: [
      {
        name: "next-shared-closure",
        setup(b) {
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.pluginData === "inner" || args.kind === "entry-point") return undefined;
            const r = await b.resolve(args.path, {
              resolveDir: args.resolveDir,
              kind: args.kind,
              importer: args.importer,
              pluginData: "inner",
            });
            // follow Next's own modules only (the runtimes are followed as entries)
            if (r.errors.length || !r.path.startsWith(nextDist + "/") || isCompiled(nextDist, r.path))
              return { path: args.path, external: true };
            return { path: r.path };
          });
        },
      },
    ],
  });
  for (const p of Object.keys(res.metafile.inputs)) closure.add(join("/", p));
  return closure;
}

/**
 * Modules Next requires at the top of a module but only uses on paths a custom production
 * server with the built configuration never takes: `next start`'s banner (`app-info-log`, which
 * builds the config schema's zod schemas and loads the test runner's and TypeScript's setup
 * code), a `next.config.ts` transpiler and the config's zod error formatting. In the bundle each
 * becomes a proxy that loads the module on its first use (Next uses them as `(0, _mod.fn)()`).
 * The build fails when a line is no longer there.
 */
const LAZY: { file: string; line: string }[] = [
  { file: "server/lib/start-server.js", line: 'const _appinfolog = require("./app-info-log");' },
  {
    file: "server/config.js",
    line: 'const _transpileconfig = require("../build/next-config-ts/transpile-config");',
  },
  { file: "server/config.js", line: 'const _zod = require("../shared/lib/zod");' },
];

function lazyRequire(line: string): string {
  const m = /^const (\w+) = (require\("[^"]+"\));$/.exec(line);
  if (!m) throw new Error(`bundle-next: cannot make ${line} lazy`);
  const [, name, req] = m;
  return `let ${name}$m; const ${name} = new Proxy({}, { get: (_, k) => (${name}$m ??= ${req})[k] });`;
}

/** Every file below a directory (symbolic links not followed), as paths. */
const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name));
const isCompiled = (nextDist: string, p: string) => p.startsWith(join(nextDist, "compiled") + "/");
const bare = (spec: string) => !spec.startsWith(".") && !spec.startsWith("/");

/**
 * The esbuild plugin for the dashboard's server bundle. REPO's node_modules has the image's
 * layout below IMAGE_ROOT (stage-app.ts copies it as is).
 */
export async function nextServerPlugin(repo: string, imageRoot: string): Promise<Plugin> {
  const nextDist = join(repo, "node_modules/next/dist");
  const shared = await sharedModules(nextDist, join(repo, "apps/web/.next/server"));
  const image = (p: string) => join(imageRoot, relative(repo, p));
  const bundled = new Set<string>();
  let lazied = 0;
  const plugin: Plugin = {
    name: "sluice-next-server",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === "inner" || args.kind === "entry-point") return undefined;
        const fromNext = args.importer.startsWith(nextDist + "/");
        const toNext = args.path === "next" || args.path.startsWith("next/");
        if (!fromNext && !toNext) return undefined;
        // other packages from Next's code: as Node (and Next's require hook) resolve them
        if (fromNext && bare(args.path) && !toNext) return { path: args.path, external: true };
        const r = await b.resolve(args.path, {
          resolveDir: args.resolveDir,
          kind: args.kind,
          importer: args.importer,
          pluginData: "inner",
        });
        if (r.errors.length) return { path: args.path, external: true };
        const p = r.path;
        if (p.startsWith(nextDist + "/") && p.endsWith(".js") && !isCompiled(nextDist, p) && !shared.has(p)) {
          bundled.add(p);
          return { path: p };
        }
        return { path: image(p), external: true };
      });
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!bundled.has(args.path)) return undefined;
        let text = readFileSync(args.path, "utf8");
        for (const l of LAZY.filter((z) => join(nextDist, z.file) === args.path)) {
          if (!text.includes(l.line)) throw new Error(`bundle-next: ${l.file} no longer has ${l.line}`);
          text = text.replace(l.line, lazyRequire(l.line));
          lazied++;
        }
        // relative require.resolve() would resolve from the bundle's directory
        text = text
          .replace(
            /\brequire\.resolve\((["'])(\.\.?\/[^"']+)\1\)/g,
            (_, _q, rel: string) => `require.resolve(${JSON.stringify(join(image(args.path), "..", rel))})`,
          )
          .replace(/(?<![.\w$])__dirname\b/g, JSON.stringify(join(image(args.path), "..")))
          .replace(/(?<![.\w$])__filename\b/g, JSON.stringify(image(args.path)));
        return { contents: text, loader: "js" };
      });
      b.onEnd(() => {
        if (lazied !== LAZY.length)
          throw new Error(`bundle-next: ${lazied} of ${LAZY.length} lazy requires found`);
        console.log(
          `bundle-next: ${bundled.size} of Next's modules in the bundle, ${shared.size} shared with its runtimes stay apart`,
        );
      });
    },
  };
  return plugin;
}
