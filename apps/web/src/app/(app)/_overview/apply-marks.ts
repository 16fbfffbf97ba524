"use client";
// Applies, tries and rollbacks as marks on the Overview's time axes ("#4"), from the history.

import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import type { ChartMark } from "@/components/time-chart";

export function useApplyMarks(): ChartMark[] {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.deploy.listHistory.queryOptions(), refetchInterval: 15_000 });
  return useMemo(
    () =>
      (q.data?.rows ?? [])
        .filter((h) => h.agentEntryId !== null && h.status !== "failed")
        .map((h) => ({ t: new Date(h.at).getTime() / 1000, label: `#${h.agentEntryId}` })),
    [q.data],
  );
}
