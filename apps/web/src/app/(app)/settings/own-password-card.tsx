"use client";
// Your own password (the other sessions are signed out).

import { useState } from "react";
import { Button, Card, Group, PasswordInput, Stack, Text } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { issueAt } from "@/lib/policy-draft";

export function OwnPasswordCard() {
  const trpc = useTRPC();
  const change = useMutation(trpc.users.changePassword.mutationOptions());
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const issues = errorIssues(change.error);
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Your password
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          change.mutate(
            { current, next },
            {
              onSuccess: () => {
                setCurrent("");
                setNext("");
              },
            },
          );
        }}
      >
        <Stack gap="xs" maw={320}>
          <PasswordInput
            label="Current password"
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
            error={issueAt(issues, "current")}
            required
            autoComplete="current-password"
          />
          <PasswordInput
            label="New password"
            description="At least 8 characters; your other sessions are signed out"
            value={next}
            onChange={(e) => setNext(e.currentTarget.value)}
            error={issueAt(issues, "next") ?? (next && next.length < 8 ? "at least 8 characters" : undefined)}
            required
            autoComplete="new-password"
          />
          {change.error && !issues.length && (
            <Text size="sm" c="red">
              {change.error.message}
            </Text>
          )}
          {change.isSuccess && (
            <Text size="sm" c="green">
              Password changed.
            </Text>
          )}
          <Group>
            <Button type="submit" size="xs" loading={change.isPending} disabled={!current || next.length < 8}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
