"use client";
// Rules: which protocol goes to which class, in order (the first rule for a protocol wins).
// The protocol picker searches the agent's catalogue (name, aliases, title, groups) and
// shows each pattern's metadata; `unset` and `unknown` are explained and picked explicitly.

import { useMemo, useState } from "react";
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
  type ComboboxItem,
  type OptionsFilter,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { RouterOutputs } from "@sluice/api/client";
import { usePolicyDraft, issueAt, type DraftRule } from "@/lib/policy-draft";
import { useTRPC } from "@/lib/trpc";
import { ErrorState, Loading, Empty } from "@/components/states";
import { SaveBar } from "@/components/save-bar";
import { QualityBadge } from "@/components/quality";
import { useCurrentUser } from "@/components/shell";

type Protocol = RouterOutputs["protocols"]["listProtocols"]["protocols"][number];

export const SPECIAL: Record<string, { title: string; explain: string }> = {
  unset: {
    title: "not classified (yet)",
    explain:
      "Connections the classifier has not decided: still inside the inspection window, or seen while the agent was down (queue bypass lets them through unclassified).",
  },
  unknown: {
    title: "inspected, no pattern matched",
    explain:
      "Connections whose first packets (the inspection window) matched no pattern. Without a rule they go to the default class.",
  },
};

function ProtocolInfo({ p, name }: { p: Protocol | undefined; name: string }) {
  if (SPECIAL[name])
    return (
      <Text size="xs" c="dimmed">
        <Badge size="xs" color="grape" variant="light" mr={4}>
          special
        </Badge>
        {SPECIAL[name].title}
      </Text>
    );
  if (!p)
    return name ? (
      <Text size="xs" c="red">
        not in the agent&apos;s pattern set
      </Text>
    ) : null;
  return (
    <Group gap={4} wrap="wrap">
      <Text size="xs" c="dimmed" lineClamp={1} maw={220}>
        {p.title ?? p.name}
      </Text>
      <QualityBadge quality={p.quality} />
      {p.groups.slice(0, 2).map((g) => (
        <Badge key={g} size="xs" variant="outline" color="gray">
          {g}
        </Badge>
      ))}
      {(p.overmatch || p.undermatch) && (
        <Badge size="xs" color="orange" variant="outline">
          {p.overmatch ? "overmatches" : "undermatches"}
        </Badge>
      )}
    </Group>
  );
}

