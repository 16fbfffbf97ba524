"use client";

import { useState } from "react";
import { Alert, Button, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { errorIssues, useTRPC } from "@/lib/trpc";

export function SetupForm() {
  const trpc = useTRPC();
  const session = useQuery(trpc.auth.getSession.queryOptions());
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const setup = useMutation(trpc.auth.setupAdmin.mutationOptions({ onSuccess: () => location.assign("/") }));
  const issues = errorIssues(setup.error);
  const fieldError = (f: string) => issues.find((i) => i.path === f)?.message;
  const mismatch = again.length > 0 && again !== password;
  const short = password.length > 0 && password.length < 8;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!mismatch && !short) setup.mutate({ username, password });
      }}
    >
      <Stack>
        <Title order={4}>Welcome: create the admin</Title>
        <Text size="sm" c="dimmed">
          No user exists yet. The first account administers the box: policies, applies and other users.
        </Text>
        {setup.error && !issues.length && <Alert color="red">{setup.error.message}</Alert>}
        <TextInput
          label="Admin username"
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          error={fieldError("username")}
          required
        />
        <PasswordInput
          label="Password"
          name="password"
          description="At least 8 characters"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={short ? "at least 8 characters" : fieldError("password")}
          required
        />
        <PasswordInput
          label="Password again"
          name="password2"
          autoComplete="new-password"
          value={again}
          onChange={(e) => setAgain(e.currentTarget.value)}
          error={mismatch ? "the passwords differ" : undefined}
          required
        />
        <Button
          type="submit"
          loading={setup.isPending}
          disabled={session.isLoading || mismatch || short || !again}
        >
          Create admin and sign in
        </Button>
      </Stack>
    </form>
  );
}
