"use client";
// A time series chart (uPlot: small and fast enough for once-a-second updates). The chart is
// built when the set of series changes and only gets new data otherwise.

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import { Box } from "@mantine/core";

export interface ChartSeries {
  label: string;
  color: string;
}

export interface TimeChartProps {
  series: ChartSeries[];
  /** [x (unix seconds), ...one array per series] */
  data: [number[], ...(number | null)[][]];
  height?: number;
  format?: (v: number) => string;
  /** Fill the area under each line. */
  fill?: boolean;
  /** Fixed time axis [from, to] in unix seconds (history charts: the chosen window). */
  xRange?: [number, number];
  testId?: string;
}

export function TimeChart({
  series,
  data,
  height = 220,
  format,
  fill = false,
  xRange,
  testId,
}: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const key = series.map((s) => `${s.label}:${s.color}`).join("|");
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | null = null;
    void import("uplot").then(({ default: UPlot }) => {
      if (disposed || !box.current) return;
      const fmt = format ?? ((v: number) => String(v));
      const opts: uPlot.Options = {
        width: box.current.clientWidth || 600,
        height,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Without a fixed range, a single point makes uPlot spread the axis over years.
          x: xRange ? { time: true, range: () => xRange } : { time: true },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        axes: [
          { stroke: "#868e96", grid: { stroke: "#f1f3f5" }, ticks: { stroke: "#dee2e6" } },
          {
            stroke: "#868e96",
            size: 80,
            grid: { stroke: "#f1f3f5" },
            ticks: { stroke: "#dee2e6" },
            values: (_u, vals) => vals.map((v) => fmt(v)),
          },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 1.5,
            ...(fill ? { fill: `${s.color}22` } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : fmt(v)),
            points: { show: false },
          })),
        ],
      };
      chart.current = new UPlot(opts, latest.current as uPlot.AlignedData, box.current);
      ro = new ResizeObserver(() => {
        if (box.current && chart.current) chart.current.setSize({ width: box.current.clientWidth, height });
      });
      ro.observe(box.current);
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
  }, [key, height, fill, xRange?.[0], xRange?.[1]]);

  useEffect(() => {
    chart.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <Box ref={box} w="100%" mih={height} data-testid={testId} />;
}
