"use client";
// Users (admins only): add, remove, reset passwords.

import { useState } from "react";
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  PasswordInput,
  Select,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { issueAt } from "@/lib/policy-draft";
import { formatTime } from "@/lib/format";
import { Empty, ErrorState, Loading } from "@/components/states";
import { useCurrentUser } from "@/components/shell";

export function UsersCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const me = useCurrentUser();
  const q = useQuery(trpc.users.listUsers.queryOptions());
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.users.listUsers.queryKey() });
  const create = useMutation(trpc.users.createUser.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.users.removeUser.mutationOptions({ onSuccess: invalidate }));
  const reset = useMutation(trpc.users.setPassword.mutationOptions());
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"admin" | "viewer">("viewer");
  const [resetFor, setResetFor] = useState<number | null>(null);
  const [resetPw, setResetPw] = useState("");
  const issues = errorIssues(create.error);
  const err = remove.error ?? reset.error;
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Users
      </Text>
      {err && (
        <Alert color="red" mb="sm">
          {err.message}
        </Alert>
      )}
      {q.isLoading ? (
        <Loading />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : !q.data!.length ? (
        <Empty>No users.</Empty>
      ) : (
        <Table fz="sm" striped className="stack-sm" data-testid="users-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>user</Table.Th>
              <Table.Th>role</Table.Th>
              <Table.Th>created</Table.Th>
              <Table.Th>last sign-in</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {q.data!.map((u) => (
              <Table.Tr key={u.id}>
                <Table.Td>
                  {u.username}
                  {u.username === me.username && (
                    <Badge size="xs" ml={6} variant="light">
                      you
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>{u.role}</Table.Td>
                <Table.Td>{formatTime(u.createdAt)}</Table.Td>
                <Table.Td>{formatTime(u.lastLoginAt)}</Table.Td>
                <Table.Td>
                  {resetFor === u.id ? (
                    <Group gap={4} wrap="nowrap">
                      <PasswordInput
                        size="xs"
                        placeholder="new password"
                        value={resetPw}
                        onChange={(e) => setResetPw(e.currentTarget.value)}
                        w={160}
                      />
                      <Button
                        size="compact-xs"
                        disabled={resetPw.length < 8}
                        onClick={() =>
                          reset.mutate(
                            { id: u.id, password: resetPw },
                            { onSuccess: () => setResetFor(null) },
                          )
                        }
                      >
                        Set
                      </Button>
                      <Button size="compact-xs" variant="subtle" onClick={() => setResetFor(null)}>
                        Cancel
                      </Button>
                    </Group>
                  ) : (
                    u.username !== me.username && (
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          onClick={() => {
                            setResetFor(u.id);
                            setResetPw("");
                          }}
                        >
                          Reset password
                        </Button>
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          onClick={() => remove.mutate({ id: u.id })}
                        >
                          Remove
                        </Button>
                      </Group>
                    )
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { username, password, role },
            {
              onSuccess: () => {
                setUsername("");
                setPassword("");
              },
            },
          );
        }}
      >
        <Group mt="sm" align="flex-start">
          <TextInput
            size="xs"
            label="Username"
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
            error={issueAt(issues, "username")}
            required
          />
          <PasswordInput
            size="xs"
            label="Password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={issueAt(issues, "password")}
            required
            w={180}
          />
          <Select
            size="xs"
            label="Role"
            value={role}
            onChange={(v) => setRole((v ?? "viewer") as "admin" | "viewer")}
            data={["viewer", "admin"]}
            allowDeselect={false}
            w={110}
          />
          <Button size="xs" type="submit" mt={22} loading={create.isPending}>
            Add user
          </Button>
        </Group>
        {create.error && !issues.length && (
          <Text size="sm" c="red" mt={4}>
            {create.error.message}
          </Text>
        )}
      </form>
    </Card>
  );
}
