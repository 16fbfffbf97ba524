"use client";
// The health card's classification row: keeping up, or degraded (traffic still forwarded,
// some connections get no verdict from their payload) and why, from the agent's overload
// counters (queue full, socket full, packets passed uninspected, windows lost).

import { Badge, Table, Text, Tooltip } from "@mantine/core";

/** The data plane's overload summary, as /v1/status reports it. */
export type ClassificationHealth = { degraded: boolean; reasons: string[]; windowSeconds: number };

export function ClassificationRow({ health }: { health: ClassificationHealth | undefined }) {
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
