"use client";
// The shaped interfaces and link rates, validated with the classes as you type.

import { Alert, Button, Card, Group, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { usePolicyDraft, issueAt } from "@/lib/policy-draft";
import { ErrorState, Loading } from "@/components/states";
import { useCurrentUser } from "@/components/shell";

export function InterfacesCard() {
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
