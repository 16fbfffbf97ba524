"use client";

import { useState } from "react";
import { Alert, Button, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { errorCode, useTRPC } from "@/lib/trpc";

export function LoginForm() {
  const trpc = useTRPC();
  // the session probe also hands out the CSRF cookie the sign-in needs
  const session = useQuery(trpc.auth.getSession.queryOptions());
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: () => {
        const next = new URLSearchParams(location.search).get("next");
        // only a path on this site (not "//host" or "/\\host", which browsers read as another host)
        location.assign(next && /^\/(?![/\\])/.test(next) ? next : "/");
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
