"use client";
// Overview: live throughput per class (upload, download), per protocol and per application
// (with the per-category breakdown), drops, the last hours from the minute roll-ups, top
// talkers, and the agent's health with the kernel fallbacks in use. One file per card.

import { useState } from "react";
import { Badge, Group, SegmentedControl, SimpleGrid, Stack, Title } from "@mantine/core";
import { formatBps } from "@/lib/format";
import { useLiveStats } from "@/components/live-stats";
import { ErrorState, Loading } from "@/components/states";
import { AppsLive } from "./apps-cards";
import { Health } from "./health";
import { History } from "./history-charts";
import { ProtocolsNowCard } from "./protocols-now-card";
import { LiveCharts } from "./live-charts";
import { useApplyMarks } from "./apply-marks";
import { StatCard } from "./stat-card";
import { TopTalkersCard } from "./top-talkers-card";

export function Overview() {
  const [minutes, setMinutes] = useState("5");
  const live = useLiveStats(Number(minutes) * 60_000);
  const marks = useApplyMarks();
  const s = live.samples;
  const last = s.at(-1);
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
        <StatCard label="Upload" value={formatBps(last?.uploadBps)} />
        <StatCard label="Download" value={formatBps(last?.downloadBps)} />
        <StatCard
          label="Drops"
          value={last ? `${last.dropRate.toFixed(1)}/s` : "–"}
          sub="packets dropped by the shaper"
        />
        <StatCard
          label="Connections"
          value={last ? String(last.connections) : "–"}
          sub="tracked by conntrack"
        />
      </SimpleGrid>

      {live.error && !s.length ? (
        <ErrorState error={live.error} title="No live data" />
      ) : live.loading ? (
        <Loading label="Waiting for the first samples…" />
      ) : (
        <LiveCharts samples={s} windowSeconds={Number(minutes) * 60} marks={marks} />
      )}

      {!(live.error && !s.length) && !live.loading && (
        <AppsLive samples={s} extra={extra} windowSeconds={Number(minutes) * 60} marks={marks} />
      )}

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <TopTalkersCard extra={extra} />
        <ProtocolsNowCard extra={extra} />
      </SimpleGrid>

      <Title order={4}>Agent health</Title>
      <Health />

      <History marks={marks} />
    </Stack>
  );
}
