"use client";
// Settings: the shaped interfaces and link rates (validated with the classes as you type),
// users (admins: add, remove, reset passwords), your own password, and the audit log.

import { useState } from "react";
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { usePolicyDraft, issueAt } from "@/lib/policy-draft";
import { formatTime } from "@/lib/format";
import { Empty, ErrorState, Loading } from "@/components/states";
import { useCurrentUser } from "@/components/shell";

function Interfaces() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const user = useCurrentUser();
  const readOnly = user.role !== "admin";
  const ed = usePolicyDraft("interfaces");
  const info = useQuery(trpc.settings.getSettings.queryOptions());
  const save = useMutation(
    trpc.settings.saveInterfaces.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() }),
    }),
  );
  if (ed.query.isLoading || (!ed.draft && !ed.query.isError)) return <Loading />;
  if (ed.query.isError) return <ErrorState error={ed.query.error} retry={() => void ed.query.refetch()} />;
  const d = ed.draft!;
  const issues = ed.issues.length ? ed.issues : errorIssues(save.error);
  const set = (role: "wan" | "lan", f: "device" | "rate", v: string) =>
    ed.setDraft({ ...d, interfaces: { ...d.interfaces, [role]: { ...d.interfaces[role], [f]: v } } });
  const mine = issues.filter((i) => i.path.startsWith("interfaces") || i.path === "download");
  const others = issues.filter((i) => !mine.includes(i));
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Interfaces and link rates
      </Text>
      <Text size="sm" c="dimmed" mb="sm">
        Upload is shaped leaving the WAN interface, download leaving the LAN interface (or an IFB on the WAN).
        Set the rates a little below what the line really delivers, so the queue builds here and not in the
        modem.
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {(["wan", "lan"] as const).map((role) => (
          <Stack key={role} gap="xs">
            <TextInput
              label={`${role.toUpperCase()} device`}
              value={d.interfaces[role].device}
              onChange={(e) => set(role, "device", e.currentTarget.value)}
              error={issueAt(issues, `interfaces.${role}.device`)}
              disabled={readOnly}
              data-testid={`${role}-device`}
            />
            <TextInput
              label={role === "wan" ? "Upload rate (WAN)" : "Download rate (LAN)"}
              value={d.interfaces[role].rate}
              onChange={(e) => set(role, "rate", e.currentTarget.value)}
              error={issueAt(issues, `interfaces.${role}.rate`)}
              disabled={readOnly}
              data-testid={`${role}-rate`}
            />
          </Stack>
        ))}
      </SimpleGrid>
      <Select
        mt="xs"
        w={320}
        label="Shape download on"
        value={d.rest.download}
        onChange={(v) => v && ed.setDraft({ ...d, rest: { ...d.rest, download: v as "lan" | "ifb" } })}
        data={[
          { value: "lan", label: "the LAN interface (routing box)" },
          { value: "ifb", label: "an IFB on WAN ingress (bridge)" },
        ]}
        error={issueAt(issues, "download")}
        disabled={readOnly}
        allowDeselect={false}
      />
      {others.length > 0 && (
        <Alert color="red" mt="sm" title="These link rates do not fit the classes">
          {others.slice(0, 6).map((i) => (
            <Text size="sm" key={`${i.path}${i.message}`}>
              <code>{i.path}</code>: {i.message}
            </Text>
          ))}
        </Alert>
      )}
      {save.error && !errorIssues(save.error).length && (
        <Alert color="red" mt="sm">
          {save.error.message}
        </Alert>
      )}
      {!readOnly && (
        <Group mt="sm">
          <Button
            disabled={!ed.dirty || issues.length > 0}
            loading={save.isPending}
            onClick={() =>
              save.mutate({ wan: d.interfaces.wan, lan: d.interfaces.lan, download: d.rest.download })
            }
            data-testid="save-interfaces"
          >
            Save
          </Button>
          <Button variant="default" disabled={!ed.dirty} onClick={ed.reset}>
            Discard
          </Button>
          {save.isSuccess && !ed.dirty && (
            <Text size="sm" c="dimmed">
              Saved; apply it on the Apply page.
            </Text>
          )}
        </Group>
      )}
      {info.data && (
        <Text size="xs" c="dimmed" mt="md">
          Agent socket <code>{info.data.agentSocket}</code> · database {info.data.database.provider}{" "}
          <code>{info.data.database.location}</code> · patterns{" "}
          <code>{info.data.protocolDirs.join(", ")}</code>
        </Text>
      )}
    </Card>
  );
}

function Users() {
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
        <Table fz="sm" striped data-testid="users-table">
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

function OwnPassword() {
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

function Audit() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.audit.listAudit.queryOptions({ limit: 30 }), refetchInterval: 10_000 });
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Audit log
      </Text>
      {q.isLoading ? (
        <Loading />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : !q.data!.items.length ? (
        <Empty>Nothing yet.</Empty>
      ) : (
        <Table fz="xs" striped data-testid="audit-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>when</Table.Th>
              <Table.Th>who</Table.Th>
              <Table.Th>action</Table.Th>
              <Table.Th>target</Table.Th>
              <Table.Th>from</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {q.data!.items.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>{formatTime(a.at)}</Table.Td>
                <Table.Td>{a.username ?? "–"}</Table.Td>
                <Table.Td>
                  <code>{a.action}</code>
                </Table.Td>
                <Table.Td>{a.target ?? ""}</Table.Td>
                <Table.Td>{a.ip ?? ""}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

export function SettingsView() {
  const me = useCurrentUser();
  return (
    <Stack gap="md">
      <Title order={3}>Settings</Title>
      <Interfaces />
      {me.role === "admin" && <Users />}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <OwnPassword />
        <Audit />
      </SimpleGrid>
    </Stack>
  );
}
