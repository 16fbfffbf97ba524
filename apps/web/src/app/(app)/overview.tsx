"use client";
// Overview: live throughput per class (upload, download), per protocol and per application
// (with the per-category breakdown), drops, the last hours from the minute roll-ups, top
// talkers, and the agent's health with the kernel fallbacks in use.

import { useMemo, useState } from "react";
import {
  Badge,
  Card,
  Group,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { LiveSample } from "@sluice/api/client";
import { useTRPC } from "@/lib/trpc";
import { colorOf, formatBps, formatBytes, formatDuration, formatTime } from "@/lib/format";
import { useLiveStats } from "@/components/live-stats";
import { TimeChart, type ChartSeries } from "@/components/time-chart";
import { Empty, ErrorState, Loading } from "@/components/states";
import { useAgentHealth } from "@/components/shell";
import { AppsLive, appHistorySeries } from "./overview-apps";

/** The data plane's overload counters, as /v1/status reports them. */
type ClassificationHealth = { degraded: boolean; reasons: string[]; windowSeconds: number };

/** Keeping up, or degraded (traffic still forwarded, some connections unclassified) and why. */
function ClassificationRow({ health }: { health: ClassificationHealth | undefined }) {
  if (!health) return null;
  return (
    <Table.Tr>
      <Table.Td c="dimmed">classification</Table.Td>
      <Table.Td data-testid="classification-health">
        {health.degraded ? (
          <Tooltip label="traffic is still forwarded (fail-open); some connections get no verdict from their payload">
            <Badge color="orange" variant="light">
              degraded
            </Badge>
          </Tooltip>
        ) : (
          <Badge color="green" variant="light">
            keeping up
          </Badge>
        )}
        {health.reasons.map((r) => (
          <Text key={r} size="xs" c="dimmed">
            {r} (last {health.windowSeconds} s)
          </Text>
        ))}
      </Table.Td>
    </Table.Tr>
  );
}

type Series = { series: ChartSeries[]; data: [number[], ...(number | null)[][]] };

function classSeries(samples: LiveSample[], dir: "upload" | "download"): Series {
  const names: string[] = [];
  for (const s of samples)
    for (const c of s.classes) if (c.direction === dir && !names.includes(c.name)) names.push(c.name);
  const xs = samples.map((s) => s.t / 1000);
  const ys = names.map((n) =>
    samples.map((s) => s.classes.find((c) => c.direction === dir && c.name === n)?.rateBps ?? null),
  );
  return { series: names.map((n, i) => ({ label: n, color: colorOf(n, i) })), data: [xs, ...ys] };
}

function protocolSeries(samples: LiveSample[], top = 8): Series {
  const total = new Map<string, number>();
  for (const s of samples)
    for (const p of s.protocols) total.set(p.protocol, (total.get(p.protocol) ?? 0) + p.rateBps);
  const names = [...total]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([n]) => n);
  const xs = samples.map((s) => s.t / 1000);
  const ys = names.map((n) => samples.map((s) => s.protocols.find((p) => p.protocol === n)?.rateBps ?? 0));
  return { series: names.map((n) => ({ label: n, color: colorOf(n) })), data: [xs, ...ys] };
}

function Stat({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
      {sub && (
        <Text size="xs" c="dimmed">
          {sub}
        </Text>
      )}
    </Card>
  );
}

function ChartCard({
  title,
  children,
  empty,
}: {
  title: string;
  children: React.ReactNode;
  empty?: boolean;
}) {
  return (
    <Card withBorder padding="sm">
      <Text fw={600} size="sm" mb="xs">
        {title}
      </Text>
      {empty ? <Empty>No data yet</Empty> : children}
    </Card>
  );
}

