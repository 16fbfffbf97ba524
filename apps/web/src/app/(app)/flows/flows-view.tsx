"use client";
// Flows: live connections with their protocol, application, category, host name, class (and
// the rule that chose it) and rate (conntrack, through the agent), and the classifier's
// latest decisions.

import { useMemo, useState } from "react";
import { Badge, Card, Group, ScrollArea, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { ago, colorOf, formatBps, formatBytes, formatTime } from "@/lib/format";
import { Empty, ErrorState, Loading } from "@/components/states";

export function FlowsView() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.flows.listFlows.queryOptions(), refetchInterval: 2000 });
  const [search, setSearch] = useState("");
  const rows = useMemo(() => {
    const w = search.toLowerCase().trim();
    return (q.data?.connections ?? []).filter(
      (c) =>
        !w ||
        `${c.client} ${c.clientName ?? ""} ${c.server} ${c.protocol} ${c.app ?? ""} ${c.category ?? ""} ${c.hostname ?? ""} ${c.className ?? ""} ${c.l4}`
          .toLowerCase()
          .includes(w),
    );
  }, [q.data, search]);

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Group gap="xs">
          <Title order={3}>Flows</Title>
          {q.data &&
            (q.data.live ? (
              <Badge color="green" variant="light">
                live
              </Badge>
            ) : (
              <Badge color="orange" variant="light" data-testid="flows-stale">
                {q.data.at ? `stale: last seen ${ago(q.data.at)}` : "no data"}
              </Badge>
            ))}
        </Group>
        <TextInput
          placeholder="Filter by address, protocol, app, host, class"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={300}
          aria-label="filter flows"
        />
      </Group>
      {q.isLoading ? (
        <Loading />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : (
        <>
          <Card withBorder padding="sm">
            <Text fw={600} size="sm" mb="xs">
              Connections ({q.data!.connections.length})
            </Text>
            {!rows.length ? (
              <Empty>
                {q.data!.connections.length
                  ? "No connection matches the filter."
                  : q.data!.live
                    ? "No connections right now."
                    : `The agent is not reachable: ${q.data!.error ?? ""}`}
              </Empty>
            ) : (
              <ScrollArea h={420}>
                <Table fz="sm" striped highlightOnHover className="stack-sm" data-testid="flows-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>l4</Table.Th>
                      <Table.Th>client</Table.Th>
                      <Table.Th>server</Table.Th>
                      <Table.Th>protocol</Table.Th>
                      <Table.Th>app</Table.Th>
                      <Table.Th>category</Table.Th>
                      <Table.Th>host name</Table.Th>
                      <Table.Th>class</Table.Th>
                      <Table.Th ta="right">rate</Table.Th>
                      <Table.Th ta="right">bytes</Table.Th>
                      <Table.Th>state</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((c) => (
                      <Table.Tr key={`${c.l4}${c.client}${c.server}`}>
                        <Table.Td>{c.l4}</Table.Td>
                        <Table.Td className="mono">
                          {c.clientName ? (
                            <>
                              <Text span fw={500} size="sm">
                                {c.clientName}
                              </Text>{" "}
                              <Text span c="dimmed" size="xs">
                                {c.client}
                              </Text>
                            </>
                          ) : (
                            c.client
                          )}
                        </Table.Td>
                        <Table.Td className="mono">{c.server}</Table.Td>
                        <Table.Td>
                          <Badge variant="dot" color={colorOf(c.protocol, "protocol")} tt="none">
                            {c.protocol}
                          </Badge>
                        </Table.Td>
                        <Table.Td>{c.app ?? "–"}</Table.Td>
                        <Table.Td>
                          <Text size="xs" c="dimmed">
                            {c.category ?? "–"}
                          </Text>
                        </Table.Td>
                        <Table.Td className="mono" maw={220} style={{ overflowWrap: "anywhere" }}>
                          {c.hostname ?? "–"}
                        </Table.Td>
                        <Table.Td>
                          {c.className ?? (
                            <Text c="dimmed" size="sm">
                              not shaped yet
                            </Text>
                          )}
                          {c.className && (
                            <Text size="xs" c="dimmed">
                              {c.rule ?? "no rule: default"}
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td ta="right">{formatBps(c.rateBps)}</Table.Td>
                        <Table.Td ta="right">{formatBytes(c.bytes)}</Table.Td>
                        <Table.Td>{c.state ?? "–"}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </ScrollArea>
            )}
          </Card>
          <Card withBorder padding="sm">
            <Text fw={600} size="sm" mb="xs">
              Latest classifier decisions
            </Text>
            {!q.data!.decided.length ? (
              <Empty>No decisions yet.</Empty>
            ) : (
              <Table fz="sm" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>when</Table.Th>
                    <Table.Th>l4</Table.Th>
                    <Table.Th>client</Table.Th>
                    <Table.Th>server</Table.Th>
                    <Table.Th>protocol</Table.Th>
                    <Table.Th>host name</Table.Th>
                    <Table.Th>app</Table.Th>
                    <Table.Th ta="right">decided at packet</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {q.data!.decided.slice(0, 20).map((d, i) => (
                    <Table.Tr key={i}>
                      <Table.Td>{typeof d.time === "number" ? formatTime(d.time * 1000) : "–"}</Table.Td>
                      <Table.Td>{String(d.l4 ?? "")}</Table.Td>
                      <Table.Td className="mono">{String(d.client ?? "")}</Table.Td>
                      <Table.Td className="mono">{String(d.server ?? "")}</Table.Td>
                      <Table.Td>{String(d.protocol ?? "")}</Table.Td>
                      <Table.Td className="mono">
                        {typeof d.hostname === "string" ? d.hostname : "–"}
                      </Table.Td>
                      <Table.Td>
                        {typeof d.app === "string"
                          ? `${d.app}${typeof d.category === "string" ? ` (${d.category})` : ""}`
                          : "–"}
                      </Table.Td>
                      <Table.Td ta="right">{String(d.decidedAtPacket ?? "–")}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Card>
        </>
      )}
    </Stack>
  );
}
