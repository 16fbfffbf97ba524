"use client";
// The agent's Prometheus/OpenMetrics endpoint: off by default; on, it listens on loopback or
// one of the LAN interface's addresses (checked as you type against what the agent reports),
// optionally behind a bearer token. Saved into the edited policy; it takes effect on Apply.

import { useState } from "react";
import {
  Alert,
  Autocomplete,
  Button,
  Card,
  Code,
  Group,
  PasswordInput,
  Select,
  SimpleGrid,
  Switch,
  Text,
  TextInput,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { MetricsSchema, metricsListenIssues, type PolicyIssue } from "@sluice/policy";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { issueAt } from "@/lib/policy-draft";
import { ErrorState, Loading } from "@/components/states";
import { useCurrentUser } from "@/components/shell";

type TokenChoice = "keep" | "remove" | "generate" | "set";

interface Form {
  enabled: boolean;
  address: string;
  port: string;
  token: TokenChoice;
  tokenValue: string;
}

/** Problems with the form, as the server would name them (metrics.address, metrics.port…). */
function formIssues(f: Form, lanDevice: string, lanAddresses: string[] | null): PolicyIssue[] {
  const port = Number(f.port);
  const r = MetricsSchema.safeParse({ enabled: f.enabled, address: f.address, port });
  const issues: PolicyIssue[] = r.success
    ? []
    : r.error.issues.map((i) => ({
        path: `metrics.${i.path.join(".")}`,
        message: i.path[0] === "port" ? "a port from 1 to 65535" : i.message,
      }));
  if (f.token === "set" && (f.tokenValue.length < 16 || /\s/.test(f.tokenValue)))
    issues.push({ path: "metrics.token", message: "at least 16 characters, no spaces" });
  const lan = lanAddresses?.filter((a) => a !== "127.0.0.1" && a !== "::1") ?? null;
  return [
    ...issues,
    ...metricsListenIssues(
      { metrics: { enabled: f.enabled, address: f.address }, interfaces: { lan: { device: lanDevice } } },
      lan,
    ),
  ];
}

export function MetricsCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const user = useCurrentUser();
  const readOnly = user.role !== "admin";
  const info = useQuery(trpc.settings.getSettings.queryOptions());
  const [form, setForm] = useState<Form | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const save = useMutation(
    trpc.settings.saveMetrics.mutationOptions({
      onSuccess: (r) => {
        setShown(r.token);
        setForm(null);
        void qc.invalidateQueries({ queryKey: trpc.settings.getSettings.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() });
      },
    }),
  );
  if (info.isLoading) return <Loading />;
  if (info.isError || !info.data) return <ErrorState error={info.error} retry={() => void info.refetch()} />;
  const m = info.data.metrics;
  const f: Form = form ?? {
    enabled: m.enabled,
    address: m.address,
    port: String(m.port),
    token: "keep",
    tokenValue: "",
  };
  const set = (p: Partial<Form>) => setForm({ ...f, ...p });
  const dirty =
    form !== null &&
    (f.enabled !== m.enabled || f.address !== m.address || f.port !== String(m.port) || f.token !== "keep");
  const known = info.data.metricsEndpoint !== null;
  const issues = [
    ...formIssues(f, info.data.interfaces.lan.device, known ? info.data.metricsAddresses : null),
    ...errorIssues(save.error),
  ];
  const ep = info.data.metricsEndpoint;
  return (
    <Card withBorder padding="sm" data-testid="metrics-card">
      <Text fw={600} mb="xs">
        Metrics for Prometheus
      </Text>
      <Text size="sm" c="dimmed" mb="sm">
        The agent serves per-class, per-protocol, per-application and per-host counters, classification health
        and apply results at <Code>/metrics</Code> (OpenMetrics or the Prometheus text format), on loopback or
        a LAN address only. Saved into the policy: it takes effect on Apply.
      </Text>
      <Switch
        label="Serve metrics"
        checked={f.enabled}
        onChange={(e) => set({ enabled: e.currentTarget.checked })}
        disabled={readOnly}
        data-testid="metrics-enabled"
      />
      <SimpleGrid cols={{ base: 1, sm: 3 }} mt="xs">
        <Autocomplete
          label="Listen address"
          description={`127.0.0.1, or an address of ${info.data.interfaces.lan.device}`}
          data={[...new Set(info.data.metricsAddresses)]}
          value={f.address}
          onChange={(v) => set({ address: v })}
          error={issueAt(issues, "metrics.address")}
          disabled={readOnly}
          data-testid="metrics-address"
        />
        <TextInput
          label="Port"
          value={f.port}
          onChange={(e) => set({ port: e.currentTarget.value.trim() })}
          error={issueAt(issues, "metrics.port")}
          disabled={readOnly}
          data-testid="metrics-port"
        />
        <Select
          label="Bearer token"
          description={m.auth === "bearer" ? "a token is set" : "no token: anyone who reaches it can read it"}
          value={f.token}
          onChange={(v) => v && set({ token: v as TokenChoice })}
          data={[
            { value: "keep", label: m.auth === "bearer" ? "keep the current token" : "keep: no token" },
            { value: "generate", label: "generate a new token" },
            { value: "set", label: "set a token" },
            ...(m.auth === "bearer" ? [{ value: "remove", label: "remove the token" }] : []),
          ]}
          allowDeselect={false}
          disabled={readOnly}
          data-testid="metrics-token"
        />
      </SimpleGrid>
      {f.token === "set" && (
        <PasswordInput
          mt="xs"
          label="Token"
          value={f.tokenValue}
          onChange={(e) => set({ tokenValue: e.currentTarget.value })}
          error={issueAt(issues, "metrics.token")}
          disabled={readOnly}
        />
      )}
      {shown && (
        <Alert color="yellow" mt="sm" title="The new token, shown once" data-testid="metrics-new-token">
          <Code data-testid="metrics-token-value">{shown}</Code>
          <Text size="sm" mt={4}>
            Put it in Prometheus&apos;s scrape config (<Code>authorization: credentials_file</Code>); Sluice
            keeps only its SHA-256.
          </Text>
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
            disabled={!dirty || issues.length > 0}
            loading={save.isPending}
            onClick={() =>
              save.mutate({
                enabled: f.enabled,
                address: f.address.trim(),
                port: Number(f.port),
                token: f.token === "set" ? { set: f.tokenValue } : f.token,
              })
            }
            data-testid="save-metrics"
          >
            Save
          </Button>
          <Button variant="default" disabled={!dirty} onClick={() => setForm(null)}>
            Discard
          </Button>
          {save.isSuccess && !dirty && (
            <Text size="sm" c="dimmed">
              Saved; apply it on the Apply page.
            </Text>
          )}
        </Group>
      )}
      <Text size="xs" c="dimmed" mt="md" data-testid="metrics-state">
        {!ep
          ? "The agent has not said whether it serves metrics."
          : ep.listening
            ? `Served now at http://${ep.listen}/metrics${ep.auth === "bearer" ? " (bearer token)" : " (no token)"}.`
            : ep.enabled
              ? `Not served: ${ep.error ?? "starting"}.`
              : "Not served (off in the policy in force)."}
      </Text>
    </Card>
  );
}
