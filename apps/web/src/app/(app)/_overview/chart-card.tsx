"use client";
// A titled card around one or more charts, with an empty state.

import { Card, Text } from "@mantine/core";
import { Empty } from "@/components/states";

export function ChartCard({
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
