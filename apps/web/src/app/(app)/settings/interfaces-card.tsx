"use client";
// The shaped interfaces and link rates, validated with the classes as you type.

import { Alert, Button, Card, Group, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { parseRate } from "@sluice/policy";
import { usePolicyDraft, issueAt } from "@/lib/policy-draft";
import { humanIssues, issueLine } from "@/lib/issue-words";
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
  const issues = ed.issues.length ? ed.issues : humanIssues(errorIssues(save.error));
  const set = (role: "wan" | "lan", f: "device" | "rate", v: string) =>
    ed.setDraft({ ...d, interfaces: { ...d.interfaces, [role]: { ...d.interfaces[role], [f]: v } } });
  const mine = issues.filter((i) => i.path.startsWith("interfaces") || i.path === "download");
  // warnings against what the agent found on the box (an apply would fail, or shape nothing)
  const probed = ed.status?.interfaces;
  const deviceWarning = (dev: string) =>
    probed?.length && dev && !probed.some((i) => i.name === dev)
      ? `the box has no interface "${dev}" (it has ${probed.map((i) => i.name).join(", ")}): an apply would fail`
      : undefined;
  const rateWarning = (dev: string, rate: string) => {
    const link = probed?.find((i) => i.name === dev);
    const bps = parseRate(rate);
    return link?.speedMbps && bps && bps > link.speedMbps * 1e6
      ? `above ${dev}'s link speed (${link.speedMbps} Mbit/s): the queue would build past the box, so shaping would do nothing`
      : undefined;
  };
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
              description={
                deviceWarning(d.interfaces[role].device) && (
                  <Text span size="xs" c="orange" data-testid={`${role}-device-warning`}>
                    {deviceWarning(d.interfaces[role].device)}
                  </Text>
                )
              }
              disabled={readOnly}
              data-testid={`${role}-device`}
            />
            <TextInput
              label={role === "wan" ? "Upload rate (WAN)" : "Download rate (LAN)"}
              value={d.interfaces[role].rate}
              onChange={(e) => set(role, "rate", e.currentTarget.value)}
              error={issueAt(issues, `interfaces.${role}.rate`)}
              description={
                rateWarning(d.interfaces[role].device, d.interfaces[role].rate) && (
                  <Text span size="xs" c="orange" data-testid={`${role}-rate-warning`}>
                    {rateWarning(d.interfaces[role].device, d.interfaces[role].rate)}
                  </Text>
                )
              }
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
              {issueLine(i, d)}
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
