"use client";

import { useState } from "react";
import { Alert, Button, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { errorCode, useTRPC } from "@/lib/trpc";
import { safeNext } from "@/lib/safe-next";

export function LoginForm() {
  const trpc = useTRPC();
  // the session probe also hands out the CSRF cookie the sign-in needs
  const session = useQuery(trpc.auth.getSession.queryOptions());
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: () => {
        location.assign(safeNext(new URLSearchParams(location.search).get("next"), location.origin));
      },
    }),
  );
  const code = errorCode(login.error);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        login.mutate({ username, password });
      }}
    >
      <Stack>
        <Title order={4}>Sign in</Title>
        {login.error && (
          <Alert color={code === "TOO_MANY_REQUESTS" ? "orange" : "red"} data-testid="login-error">
            {login.error.message}
          </Alert>
        )}
        <TextInput
          label="Username"
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          required
          autoFocus
        />
        <PasswordInput
          label="Password"
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          required
        />
        <Button type="submit" loading={login.isPending} disabled={session.isLoading}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
