"use client";
// Loading, empty and error states, the same on every page.

import { Alert, Button, Center, Group, Loader, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { errorCode } from "@/lib/trpc";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <Center py="xl" data-testid="loading">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label}</Text>
      </Group>
    </Center>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Center py="lg" data-testid="empty">
      <Text c="dimmed" ta="center">
        {children}
      </Text>
    </Center>
  );
}

export function ErrorState({ error, retry, title }: { error: unknown; retry?: () => void; title?: string }) {
  const code = errorCode(error);
  const down = code === "SERVICE_UNAVAILABLE";
  return (
    <Alert
      color={down ? "orange" : "red"}
      title={title ?? (down ? "The agent is not reachable" : "Something went wrong")}
      data-testid="error-state"
    >
      <Stack gap="xs">
        <Text size="sm">{(error as Error)?.message ?? String(error)}</Text>
        {retry && (
          <Group>
            <Button size="xs" variant="light" onClick={retry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}
