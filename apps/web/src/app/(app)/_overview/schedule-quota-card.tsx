"use client";
// What the schedule has in force now and what comes next, and each quota's use of its
// allowance this period (the agent's status: its own clock and the kernel's counts).

import { Badge, Card, Group, Progress, Stack, Text } from "@mantine/core";
import { formatBytes, formatTime } from "@/lib/format";
import type { AgentHealth } from "./agent-health";

export function ScheduleQuotaCard({ d }: { d: AgentHealth }) {
  const schedule = d.status?.schedule;
  const quotas = d.status?.quotas ?? [];
  if (!schedule && !quotas.length) return null;
  return (
    <Card withBorder padding="sm" data-testid="schedule-quotas">
      <Text fw={600} size="sm" mb="xs">
        Schedules and quotas
      </Text>
      <Stack gap="xs">
        {schedule && (
          <div data-testid="schedule-now">
            <Group gap={6}>
              <Text size="sm">In force now:</Text>
              {schedule.active.length ? (
                schedule.active.map((w) => (
                  <Badge key={w} color="violet" variant="light">
                    {w}
                  </Badge>
                ))
              ) : (
                <Text size="sm" c="dimmed">
                  the policy as written (no window)
                </Text>
              )}
            </Group>
            <Text size="xs" c="dimmed" data-testid="schedule-next">
              {schedule.next
                ? `Next: ${[
                    ...schedule.next.starts.map((w) => `${w} starts`),
                    ...schedule.next.ends.map((w) => `${w} ends`),
                  ].join(", ")} at ${formatTime(schedule.next.at)} (${schedule.timeZone} clock)`
                : "No change coming."}
            </Text>
          </div>
        )}
        {quotas.map((q) => {
          const pct = Math.min(100, (q.used / q.allowance) * 100);
          return (
            <div key={q.name} data-testid={`quota-${q.name}`}>
              <Group justify="space-between" gap="xs">
                <Text size="sm">
                  <b>{q.name}</b> ({q.target}, per {q.period})
                </Text>
                {q.demoted ? (
                  <Badge color="red" variant="light">
                    demoted to {q.demoteTo}
                  </Badge>
                ) : (
                  <Badge color="green" variant="light">
                    within allowance
                  </Badge>
                )}
              </Group>
              <Progress
                value={pct}
                color={q.demoted ? "red" : pct > 80 ? "orange" : "blue"}
                size="sm"
                mt={4}
              />
              <Text size="xs" c="dimmed">
                {formatBytes(q.used)} of {formatBytes(q.allowance)} used; resets {formatTime(q.periodEnds)}
              </Text>
            </div>
          );
        })}
      </Stack>
    </Card>
  );
}
