"use client";
// The LAN hosts moving the most traffic right now, named from the box's DHCP leases (or
// reverse DNS) when the agent knows them.

import { Card, Table, Text } from "@mantine/core";
import { formatBps, formatBytes } from "@/lib/format";
import { Empty } from "@/components/states";
import type { LiveExtra } from "./series";

export function TopTalkersCard({ extra }: { extra: LiveExtra | null }) {
  return (
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
                <Table.Td>
                  {h.name ? (
                    <>
                      <Text span fw={500} size="sm">
                        {h.name}
                      </Text>{" "}
                      <Text span c="dimmed" size="xs" className="mono">
                        {h.host}
                      </Text>
                    </>
                  ) : (
                    <span className="mono">{h.host}</span>
                  )}
                </Table.Td>
                <Table.Td ta="right">{formatBps(h.rateBps)}</Table.Td>
                <Table.Td ta="right">{formatBytes(h.bytes)}</Table.Td>
                <Table.Td ta="right">{h.connections}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}
