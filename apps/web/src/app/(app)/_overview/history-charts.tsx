"use client";
// The last hours from the per-minute roll-ups: per class (upload, download), per protocol and
// per application, over a chosen window.

import { useMemo, useState } from "react";
import { Card, Group, SegmentedControl, SimpleGrid, Stack, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { colorOf, formatBps } from "@/lib/format";
import { TimeChart, type ChartMark } from "@/components/time-chart";
import { Empty, ErrorState, Loading } from "@/components/states";
import { appHistorySeries } from "./apps-cards";
import { ChartCard } from "./chart-card";
import type { Series } from "./series";

export function History({ marks }: { marks: ChartMark[] }) {
  const trpc = useTRPC();
  const [hours, setHours] = useState("6");
  const q = useQuery({
    ...trpc.stats.getHistory.queryOptions({ hours: Number(hours) }),
    refetchInterval: 60_000,
  });
  const charts = useMemo(() => {
    if (!q.data) return null;
    const xs = [
      ...new Set([
        ...q.data.classes.map((c) => c.t),
        ...q.data.protocols.map((p) => p.t),
        ...q.data.apps.map((a) => a.t),
      ]),
    ].sort((a, b) => a - b);
    const per = (dir: "upload" | "download"): Series => {
      // "link" is the root class (the sum of all classes): not a class of the policy.
      const names = [
        ...new Set(q.data.classes.filter((c) => c.direction === dir && c.name !== "link").map((c) => c.name)),
      ];
      const idx = new Map(
        q.data.classes.filter((c) => c.direction === dir).map((c) => [`${c.t}/${c.name}`, c.avgRateBps]),
      );
      return {
        series: names.map((n) => ({ label: n, color: colorOf(n, "class") })),
        data: [xs.map((t) => t / 1000), ...names.map((n) => xs.map((t) => idx.get(`${t}/${n}`) ?? 0))],
      };
    };
    const totals = new Map<string, number>();
    for (const p of q.data.protocols) totals.set(p.protocol, (totals.get(p.protocol) ?? 0) + p.rateBps);
    const top = [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([n]) => n);
    const pidx = new Map(q.data.protocols.map((p) => [`${p.t}/${p.protocol}`, p.rateBps]));
    const proto: Series = {
      series: top.map((n) => ({ label: n, color: colorOf(n, "protocol") })),
      data: [xs.map((t) => t / 1000), ...top.map((n) => xs.map((t) => pidx.get(`${t}/${n}`) ?? 0))],
    };
    // The chosen window, ending now (rounded to the minute so the chart is not rebuilt every render).
    const to = Math.ceil(Date.now() / 60_000) * 60;
    const xRange: [number, number] = [to - Number(hours) * 3600, to];
    const apps = appHistorySeries(q.data.apps, xs);
    return { up: per("upload"), down: per("download"), proto, apps, xRange, empty: xs.length === 0 };
  }, [q.data, hours]);
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Title order={4}>Last hours</Title>
        <SegmentedControl
          size="xs"
          value={hours}
          onChange={setHours}
          data={[
            { value: "1", label: "1 h" },
            { value: "6", label: "6 h" },
            { value: "24", label: "24 h" },
            { value: "168", label: "7 d" },
          ]}
        />
      </Group>
      {q.isLoading ? (
        <Loading />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : charts!.empty ? (
        <Card withBorder>
          <Empty>
            No roll-ups yet: the server stores a per-minute summary of the agent&apos;s counters every minute.
          </Empty>
        </Card>
      ) : (
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <ChartCard title={`Upload per class (average per ${q.data!.bucketSeconds / 60} min)`}>
            <TimeChart
              {...charts!.up}
              xRange={charts!.xRange}
              marks={marks}
              height={180}
              format={formatBps}
              fill
              testId="history-upload"
            />
          </ChartCard>
          <ChartCard title="Download per class">
            <TimeChart
              {...charts!.down}
              xRange={charts!.xRange}
              marks={marks}
              height={180}
              format={formatBps}
              fill
            />
          </ChartCard>
          <ChartCard title="Per protocol">
            <TimeChart
              {...charts!.proto}
              xRange={charts!.xRange}
              marks={marks}
              height={180}
              format={formatBps}
            />
          </ChartCard>
          <ChartCard title="Per application" empty={!charts!.apps.series.length}>
            <TimeChart
              {...charts!.apps}
              xRange={charts!.xRange}
              marks={marks}
              height={180}
              format={formatBps}
              testId="history-apps"
            />
          </ChartCard>
        </SimpleGrid>
      )}
    </Stack>
  );
}
