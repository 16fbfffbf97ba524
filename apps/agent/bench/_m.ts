import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
const MB = 1024 * 1024;
if (isMainThread) {
  const rss0 = process.memoryUsage().rss;
  const w = new Worker(fileURLToPath(import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  w.on("message", (m) => console.log(m.label, "heap used", (m.used / MB).toFixed(1), "total", (m.total / MB).toFixed(1), "ext", (m.ext / MB).toFixed(1), "rss+", ((process.memoryUsage().rss - rss0) / MB).toFixed(1)));
  await new Promise((r) => w.once("exit", r));
} else {
  const gc = (globalThis as any).gc as () => void;
  const post = (label: string) => { gc(); const h = getHeapStatistics(); parentPort!.postMessage({ label, used: h.used_heap_size, total: h.total_heap_size, ext: h.external_memory }); };
  post("bare");
  const c = await import("@sluice/classifier");
  post("classifier imported");
  const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
  const ps = c.loadPatternDirs([PROTOCOLS]);
  post("patterns loaded");
  if (process.env.MORE) { const RE2 = (await import("re2")).default as any; const keep2: unknown[] = []; for (const p of ps.patterns) keep2.push(new RE2(p.re2)); (globalThis as any).k2 = keep2; post("113 more RE2"); const ps2 = c.loadPatternDirs([PROTOCOLS]); (globalThis as any).k3 = ps2; post("second pattern set"); }
  if (process.env.DROP) { for (const p of ps.patterns) (p as any).regex = null; gc(); gc(); await new Promise((r) => setTimeout(r, 200)); gc(); post("regex dropped"); }
  const cat = c.loadAppCatalogue(c.catalogueBeside(PROTOCOLS));
  post("catalogue loaded");
  await import("../src/nfqueue/packet-classifier.ts");
  await import("../src/nfqueue/queue-io.ts");
  post("dp modules");
  (globalThis as any).keep = [ps, cat];
}
