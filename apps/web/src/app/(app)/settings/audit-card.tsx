"use client";
// The audit log: who did what, from where.

import { Card, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { formatTime } from "@/lib/format";
import { Empty, ErrorState, Loading } from "@/components/states";

export function AuditCard() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.audit.listAudit.queryOptions({ limit: 30 }), refetchInterval: 10_000 });
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Audit log
      </Text>
      {q.isLoading ? (
        <Loading />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : !q.data!.items.length ? (
        <Empty>Nothing yet.</Empty>
      ) : (
        <Table fz="xs" striped className="stack-sm" data-testid="audit-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>when</Table.Th>
              <Table.Th>who</Table.Th>
              <Table.Th>action</Table.Th>
              <Table.Th>target</Table.Th>
              <Table.Th>from</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {q.data!.items.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>{formatTime(a.at)}</Table.Td>
                <Table.Td>{a.username ?? "–"}</Table.Td>
                <Table.Td>
                  <code>{a.action}</code>
                </Table.Td>
                <Table.Td>{a.target ?? ""}</Table.Td>
                <Table.Td>{a.ip ?? ""}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}
