"use client";
// The Overview's application side: a live graph of the top applications, the top apps now
// (with their category) and the breakdown per category, from the agent's per-app stats; and
// the per-app series for the "last hours" charts, from the per-app minute roll-ups.

import { useMemo } from "react";
import { Card, ColorSwatch, Group, Progress, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import type { LiveSample, RouterOutputs } from "@sluice/api/client";
import { colorOf, formatBps, formatBytes } from "@/lib/format";
import { TimeChart, type ChartMark, type ChartSeries } from "@/components/time-chart";
import { Empty } from "@/components/states";
import { smoothRates } from "@/lib/smooth";

/** Live per-app lines are a running average over this long (bursty counters otherwise zigzag). */
export const SMOOTH_MS = 5000;

type Live = RouterOutputs["stats"]["getLive"];
type HistoryApps = RouterOutputs["stats"]["getHistory"]["apps"];
type Series = { series: ChartSeries[]; data: [number[], ...(number | null)[][]] };

/** The `top` apps by summed rate over the points, one line each on shared time stamps. */
function topSeries(points: { t: number; app: string; rateBps: number }[], xs: number[], top: number): Series {
  const total = new Map<string, number>();
  for (const p of points) total.set(p.app, (total.get(p.app) ?? 0) + p.rateBps);
  const names = [...total]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([n]) => n);
  const idx = new Map(points.map((p) => [`${p.t}/${p.app}`, p.rateBps]));
  return {
    series: names.map((n) => ({ label: n, color: colorOf(n, "app") })),
    data: [xs.map((t) => t / 1000), ...names.map((n) => xs.map((t) => idx.get(`${t}/${n}`) ?? 0))],
  };
}

/** Per-app lines for the history charts (rate per bucket). */
export function appHistorySeries(apps: HistoryApps, xs: number[], top = 8): Series {
  return topSeries(apps, xs, top);
}

export function AppsLive({
  samples,
  extra,
  windowSeconds,
  marks,
}: {
  samples: LiveSample[];
  extra: Omit<Live, "samples"> | null;
  windowSeconds: number;
  marks: ChartMark[];
}) {
  const chart = useMemo(() => {
    const ts = samples.map((s) => s.t);
    const top = topSeries(
      samples.flatMap((s) => s.apps.map((a) => ({ t: s.t, app: a.app, rateBps: a.rateBps }))),
      ts,
      8,
    );
    const [xs, ...ys] = top.data;
    return { ...top, data: [xs, ...ys.map((y) => smoothRates(ts, y, SMOOTH_MS))] as Series["data"] };
  }, [samples]);
  const catTitle = new Map((extra?.categories ?? []).map((c) => [c.category, c.title]));
  const catTotal = (extra?.categories ?? []).reduce((n, c) => n + c.rateBps, 0);
  if (extra && extra.hasApps === false)
    return (
      <Card withBorder padding="sm">
        <Empty>This agent sends no per-application statistics (it has no application catalogue).</Empty>
      </Card>
    );
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }}>
      <Stack gap="md">
        <Card withBorder padding="sm">
          <Text fw={600} size="sm" mb="xs">
            Per application (5 s average)
          </Text>
          {!chart.series.length ? (
            <Empty>No application traffic yet.</Empty>
          ) : (
            <TimeChart
              {...chart}
              format={formatBps}
              windowSeconds={windowSeconds}
              marks={marks}
              testId="chart-apps"
            />
          )}
        </Card>
        <Card withBorder padding="sm">
          <Text fw={600} size="sm" mb="xs">
            Per category now
          </Text>
          {!extra?.categories.length ? (
            <Empty>No categorised traffic yet.</Empty>
          ) : (
            <Stack gap={8} data-testid="categories-now">
              {extra.categories.map((c) => (
                <div key={c.category}>
                  <Group justify="space-between" gap="xs">
                    <Text size="sm">{c.title}</Text>
                    <Text size="xs" c="dimmed">
                      {formatBps(c.rateBps)} · {c.connections} conns
                    </Text>
                  </Group>
                  <Progress
                    value={catTotal ? (100 * c.rateBps) / catTotal : 0}
                    color={colorOf(c.category, "category")}
                    size="sm"
                    aria-label={`${c.title} share`}
                  />
                </div>
              ))}
            </Stack>
          )}
        </Card>
      </Stack>
      <Card withBorder padding="sm">
        <Text fw={600} size="sm" mb="xs">
          Top applications now
        </Text>
        {!extra?.apps.length ? (
          <Empty>No traffic recognised as a catalogue application yet.</Empty>
        ) : (
          <Table fz="sm" striped data-testid="top-apps">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>application</Table.Th>
                <Table.Th>category</Table.Th>
                <Table.Th ta="right">rate</Table.Th>
                <Table.Th ta="right">total</Table.Th>
                <Table.Th ta="right">conns</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {extra.apps.slice(0, 10).map((a) => (
                <Table.Tr key={a.app} data-testid={`top-app-${a.app}`}>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <ColorSwatch color={colorOf(a.app, "app")} size={10} />
                      <Text size="sm">{a.title}</Text>
                      <Text size="xs" c="dimmed" className="mono">
                        {a.app}
                      </Text>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed">
                      {catTitle.get(a.category) ?? a.category}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right" style={{ whiteSpace: "nowrap" }}>
                    {formatBps(a.rateBps)}
                  </Table.Td>
                  <Table.Td ta="right" style={{ whiteSpace: "nowrap" }}>
                    {formatBytes(a.bytes)}
                  </Table.Td>
                  <Table.Td ta="right">{a.connections}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </SimpleGrid>
  );
}
