"use client";
// A time series chart (uPlot: small and fast enough for once-a-second updates). The chart is
// built when the set of series changes and only gets new data otherwise. Live charts keep a
// sliding window ending now (so "10 min" shows ten minutes even while the data is shorter);
// applies are drawn as dashed vertical lines.

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import { Box, useComputedColorScheme } from "@mantine/core";

/** A moment to mark on the time axis (an apply, a rollback). */
export interface ChartMark {
  /** unix seconds */
  t: number;
  label: string;
}

/** Draws the marks inside the plot; returns how many were visible. */
function drawMarks(u: uPlot, marks: ChartMark[], color: string): number {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.setLineDash([4, 4]);
  ctx.lineWidth = 1;
  ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
  let shown = 0;
  let lastLabel = -Infinity;
  for (const m of [...marks].sort((a, b) => a.t - b.t)) {
    const x = u.valToPos(m.t, "x", true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
    shown++;
    // marks closer than a label's width share the first one's label
    const labelled = x - lastLabel > 24 * devicePixelRatio;
    if (labelled) lastLabel = x;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    if (labelled) ctx.fillText(m.label, x + 3 * devicePixelRatio, top + 10 * devicePixelRatio);
  }
  ctx.restore();
  return shown;
}

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
  /** Live charts: the x axis is the last `windowSeconds` up to now. */
  windowSeconds?: number;
  /** Moments drawn as vertical lines (applies). */
  marks?: ChartMark[];
  testId?: string;
}

export function TimeChart({
  series,
  data,
  height = 220,
  format,
  fill = false,
  xRange,
  windowSeconds,
  marks,
  testId,
}: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const key = series.map((s) => `${s.label}:${s.color}`).join("|");
  const latest = useRef(data);
  latest.current = data;
  const marksRef = useRef(marks ?? []);
  marksRef.current = marks ?? [];
  const dark = useComputedColorScheme("light") === "dark";

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
        hooks: {
          draw: [
            (u) => {
              const shown = drawMarks(u, marksRef.current, dark ? "#adb5bd" : "#495057");
              // what the chart really shows, for the tests (and a reader of the DOM)
              const { min, max } = u.scales.x ?? {};
              if (!box.current) return;
              box.current.dataset.marks = String(shown);
              if (min !== undefined && max !== undefined)
                box.current.dataset.xSpan = String(Math.round(max - min));
            },
          ],
        },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Without a fixed range, a single point makes uPlot spread the axis over years.
          x: xRange
            ? { time: true, range: () => xRange }
            : windowSeconds
              ? {
                  time: true,
                  range: () => {
                    const to = Date.now() / 1000;
                    return [to - windowSeconds, to];
                  },
                }
              : { time: true },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        axes: [
          {
            stroke: "#868e96",
            grid: { stroke: dark ? "#2c2e33" : "#f1f3f5" },
            ticks: { stroke: dark ? "#373a40" : "#dee2e6" },
          },
          {
            stroke: "#868e96",
            size: 80,
            grid: { stroke: dark ? "#2c2e33" : "#f1f3f5" },
            ticks: { stroke: dark ? "#373a40" : "#dee2e6" },
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
  }, [key, height, fill, xRange?.[0], xRange?.[1], windowSeconds, dark]);

  useEffect(() => {
    chart.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  useEffect(() => {
    chart.current?.redraw(false);
  }, [marks]);

  return <Box ref={box} w="100%" mih={height} data-testid={testId} />;
}
