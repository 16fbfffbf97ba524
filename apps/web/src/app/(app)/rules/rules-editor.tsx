"use client";
// Rules: which traffic goes to which class. Each rule targets a protocol (the agent's pattern
// catalogue, with `unset` and `unknown` explained), a catalogue application, a category or
// a host name glob; when several match a connection the most specific kind wins.

import { useState } from "react";
import {
  ActionIcon,
  Alert,
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
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { usePolicyDraft, issueAt, newRule, type DraftRule } from "@/lib/policy-draft";
import { useTRPC } from "@/lib/trpc";
import { ErrorState, Loading, Empty } from "@/components/states";
import { DraftSaveBar } from "@/components/save-bar";
import { useCurrentUser } from "@/components/shell";
import { SPECIAL, useProtocolIndex } from "./protocol-picker";
import { RuleTarget, KIND_LABELS } from "./rule-target";

export function RulesEditor() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const readOnly = user.role !== "admin";
  const ed = usePolicyDraft("rules");
  const protocols = useQuery(trpc.protocols.listProtocols.queryOptions());
  const protocolList = protocols.data?.protocols ?? [];
  const protocolIndex = useProtocolIndex(protocolList);
  const [search, setSearch] = useState("");

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
        !search ||
        `${KIND_LABELS[r.kind]} ${r.value} ${r.class} ${r.comment}`
          .toLowerCase()
          .includes(search.toLowerCase()),
    );
  const has = (p: string) => d.rules.some((r) => r.kind === "protocol" && r.value === p && r.enabled);
  const firstClass = leafClasses[0] ?? "default";

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
        </Stack>
      </Alert>
      <Alert color="blue" variant="light" title="Which rule wins" data-testid="precedence-help">
        <Text size="sm">
          A rule targets a protocol, an application, a category of applications or a host name (
          <span className="mono">*.example.com</span>: the domain and its subdomains). When several match a
          connection, the most specific kind wins: <b>hostname</b> &gt; <b>application</b> &gt;{" "}
          <b>category</b> &gt; <b>protocol</b> (so &ldquo;Application youtube&rdquo; beats &ldquo;Protocol
          quic&rdquo;); among hostname rules, the first in the list. Traffic no rule matches goes to the
          default class of each direction.
        </Text>
      </Alert>
      {protocols.isError && (
        <Alert color="orange">
          The protocol catalogue could not be loaded ({protocols.error.message}); names are not checked.
        </Alert>
      )}
      {ed.apps.data && !ed.apps.data.apps.length && (
        <Alert color="orange" data-testid="apps-unavailable">
          The application catalogue is not available ({ed.apps.data.error ?? "the agent sent none"}):
          application and category rules cannot be picked or checked until the agent answers.
        </Alert>
      )}
      <Card withBorder padding={0}>
        {d.rules.length === 0 ? (
          <Empty>No rules: every connection goes to the default class.</Empty>
        ) : (
          <Table verticalSpacing="xs" className="stack-sm" data-testid="rules-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>#</Table.Th>
                <Table.Th w={60}>on</Table.Th>
                <Table.Th w={560}>target</Table.Th>
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
                    <RuleTarget
                      rule={r}
                      index={i}
                      onChange={(patch) => update(i, patch)}
                      issues={ed.issues}
                      protocols={protocolList}
                      protocolIndex={protocolIndex}
                      apps={ed.apps.data}
                      disabled={readOnly}
                    />
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
              onClick={() => set([...d.rules, newRule("protocol", firstClass)])}
            >
              Add rule
            </Button>
            {!has("unknown") && (
              <Button
                size="xs"
                variant="subtle"
                onClick={() => set([...d.rules, newRule("protocol", firstClass, "unknown")])}
              >
                Add a rule for unknown
              </Button>
            )}
            {!has("unset") && (
              <Button
                size="xs"
                variant="subtle"
                onClick={() => set([...d.rules, newRule("protocol", firstClass, "unset")])}
              >
                Add a rule for unset
              </Button>
            )}
          </Group>
        )}
      </Card>
      <DraftSaveBar ed={ed} shows={(p) => p.startsWith("rules")} readOnly={readOnly} />
    </Stack>
  );
}
