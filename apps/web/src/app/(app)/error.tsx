"use client";
// A page that failed to render shows what went wrong and a way to retry, inside the frame.

import { Alert, Button, Stack, Text } from "@mantine/core";

export default function PageError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <Alert color="red" title="This page could not be shown">
      <Stack gap="xs">
        <Text size="sm">{error.message || "an unexpected error"}</Text>
        {error.digest && (
          <Text size="xs" c="dimmed">
            reference {error.digest} (in the server log)
          </Text>
        )}
        <div>
          <Button size="xs" variant="light" onClick={reset}>
            Try again
          </Button>
        </div>
      </Stack>
    </Alert>
  );
}
