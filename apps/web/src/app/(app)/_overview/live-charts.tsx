"use client";
// The live charts: per class (upload, download), per protocol, totals and drops.

import { useMemo } from "react";
import { SimpleGrid } from "@mantine/core";
import type { LiveSample } from "@sluice/api/client";
import { formatBps } from "@/lib/format";
import { TimeChart, type ChartMark } from "@/components/time-chart";
import { ChartCard } from "./chart-card";
import { classSeries, protocolSeries, type Series } from "./series";

export function LiveCharts({
  samples: s,
  windowSeconds,
  marks,
}: {
  samples: LiveSample[];
  windowSeconds: number;
  marks: ChartMark[];
}) {
  const up = useMemo(() => classSeries(s, "upload"), [s]);
  const down = useMemo(() => classSeries(s, "download"), [s]);
  const proto = useMemo(() => protocolSeries(s), [s]);
  const drops = useMemo<Series>(() => {
    const xs = s.map((x) => x.t / 1000);
    const d = (dir: string) =>
      s.map((x) => x.classes.filter((c) => c.direction === dir).reduce((n, c) => n + c.dropRate, 0));
    return {
      series: [
        { label: "upload drops/s", color: "#e03131" },
        { label: "download drops/s", color: "#f08c00" },
      ],
      data: [xs, d("upload"), d("download")],
    };
  }, [s]);
  const totals: Series = useMemo(
    () => ({
      series: [
        { label: "upload", color: "#1c7ed6" },
        { label: "download", color: "#2f9e44" },
      ],
      data: [s.map((x) => x.t / 1000), s.map((x) => x.uploadBps), s.map((x) => x.downloadBps)],
    }),
    [s],
  );
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }}>
      <ChartCard title="Upload per class" empty={!s.length}>
        <TimeChart
          {...up}
          windowSeconds={windowSeconds}
          marks={marks}
          format={formatBps}
          testId="chart-upload"
        />
      </ChartCard>
      <ChartCard title="Download per class" empty={!s.length}>
        <TimeChart
          {...down}
          windowSeconds={windowSeconds}
          marks={marks}
          format={formatBps}
          testId="chart-download"
        />
      </ChartCard>
      <ChartCard title="Per protocol (5 s average)" empty={!s.length}>
        <TimeChart
          {...proto}
          windowSeconds={windowSeconds}
          marks={marks}
          format={formatBps}
          testId="chart-protocols"
        />
      </ChartCard>
      <ChartCard title="Upload, download and drops" empty={!s.length}>
        <TimeChart
          {...totals}
          windowSeconds={windowSeconds}
          marks={marks}
          height={130}
          format={formatBps}
          fill
        />
        <TimeChart
          {...drops}
          windowSeconds={windowSeconds}
          marks={marks}
          height={90}
          format={(v) => `${v.toFixed(1)}/s`}
        />
      </ChartCard>
    </SimpleGrid>
  );
}