function Health() {
  const h = useAgentHealth();
  if (h.isLoading) return <Loading label="Asking the agent…" />;
  if (h.isError) return <ErrorState error={h.error} retry={() => void h.refetch()} />;
  const d = h.data!;
  const s = d.status;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Card withBorder padding="sm" data-testid="agent-health">
        <Group justify="space-between" mb="xs">
          <Text fw={600} size="sm">
            Agent
          </Text>
          {d.reachable ? (
            <Badge color="green">reachable</Badge>
          ) : (
            <Badge color="red">down{s ? " — cached" : ""}</Badge>
          )}
        </Group>
        {!s ? (
          <Empty>The agent has not answered yet ({d.error ?? d.socket}).</Empty>
        ) : (
          <Table fz="sm" verticalSpacing={4}>
            <Table.Tbody>
              <Table.Tr>
                <Table.Td c="dimmed">version</Table.Td>
                <Table.Td>
                  {s.version}, up {formatDuration(s.uptimeSeconds)}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Td c="dimmed">policy</Table.Td>
                <Table.Td>
                  {s.policy
                    ? `#${s.policy.id} "${s.policy.name}" by ${s.policy.user}, ${formatTime(s.policy.at)}`
                    : "none"}
                  {s.trying && (
                    <Badge ml="xs" color="yellow">
                      trying #{s.trying.entryId}
                    </Badge>
                  )}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Td c="dimmed">data plane</Table.Td>
                <Table.Td>
                  {s.dataPlane.running ? (
                    <Badge color="green" variant="light">
                      NFQUEUE running
                    </Badge>
                  ) : (
                    <Badge color="red" variant="light">
                      stopped: {String((s.dataPlane as { error?: string }).error)}
                    </Badge>
                  )}
                </Table.Td>
              </Table.Tr>
              <ClassificationRow health={(s.dataPlane as { health?: ClassificationHealth }).health} />
              <Table.Tr>
                <Table.Td c="dimmed">patterns</Table.Td>
                <Table.Td>
                  {s.patterns.loaded} loaded
                  {s.patterns.skipped.length ? `, ${s.patterns.skipped.length} skipped` : ""}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Td c="dimmed">apps</Table.Td>
                <Table.Td>
                  {s.catalogue
                    ? `${s.catalogue.apps} applications in ${s.catalogue.categories} categories`
                    : "no application catalogue"}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Td c="dimmed">devices</Table.Td>
                <Table.Td>
                  {s.devices
                    .map((x) => `${x.device} (${x.direction}, ${formatBps(x.linkRate)})`)
                    .join(", ") || "–"}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Td c="dimmed">stats</Table.Td>
                <Table.Td>
                  {d.stream.connected ? "streaming" : d.stream.running ? "reconnecting" : "polled"}
                  {d.rollup
                    ? `; last roll-up ${formatTime(d.rollup.at)}${d.rollup.error ? ` (failed: ${d.rollup.error})` : ""}`
                    : ""}
                </Table.Td>
              </Table.Tr>
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <Card withBorder padding="sm" data-testid="capabilities">
        <Group justify="space-between" mb="xs">
          <Text fw={600} size="sm">
            Kernel capabilities
          </Text>
          {s && (
            <Text size="xs" c="dimmed">
              {s.capabilities.kernel}, probed {formatTime(s.capabilities.probedAt)}
            </Text>
          )}
        </Group>
        {!s ? (
          <Empty>Unknown until the agent answers.</Empty>
        ) : (
          <Stack gap={6}>
            {d.capabilities.map((c) => (
              <Group key={c.label} gap="xs" wrap="nowrap" align="flex-start">
                <Badge
                  color={c.fallback ? "orange" : "green"}
                  variant="light"
                  w={90}
                  style={{ flexShrink: 0 }}
                >
                  {c.fallback ? "fallback" : "ok"}
                </Badge>
                <Text size="sm">
                  <b>{c.label}:</b> {c.value}
                </Text>
              </Group>
            ))}
            <Group gap={4} mt={4}>
              {Object.entries({ ...s.capabilities.qdiscs, ...s.capabilities.classifiers }).map(([k, v]) => (
                <Tooltip key={k} label={v ? "available" : "missing in this kernel"}>
                  <Badge size="xs" variant={v ? "light" : "outline"} color={v ? "gray" : "red"}>
                    {k}
                  </Badge>
                </Tooltip>
              ))}
            </Group>
          </Stack>
        )}
      </Card>
    </SimpleGrid>
  );
}

function History() {
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
        series: names.map((n, i) => ({ label: n, color: colorOf(n, i) })),
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
      series: top.map((n) => ({ label: n, color: colorOf(n) })),
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
              height={180}
              format={formatBps}
              fill
              testId="history-upload"
            />
          </ChartCard>
          <ChartCard title="Download per class">
            <TimeChart {...charts!.down} xRange={charts!.xRange} height={180} format={formatBps} fill />
          </ChartCard>
          <ChartCard title="Per protocol">
            <TimeChart {...charts!.proto} xRange={charts!.xRange} height={180} format={formatBps} />
          </ChartCard>
          <ChartCard title="Per application" empty={!charts!.apps.series.length}>
            <TimeChart
              {...charts!.apps}
              xRange={charts!.xRange}
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

export function Overview() {
  const [minutes, setMinutes] = useState("5");
  const live = useLiveStats(Number(minutes) * 60_000);
  const s = live.samples;
  const last = s.at(-1);
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
  const extra = live.extra;

  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={3}>Overview</Title>
        <Group gap="xs">
          {extra && !extra.live && (
            <Badge color="orange" variant="light">
              live data paused: showing the last samples
            </Badge>
          )}
          <SegmentedControl
            size="xs"
            value={minutes}
            onChange={setMinutes}
            data={[
              { value: "2", label: "2 min" },
              { value: "5", label: "5 min" },
              { value: "10", label: "10 min" },
            ]}
          />
        </Group>
      </Group>

      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <Stat label="Upload" value={formatBps(last?.uploadBps)} />
        <Stat label="Download" value={formatBps(last?.downloadBps)} />
        <Stat
          label="Drops"
          value={last ? `${last.dropRate.toFixed(1)}/s` : "–"}
          sub="packets dropped by the shaper"
        />
        <Stat label="Connections" value={last ? String(last.connections) : "–"} sub="tracked by conntrack" />
      </SimpleGrid>

      {live.error && !s.length ? (
        <ErrorState error={live.error} title="No live data" />
      ) : live.loading ? (
        <Loading label="Waiting for the first samples…" />
      ) : (
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <ChartCard title="Upload per class" empty={!s.length}>
            <TimeChart {...up} format={formatBps} testId="chart-upload" />
          </ChartCard>
          <ChartCard title="Download per class" empty={!s.length}>
            <TimeChart {...down} format={formatBps} testId="chart-download" />
          </ChartCard>
          <ChartCard title="Per protocol" empty={!s.length}>
            <TimeChart {...proto} format={formatBps} testId="chart-protocols" />
          </ChartCard>
          <ChartCard title="Upload, download and drops" empty={!s.length}>
            <TimeChart {...totals} height={130} format={formatBps} fill />
            <TimeChart {...drops} height={90} format={(v) => `${v.toFixed(1)}/s`} />
          </ChartCard>
        </SimpleGrid>
      )}

      {!(live.error && !s.length) && !live.loading && <AppsLive samples={s} extra={extra} />}

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder padding="sm">
          <Text fw={600} size="sm" mb="xs">
            Top talkers (LAN hosts)
          </Text>
          {!extra?.hosts.length ? (
            <Empty>No connections right now.</Empty>
          ) : (
            <Table fz="sm" striped data-testid="top-talkers">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>host</Table.Th>
                  <Table.Th ta="right">rate</Table.Th>
                  <Table.Th ta="right">bytes</Table.Th>
                  <Table.Th ta="right">conns</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {extra.hosts.map((h) => (
                  <Table.Tr key={h.host}>
                    <Table.Td className="mono">{h.host}</Table.Td>
                    <Table.Td ta="right">{formatBps(h.rateBps)}</Table.Td>
                    <Table.Td ta="right">{formatBytes(h.bytes)}</Table.Td>
                    <Table.Td ta="right">{h.connections}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Card>
        <Card withBorder padding="sm">
          <Text fw={600} size="sm" mb="xs">
            Protocols now
          </Text>
          {!extra?.protocols.length ? (
            <Empty>No classified traffic yet.</Empty>
          ) : (
            <Table fz="sm" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>protocol</Table.Th>
                  <Table.Th ta="right">rate</Table.Th>
                  <Table.Th ta="right">total</Table.Th>
                  <Table.Th ta="right">conns</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {extra.protocols.slice(0, 10).map((p) => (
                  <Table.Tr key={p.protocol}>
                    <Table.Td>
                      <Badge variant="dot" color={colorOf(p.protocol)} tt="none">
                        {p.protocol}
                      </Badge>
                    </Table.Td>
                    <Table.Td ta="right">{formatBps(p.rateBps)}</Table.Td>
                    <Table.Td ta="right">{formatBytes(p.bytes)}</Table.Td>
                    <Table.Td ta="right">{p.connections}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Card>
      </SimpleGrid>

      <Title order={4}>Agent health</Title>
      <Health />

      <History />
    </Stack>
  );
}
