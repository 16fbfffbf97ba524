"use client";
// The protocols moving traffic right now, with their totals.

import { Badge, Card, Table, Text } from "@mantine/core";
import { colorOf, formatBps, formatBytes } from "@/lib/format";
import { Empty } from "@/components/states";
import type { LiveExtra } from "./series";

export function ProtocolsNowCard({ extra }: { extra: LiveExtra | null }) {
  return (
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
                  <Badge variant="dot" color={colorOf(p.protocol, "protocol")} tt="none">
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
  );
}
