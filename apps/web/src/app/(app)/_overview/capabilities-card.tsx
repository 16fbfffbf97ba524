"use client";
// What the probed kernel can do and the fallbacks the renderer uses because of it.

import { Badge, Card, Group, Stack, Text, Tooltip } from "@mantine/core";
import { formatTime } from "@/lib/format";
import { Empty } from "@/components/states";
import type { AgentHealth } from "./agent-health";

export function CapabilitiesCard({ d }: { d: AgentHealth }) {
  const s = d.status;
  return (
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
              <Badge color={c.fallback ? "orange" : "green"} variant="light" w={90} style={{ flexShrink: 0 }}>
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
  );
}
