// The agent's health as the Overview's cards read it (the shell's query data), in a file of
// its own so that the cards and the row that holds them don't import each other.

import type { useAgentHealth } from "@/components/shell";

export type AgentHealth = NonNullable<ReturnType<typeof useAgentHealth>["data"]>;