export function RulesEditor() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const readOnly = user.role !== "admin";
  const ed = usePolicyDraft("rules");
  const protocols = useQuery(trpc.protocols.listProtocols.queryOptions());
  const [search, setSearch] = useState("");

  const byName = useMemo(() => {
    const m = new Map<string, Protocol>();
    for (const p of protocols.data?.protocols ?? []) {
      m.set(p.name, p);
      for (const a of p.aliases) if (!m.has(a)) m.set(a, p);
    }
    return m;
  }, [protocols.data]);

  const options = useMemo(
    () => [
      { group: "special", items: Object.keys(SPECIAL).map((n) => ({ value: n, label: n })) },
      {
        group: "protocols",
        items: (protocols.data?.protocols ?? []).map((p) => ({ value: p.name, label: p.name })),
      },
    ],
    [protocols.data],
  );
  const filter: OptionsFilter = ({ options: opts, search: s }) => {
    const words = s.toLowerCase().split(/\s+/).filter(Boolean);
    const match = (o: ComboboxItem) => {
      const p = byName.get(o.value);
      const hay = [
        o.value,
        p?.title ?? "",
        ...(p?.aliases ?? []),
        ...(p?.groups ?? []),
        SPECIAL[o.value]?.title ?? "",
      ]
        .join(" ")
        .toLowerCase();
      return words.every((w) => hay.includes(w));
    };
    return opts
      .map((g) => ("group" in g ? { ...g, items: g.items.filter(match) } : g))
      .filter((g) => ("group" in g ? g.items.length > 0 : match(g as ComboboxItem)));
  };

  if (ed.query.isLoading || (!ed.draft && !ed.query.isError)) return <Loading label="Loading the policy…" />;
  if (ed.query.isError) return <ErrorState error={ed.query.error} retry={() => void ed.query.refetch()} />;
  const d = ed.draft!;
  const classNames = [...new Set([...d.classes.upload, ...d.classes.download].map((c) => c.name))];
  const parents = new Set([...d.classes.upload, ...d.classes.download].map((c) => c.parent).filter(Boolean));
  const leafClasses = classNames.filter((n) => !parents.has(n));
  const set = (rules: DraftRule[]) => ed.setDraft({ ...d, rules });
  const update = (i: number, patch: Partial<DraftRule>) =>
    set(d.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const move = (i: number, by: number) => {
    const j = i + by;
    if (j < 0 || j >= d.rules.length) return;
    const next = [...d.rules];
    [next[i], next[j]] = [next[j]!, next[i]!];
    set(next);
  };
  const shown = d.rules
    .map((r, i) => ({ r, i }))
    .filter(
      ({ r }) =>
        !search || `${r.protocol} ${r.class} ${r.comment}`.toLowerCase().includes(search.toLowerCase()),
    );
  const has = (p: string) => d.rules.some((r) => r.protocol === p && r.enabled);

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={3}>Rules</Title>
        <TextInput
          placeholder="Filter rules"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={240}
          aria-label="filter rules"
        />
      </Group>
      <Alert
        color="grape"
        variant="light"
        title="Two special classifications"
        data-testid="special-explained"
      >
        <Stack gap={4}>
          {Object.entries(SPECIAL).map(([n, s]) => (
            <Text size="sm" key={n}>
              <b>{n}</b> — {s.explain}{" "}
              {!has(n) && (
                <Text span c="orange" size="sm">
                  (no rule: the default class)
                </Text>
              )}
            </Text>
          ))}
          <Text size="sm" c="dimmed">
            Rules are checked top to bottom; a protocol with no rule goes to the default class of each
            direction.
          </Text>
        </Stack>
      </Alert>
      {protocols.isError && (
        <Alert color="orange">
          The protocol catalogue could not be loaded ({protocols.error.message}); names are not checked.
        </Alert>
      )}
      <Card withBorder padding={0}>
        {d.rules.length === 0 ? (
          <Empty>No rules: every connection goes to the default class.</Empty>
        ) : (
          <Table verticalSpacing="xs" data-testid="rules-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>#</Table.Th>
                <Table.Th w={60}>on</Table.Th>
                <Table.Th w={440}>protocol</Table.Th>
                <Table.Th w={180}>class</Table.Th>
                <Table.Th>comment</Table.Th>
                <Table.Th w={110} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map(({ r, i }) => (
                <Table.Tr key={i} data-testid={`rule-row-${i}`} opacity={r.enabled ? 1 : 0.55}>
                  <Table.Td c="dimmed">{i + 1}</Table.Td>
                  <Table.Td>
                    <Switch
                      checked={r.enabled}
                      onChange={(e) => update(i, { enabled: e.currentTarget.checked })}
                      disabled={readOnly}
                      aria-label={`rule ${i + 1} enabled`}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap" align="flex-start">
                      <Select
                        size="xs"
                        w={150}
                        style={{ flexShrink: 0 }}
                        searchable
                        value={r.protocol}
                        onChange={(v) => v && update(i, { protocol: v })}
                        data={options}
                        filter={filter}
                        limit={60}
                        nothingFoundMessage="no such protocol"
                        error={issueAt(ed.issues, `rules[${i}].protocol`)}
                        disabled={readOnly}
                        allowDeselect={false}
                        renderOption={({ option }) => (
                          <Stack gap={0}>
                            <Text size="sm">{option.value}</Text>
                            <ProtocolInfo p={byName.get(option.value)} name={option.value} />
                          </Stack>
                        )}
                        comboboxProps={{ width: 360, position: "bottom-start" }}
                        aria-label={`protocol of rule ${i + 1}`}
                      />
                      <ProtocolInfo p={byName.get(r.protocol)} name={r.protocol} />
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Select
                      size="xs"
                      value={r.class}
                      onChange={(v) => v && update(i, { class: v })}
                      data={[...new Set([...leafClasses, r.class])]}
                      error={issueAt(ed.issues, `rules[${i}].class`)}
                      disabled={readOnly}
                      allowDeselect={false}
                      aria-label={`class of rule ${i + 1}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    <TextInput
                      size="xs"
                      value={r.comment}
                      onChange={(e) => update(i, { comment: e.currentTarget.value })}
                      error={issueAt(ed.issues, `rules[${i}].comment`)}
                      disabled={readOnly}
                      aria-label={`comment of rule ${i + 1}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    {!readOnly && (
                      <Group gap={2} wrap="nowrap">
                        <ActionIcon
                          variant="subtle"
                          onClick={() => move(i, -1)}
                          disabled={i === 0}
                          aria-label="move up"
                        >
                          ↑
                        </ActionIcon>
                        <ActionIcon
                          variant="subtle"
                          onClick={() => move(i, 1)}
                          disabled={i === d.rules.length - 1}
                          aria-label="move down"
                        >
                          ↓
                        </ActionIcon>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          onClick={() => set(d.rules.filter((_, j) => j !== i))}
                          aria-label={`remove rule ${i + 1}`}
                        >
                          ✕
                        </ActionIcon>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {!readOnly && (
          <Group p="sm">
            <Button
              size="xs"
              variant="light"
              onClick={() =>
                set([
                  ...d.rules,
                  { protocol: "", class: leafClasses[0] ?? "default", comment: "", enabled: true },
                ])
              }
            >
              Add rule
            </Button>
            {!has("unknown") && (
              <Button
                size="xs"
                variant="subtle"
                onClick={() =>
                  set([
                    ...d.rules,
                    { protocol: "unknown", class: leafClasses[0] ?? "default", comment: "", enabled: true },
                  ])
                }
              >
                Add a rule for unknown
              </Button>
            )}
            {!has("unset") && (
              <Button
                size="xs"
                variant="subtle"
                onClick={() =>
                  set([
                    ...d.rules,
                    { protocol: "unset", class: leafClasses[0] ?? "default", comment: "", enabled: true },
                  ])
                }
              >
                Add a rule for unset
              </Button>
            )}
          </Group>
        )}
      </Card>
      <SaveBar
        dirty={ed.dirty}
        issues={ed.issues}
        otherIssues={ed.issues.filter((x) => !x.path.startsWith("rules"))}
        saving={ed.saving.isPending}
        saved={ed.saving.isSuccess}
        error={ed.saving.error}
        readOnly={readOnly}
        onSave={ed.save}
        onReset={ed.reset}
      />
    </Stack>
  );
}
