"use client";
// Devices: per-device limits (a LAN host or a group — addresses, networks, MACs — with its
// own upload/download rate and ceil, beside the application classes or nested in one),
// the LAN's networks they must lie in, and the devices the box knows from its DHCP leases,
// with their names. Checked as you type with @sluice/policy; saved into the edited policy
// (Apply puts it on the box).

import { useMemo, useState } from "react";
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  ScrollArea,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { validatePolicy, type PolicyIssue } from "@sluice/policy";
import { errorIssues, useTRPC } from "@/lib/trpc";
import { formatBps } from "@/lib/format";
import { ErrorState, Empty, Loading } from "@/components/states";
import { useCurrentUser } from "@/components/shell";
import { CellInput } from "@/components/cell-input";
import { emptyRow, fromRow, nameFrom, toRow, type DeviceRow } from "./device-rows";

export function DevicesView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const readOnly = useCurrentUser().role !== "admin";
  const list = useQuery({ ...trpc.devices.listDevices.queryOptions(), refetchInterval: 5000 });
  const policy = useQuery(trpc.policy.getPolicy.queryOptions());
  const [rows, setRows] = useState<DeviceRow[] | null>(null);
  const [networks, setNetworks] = useState<string | null>(null);
  const save = useMutation(
    trpc.devices.saveDevices.mutationOptions({
      onSuccess: () => {
        setRows(null);
        setNetworks(null);
        void qc.invalidateQueries({ queryKey: trpc.devices.listDevices.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.deploy.previewApply.queryKey() });
      },
    }),
  );
  const loadedRows = useMemo(() => (list.data ? list.data.rules.map(toRow) : null), [list.data]);
  const current = rows ?? loadedRows ?? [];
  const netText = networks ?? list.data?.networks?.join(", ") ?? "";
  const netList = useMemo(
    () =>
      netText
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    [netText],
  );
  // the same check the server makes, on the edited policy with these devices
  const issues = useMemo<PolicyIssue[]>(() => {
    if (!policy.data) return [];
    const p = policy.data.policy;
    const r = validatePolicy({
      ...p,
      interfaces: {
        ...p.interfaces,
        lan: { ...p.interfaces.lan, ...(netList.length ? { networks: netList } : { networks: undefined }) },
      },
      rules: p.rules.filter((x) => x.enabled).map(({ enabled: _, ...x }) => x),
      devices: current.map(fromRow),
    });
    return r.ok
      ? []
      : r.issues.filter((i) => i.path.startsWith("devices") || i.path.startsWith("interfaces.lan"));
  }, [policy.data, current, netList]);
  const shown = issues.length ? issues : errorIssues(save.error);

  if (list.isLoading || policy.isLoading) return <Loading label="Loading the devices…" />;
  if (list.isError) return <ErrorState error={list.error} retry={() => void list.refetch()} />;
  const data = list.data!;
  const set = (i: number, patch: Partial<DeviceRow>) =>
    setRows(current.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const under = (i: number, field: string) =>
    shown
      .filter((x) => x.path === `devices[${i}].${field}` || x.path.startsWith(`devices[${i}].${field}[`))
      .map((x) => x.message)
      .join("; ") || undefined;
  const live = (name: string, dir: "upload" | "download") =>
    data.live.find((l) => l.name === name && l.direction === dir);
  const parents = [...new Set([...data.parents.upload, ...data.parents.download])];
  const dirty = rows !== null || networks !== null;

  return (
    <Stack>
      <Title order={2}>Devices</Title>
      <Text size="sm" c="dimmed">
        A device rule gives a LAN host, or a group of hosts (addresses, networks, MAC addresses), its own
        class per direction it limits — beside the application classes, or nested in a class no rule targets.
        Its traffic goes there whatever application it is. A MAC matches the addresses the box&apos;s DHCP
        server leased to it when the policy is applied.
      </Text>
      <Card withBorder padding="sm">
        <TextInput
          label="LAN networks"
          description="Device rules must lie inside these (empty: the box's LAN addresses, checked on Apply)"
          placeholder="192.168.77.0/24, fd00::/64"
          value={netText}
          onChange={(e) => setNetworks(e.currentTarget.value)}
          error={shown.filter((x) => x.path.startsWith("interfaces.lan.networks")).map((x) => x.message)[0]}
          disabled={readOnly}
          data-testid="lan-networks"
          maw={520}
        />
      </Card>
      <Card withBorder padding={0}>
        <ScrollArea>
          <Table verticalSpacing="xs" data-testid="device-rules" style={{ minWidth: 1000 }}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={140}>name</Table.Th>
                <Table.Th w={230}>hosts</Table.Th>
                <Table.Th w={100}>upload rate</Table.Th>
                <Table.Th w={100}>upload ceil</Table.Th>
                <Table.Th w={100}>download rate</Table.Th>
                <Table.Th w={100}>download ceil</Table.Th>
                <Table.Th w={130}>inside class</Table.Th>
                <Table.Th w={110}>now</Table.Th>
                <Table.Th w={40} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {current.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={9}>
                    <Empty>No device rules: every host shares the application classes.</Empty>
                  </Table.Td>
                </Table.Tr>
              )}
              {current.map((r, i) => (
                <Table.Tr key={i} data-testid={`device-row-${i}`}>
                  <CellInput
                    value={r.name}
                    onChange={(v) => set(i, { name: v })}
                    error={under(i, "name")}
                    disabled={readOnly}
                    label={`name of device rule ${i + 1}`}
                    testId={`device-${i}-name`}
                  />
                  <CellInput
                    value={r.hosts}
                    placeholder="192.168.77.20, 02:00:…"
                    onChange={(v) => set(i, { hosts: v })}
                    error={under(i, "hosts")}
                    disabled={readOnly}
                    label={`hosts of device rule ${r.name}`}
                    testId={`device-${i}-hosts`}
                  />
                  {(
                    [
                      ["upRate", "upload.rate"],
                      ["upCeil", "upload.ceil"],
                      ["downRate", "download.rate"],
                      ["downCeil", "download.ceil"],
                    ] as const
                  ).map(([k, path]) => (
                    <CellInput
                      key={k}
                      value={r[k]}
                      placeholder={k.endsWith("Ceil") ? "= rate" : "none"}
                      onChange={(v) => set(i, { [k]: v })}
                      error={under(i, path)}
                      disabled={readOnly}
                      label={`${path.replace(".", " ")} of device ${r.name}`}
                      testId={`device-${i}-${k}`}
                    />
                  ))}
                  <Table.Td>
                    <Select
                      size="xs"
                      value={r.parent}
                      onChange={(v) => set(i, { parent: v ?? "" })}
                      data={[
                        { value: "", label: "(beside)" },
                        ...parents.map((p) => ({ value: p, label: p })),
                      ]}
                      error={under(i, "parent")}
                      disabled={readOnly}
                      allowDeselect={false}
                      aria-label={`parent class of device ${r.name}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    {(["upload", "download"] as const).map((dir) => {
                      const l = live(r.name, dir);
                      return l ? (
                        <Text size="xs" key={dir} data-testid={`device-${i}-${dir}-now`}>
                          {dir === "upload" ? "↑" : "↓"} {formatBps(l.rateBps)}
                        </Text>
                      ) : null;
                    })}
                  </Table.Td>
                  <Table.Td>
                    {!readOnly && (
                      <Button
                        size="compact-xs"
                        variant="subtle"
                        color="red"
                        onClick={() => setRows(current.filter((_, j) => j !== i))}
                        aria-label={`remove device rule ${r.name}`}
                      >
                        ✕
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      </Card>
      {shown.some((x) => !/^devices\[\d+\]\.|^interfaces\.lan\.networks/.test(x.path)) && (
        <Alert color="red">
          {shown
            .filter((x) => !/^devices\[\d+\]\.|^interfaces\.lan\.networks/.test(x.path))
            .map((x) => (
              <Text size="sm" key={x.path + x.message}>
                {x.message}
              </Text>
            ))}
        </Alert>
      )}
      {save.error && !errorIssues(save.error).length && <Alert color="red">{save.error.message}</Alert>}
      {!readOnly && (
        <Group>
          <Button variant="light" onClick={() => setRows([...current, emptyRow()])} data-testid="add-device">
            Add device rule
          </Button>
          <Button
            onClick={() =>
              save.mutate({ devices: current.map(fromRow), networks: netList.length ? netList : null })
            }
            disabled={!dirty || issues.length > 0}
            loading={save.isPending}
            data-testid="save-devices"
          >
            Save
          </Button>
          {dirty && (
            <Button
              variant="subtle"
              onClick={() => {
                setRows(null);
                setNetworks(null);
              }}
            >
              Discard
            </Button>
          )}
          {save.isSuccess && !dirty && (
            <Text size="sm" c="teal">
              Saved. Apply puts it on the box.
            </Text>
          )}
        </Group>
      )}

      <Title order={4} mt="md">
        Known devices
      </Title>
      <Text size="sm" c="dimmed">
        {data.leasesFile
          ? `From the box's DHCP leases (${data.leasesFile}).`
          : "The agent reads no DHCP lease file."}
        {data.agentError ? ` The agent did not answer: ${data.agentError}` : ""}
      </Text>
      <Card withBorder padding={0}>
        {data.known.length === 0 ? (
          <Empty>No leases.</Empty>
        ) : (
          <Table fz="sm" striped data-testid="known-devices">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>name</Table.Th>
                <Table.Th>address</Table.Th>
                <Table.Th>MAC</Table.Th>
                <Table.Th>lease</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.known.map((d) => (
                <Table.Tr key={d.address}>
                  <Table.Td>
                    {d.name ?? <Text c="dimmed">—</Text>}{" "}
                    {d.source === "dns" && (
                      <Badge size="xs" variant="light">
                        DNS
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td className="mono">{d.address}</Table.Td>
                  <Table.Td className="mono">{d.mac ?? ""}</Table.Td>
                  <Table.Td>{d.expires ? new Date(d.expires).toLocaleString() : "infinite"}</Table.Td>
                  <Table.Td>
                    {!readOnly && (
                      <Button
                        size="compact-xs"
                        variant="light"
                        onClick={() =>
                          setRows([
                            ...current,
                            emptyRow(nameFrom(d.name, `device${current.length + 1}`), d.mac ?? d.address),
                          ])
                        }
                      >
                        Limit
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  );
}
