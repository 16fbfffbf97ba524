"use client";
// The agent's health: reachable or down (then its cached status), version, installed policy,
// data plane (and whether classification keeps up), patterns, catalogue, shaped devices and
// the stats stream.

import { Badge, Card, Group, Table, Text } from "@mantine/core";
import { formatBps, formatDuration, formatTime } from "@/lib/format";
import { Empty } from "@/components/states";
import type { AgentHealth } from "./agent-health";
import { ClassificationRow, type ClassificationHealth } from "./classification-row";

export function AgentHealthCard({ d }: { d: AgentHealth }) {
  const s = d.status;
  return (
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
                ) : (s.dataPlane as { starting?: boolean }).starting ? (
                  <Badge color="yellow" variant="light">
                    starting: traffic passes unclassified until it runs
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
                {s.devices.map((x) => `${x.device} (${x.direction}, ${formatBps(x.linkRate)})`).join(", ") ||
                  "–"}
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
  );
}
