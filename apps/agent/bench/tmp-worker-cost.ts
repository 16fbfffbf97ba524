import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
const MB = 1048576;
if (isMainThread) {
  const n = Number(process.env.N ?? 2);
  const mode = process.env.MODE ?? "full";
  const rss = () => (process.memoryUsage().rss / MB).toFixed(1);
  console.log("main start", rss());
  const ws: Worker[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: mode, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    ws.push(w);
    const m = await new Promise((r) => w.once("message", r));
    await new Promise((r) => setTimeout(r, 500));
    console.log(`after worker ${i + 1}`, rss(), JSON.stringify(m));
  }
  for (const w of ws) await w.terminate();
} else {
  const { workerData } = await import("node:worker_threads");
  if (workerData !== "empty") {
    const c = await import("@sluice/classifier");
    await import("../src/nfqueue/queue-io.ts");
    await import("../src/nfqueue/packet-classifier.ts");
    if (workerData === "full") {
      const ps = c.loadPatternDirs([fileURLToPath(new URL("../../../protocols", import.meta.url))]);
      (globalThis as any).ps = ps;
    }
  }
  const h = getHeapStatistics();
  parentPort!.postMessage({ used: (h.used_heap_size / MB).toFixed(1), total: (h.total_heap_size / MB).toFixed(1), ext: (h.external_memory / MB).toFixed(1) });
  setInterval(() => {}, 1000);
}
