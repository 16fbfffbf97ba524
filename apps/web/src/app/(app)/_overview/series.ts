// The Overview's live series: one line per class or protocol on the samples' time stamps.

import type { LiveSample, RouterOutputs } from "@sluice/api/client";
import type { ChartSeries } from "@/components/time-chart";
import { colorOf } from "@/lib/format";
import { smoothRates } from "@/lib/smooth";

export type Series = { series: ChartSeries[]; data: [number[], ...(number | null)[][]] };

export function classSeries(samples: LiveSample[], dir: "upload" | "download"): Series {
  const names: string[] = [];
  for (const s of samples)
    for (const c of s.classes) if (c.direction === dir && !names.includes(c.name)) names.push(c.name);
  const xs = samples.map((s) => s.t / 1000);
  const ys = names.map((n) =>
    samples.map((s) => s.classes.find((c) => c.direction === dir && c.name === n)?.rateBps ?? null),
  );
  return { series: names.map((n) => ({ label: n, color: colorOf(n, "class") })), data: [xs, ...ys] };
}

export function protocolSeries(samples: LiveSample[], top = 8): Series {
  const total = new Map<string, number>();
  for (const s of samples)
    for (const p of s.protocols) total.set(p.protocol, (total.get(p.protocol) ?? 0) + p.rateBps);
  const names = [...total]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([n]) => n);
  const xs = samples.map((s) => s.t / 1000);
  const ts = samples.map((s) => s.t);
  // protocol counters are read once a second like the apps': averaged so bursts do not zigzag
  const ys = names.map((n) =>
    smoothRates(
      ts,
      samples.map((s) => s.protocols.find((p) => p.protocol === n)?.rateBps ?? 0),
      5000,
    ),
  );
  return { series: names.map((n) => ({ label: n, color: colorOf(n, "protocol") })), data: [xs, ...ys] };
}

/** What the live query returns besides the samples (hosts, protocols, apps now). */
export type LiveExtra = Omit<RouterOutputs["stats"]["getLive"], "samples">;
