"use client";
// Settings: the shaped interfaces and link rates, the metrics endpoint, users (admins), your own password and the
// audit log, one file per card.

import { SimpleGrid, Stack, Title } from "@mantine/core";
import { useCurrentUser } from "@/components/shell";
import { AuditCard } from "./audit-card";
import { InterfacesCard } from "./interfaces-card";
import { MetricsCard } from "./metrics-card";
import { OwnPasswordCard } from "./own-password-card";
import { UsersCard } from "./users-card";

export function SettingsView() {
  const me = useCurrentUser();
  return (
    <Stack gap="md">
      <Title order={3}>Settings</Title>
      <InterfacesCard />
      <MetricsCard />
      {me.role === "admin" && <UsersCard />}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <OwnPasswordCard />
        <AuditCard />
      </SimpleGrid>
    </Stack>
  );
}
