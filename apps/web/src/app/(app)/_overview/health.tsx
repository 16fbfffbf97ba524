"use client";
// The Overview's health row: the agent card and the kernel capabilities card.

import { SimpleGrid } from "@mantine/core";
import { ErrorState, Loading } from "@/components/states";
import { useAgentHealth } from "@/components/shell";
import { AgentHealthCard } from "./agent-health-card";
import { CapabilitiesCard } from "./capabilities-card";
import { ScheduleQuotaCard } from "./schedule-quota-card";

export function Health() {
  const h = useAgentHealth();
  if (h.isLoading) return <Loading label="Asking the agent…" />;
  if (h.isError) return <ErrorState error={h.error} retry={() => void h.refetch()} />;
  const d = h.data!;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <AgentHealthCard d={d} />
      <CapabilitiesCard d={d} />
      <ScheduleQuotaCard d={d} />
    </SimpleGrid>
  );
}
