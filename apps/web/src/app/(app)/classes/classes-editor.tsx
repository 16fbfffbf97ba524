"use client";
// Classes: the HTB tree per direction (upload on the WAN, download on the LAN) with rate,
// ceil and priority; add, edit, remove; validated as you type, each problem next to its field.

import { useMemo, useState } from "react";
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  NumberInput,
  Radio,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { fairLeaves, hostFairMethod, parseRate } from "@sluice/policy";
import { usePolicyDraft, issueAt, type DraftClass, type Direction, type LeafKind } from "@/lib/policy-draft";
import { RemoveClassModal, type PendingRemove } from "./remove-class-modal";
import { formatBps } from "@/lib/format";
import { ErrorState, Loading } from "@/components/states";
import { DraftSaveBar } from "@/components/save-bar";
import { CellInput } from "@/components/cell-input";
import { useCurrentUser } from "@/components/shell";

const LEAVES: { value: LeafKind; label: string }[] = [
  { value: "auto", label: "auto" },
  { value: "sfq", label: "sfq" },
  { value: "fq_codel", label: "fq_codel" },
  { value: "cake", label: "cake" },
  { value: "pfifo", label: "pfifo" },
];

/** Rows in tree order (parents before children), with their depth and index in the list. */
function treeOrder(list: DraftClass[]): { c: DraftClass; i: number; depth: number }[] {
  const out: { c: DraftClass; i: number; depth: number }[] = [];
  const seen = new Set<number>();
  const names = new Set(list.map((c) => c.name));
  const walk = (parent: string | undefined, depth: number) => {
    list.forEach((c, i) => {
      const p = c.parent && names.has(c.parent) && c.parent !== c.name ? c.parent : undefined;
      if (p !== parent || seen.has(i) || depth > 8) return;
      seen.add(i);
      out.push({ c, i, depth });
      walk(c.name, depth + 1);
    });
  };
  walk(undefined, 0);
  list.forEach((c, i) => !seen.has(i) && out.push({ c, i, depth: 0 })); // loops: still shown
  return out;
}

export function ClassesEditor() {
  const user = useCurrentUser();
  const readOnly = user.role !== "admin";
  const ed = usePolicyDraft("classes");
  const [dir, setDir] = useState<Direction>("upload");
  const [removing, setRemoving] = useState<PendingRemove | null>(null);
  const rows = useMemo(() => (ed.draft ? treeOrder(ed.draft.classes[dir]) : []), [ed.draft, dir]);

  if (ed.query.isLoading || (!ed.draft && !ed.query.isError)) return <Loading label="Loading the policy…" />;
  if (ed.query.isError) return <ErrorState error={ed.query.error} retry={() => void ed.query.refetch()} />;
  const d = ed.draft!;
  const ifb = d.rest.download === "ifb";
  const list = d.classes[dir];
  const link =
    dir === "upload" ? d.interfaces.wan : d.rest.download === "ifb" ? d.interfaces.wan : d.interfaces.lan;
  const at = (i: number, f: string) => issueAt(ed.issues, `classes.${dir}[${i}].${f}`);
  const mine = (p: string) => p.startsWith("classes.");
  const dirIssues = ed.issues.filter((x) => x.path === `classes.${dir}`);
  const otherDirCount = ed.issues.filter((x) =>
    x.path.startsWith(`classes.${dir === "upload" ? "download" : "upload"}`),
  ).length;

  const update = (i: number, patch: Partial<DraftClass>) => {
    const old = list[i]!.name;
    // children follow a rename while the old name was this class's alone
    const follow = patch.name !== undefined && old !== "" && list.filter((c) => c.name === old).length === 1;
    ed.setDraft({
      ...d,
      classes: {
        ...d.classes,
        [dir]: list.map((c, j) =>
          j === i ? { ...c, ...patch } : follow && c.parent === old ? { ...c, parent: patch.name } : c,
        ),
      },
    });
  };
  const setDefault = (i: number) =>
    ed.setDraft({ ...d, classes: { ...d.classes, [dir]: list.map((c, j) => ({ ...c, default: j === i })) } });
  /** Removes class i; its rules move to `moveTo` (when given). Children move up. */
  const removeNow = (i: number, moveTo?: string) => {
    const name = list[i]!.name;
    ed.setDraft({
      ...d,
      classes: {
        ...d.classes,
        [dir]: list
          .filter((_, j) => j !== i)
          .map((c) => (c.parent === name ? { ...c, parent: list[i]!.parent } : c)),
      },
      rules: moveTo ? d.rules.map((r) => (r.class === name ? { ...r, class: moveTo } : r)) : d.rules,
    });
  };
  // a class with rules: say which, and where they should go, before removing it
  const remove = (i: number) => {
    const name = list[i]!.name;
    const rules = d.rules.map((r, n) => ({ r, n })).filter(({ r }) => r.class === name);
    if (!rules.length) return removeNow(i);
    setRemoving({ index: i, dir, name, rules });
  };
  const fair = ed.kernel ? fairLeaves(ed.kernel) : null;
  const add = () => {
    let n = 1;
    while (list.some((c) => c.name === `class${n}`)) n++;
    ed.setDraft({
      ...d,
      classes: {
        ...d.classes,
        [dir]: [
          ...list,
          {
            name: `class${n}`,
            rate: "1mbit",
            ceil: link.rate,
            priority: 3,
            default: false,
            leaf: "auto",
            description: "",
          },
        ],
      },
    });
  };
  const sumTop = list.filter((c) => !c.parent).reduce((n, c) => n + (parseRate(c.rate) ?? 0), 0);
  const linkBps = parseRate(link.rate) ?? 0;

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={3}>Classes</Title>
        <SegmentedControl
          value={dir}
          onChange={(v) => setDir(v as Direction)}
          data={[
            { value: "upload", label: `Upload (${d.interfaces.wan.device})` },
            {
              value: "download",
              label: `Download (${d.rest.download === "ifb" ? "ifb" : d.interfaces.lan.device})`,
            },
          ]}
          data-testid="direction"
        />
      </Group>
      <Text size="sm" c="dimmed">
        Each class guarantees its <b>rate</b> and may borrow up to its <b>ceil</b> when the link has room;
        lower <b>priority</b> numbers borrow first. Link: <b>{formatBps(linkBps)}</b>; top-level guarantees
        add up to <b>{formatBps(sumTop)}</b>. Rates like 512kbit, 5mbit, 1gbit.
      </Text>
      {fair && fair.length === 0 && (
        <Alert color="orange" title="No fair queueing on this box" data-testid="no-fair-queueing">
          This kernel has none of sfq, fq_codel or cake, so inside each class every connection shares one FIFO
          queue: one big download can delay the other connections of its class. Classes still get their rates.
          Use a kernel with sch_fq_codel (the appliance image has it) for fairness within a class.
        </Alert>
      )}
      {otherDirCount > 0 && (
        <Alert color="orange">
          {otherDirCount} problem{otherDirCount > 1 ? "s" : ""} in the{" "}
          {dir === "upload" ? "download" : "upload"} tree.
        </Alert>
      )}
      {dirIssues.map((x) => (
        <Alert key={x.message} color="red">
          {x.message}
        </Alert>
      ))}
      <Card withBorder padding={0}>
        <Table
          verticalSpacing="xs"
          className="stack-sm"
          data-testid={`classes-${dir}`}
          style={{ minWidth: 900 }}
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={190}>name</Table.Th>
              <Table.Th w={140}>parent</Table.Th>
              <Table.Th w={120}>rate</Table.Th>
              <Table.Th w={120}>ceil</Table.Th>
              <Table.Th w={80}>priority</Table.Th>
              <Table.Th w={110}>leaf qdisc</Table.Th>
              <Table.Th w={110}>shared by</Table.Th>
              <Table.Th w={70}>default</Table.Th>
              <Table.Th>description</Table.Th>
              <Table.Th w={40} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map(({ c, i, depth }) => {
              const hasChildren = list.some((x) => x.parent === c.name);
              return (
                <Table.Tr key={i} data-testid={`class-row-${c.name}`}>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap" pl={depth * 14}>
                      {depth > 0 && <Text c="dimmed">└</Text>}
                      <TextInput
                        size="xs"
                        value={c.name}
                        onChange={(e) => update(i, { name: e.currentTarget.value })}
                        error={at(i, "name")}
                        disabled={readOnly}
                        aria-label={`name of class ${i}`}
                        data-testid={`class-${dir}-${i}-name`}
                      />
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Select
                      size="xs"
                      value={c.parent ?? ""}
                      onChange={(v) => update(i, { parent: v || undefined })}
                      data={[
                        { value: "", label: "(link)" },
                        // unique, non-empty names: Select refuses duplicate options
                        ...[...new Set(list.map((x) => x.name))]
                          .filter((n) => n && n !== c.name)
                          .map((n) => ({ value: n, label: n })),
                      ]}
                      error={at(i, "parent")}
                      disabled={readOnly}
                      allowDeselect={false}
                      aria-label={`parent of class ${c.name}`}
                    />
                  </Table.Td>
                  <CellInput
                    value={c.rate}
                    onChange={(v) => update(i, { rate: v })}
                    error={at(i, "rate")}
                    disabled={readOnly}
                    label={`rate of class ${c.name}`}
                    testId={`class-${dir}-${c.name}-rate`}
                  />
                  <CellInput
                    value={c.ceil}
                    placeholder="= rate"
                    onChange={(v) => update(i, { ceil: v })}
                    error={at(i, "ceil")}
                    disabled={readOnly}
                    label={`ceil of class ${c.name}`}
                    testId={`class-${dir}-${c.name}-ceil`}
                  />
                  <Table.Td>
                    <NumberInput
                      size="xs"
                      value={c.priority}
                      min={0}
                      max={7}
                      onChange={(v) => update(i, { priority: typeof v === "number" ? v : Number(v) || 0 })}
                      error={at(i, "priority")}
                      disabled={readOnly}
                      aria-label={`priority of class ${c.name}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Select
                      size="xs"
                      value={c.leaf}
                      onChange={(v) => update(i, { leaf: (v ?? "auto") as LeafKind })}
                      data={LEAVES.map((l) =>
                        ed.kernel && l.value !== "auto" && ed.kernel.qdiscs[l.value] === false
                          ? { ...l, label: `${l.label} (not in this kernel)`, disabled: true }
                          : l,
                      )}
                      disabled={readOnly || hasChildren}
                      allowDeselect={false}
                      error={at(i, "leaf")}
                      aria-label={`leaf qdisc of class ${c.name}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Tooltip
                      label={
                        at(i, "fairness") ??
                        "hosts: each LAN host gets an equal share first, however many connections it opens"
                      }
                      color={at(i, "fairness") ? "red" : undefined}
                    >
                      <Select
                        size="xs"
                        value={c.fairness ?? "flow"}
                        onChange={(v) => update(i, { fairness: v === "host" ? "host" : undefined })}
                        data={[
                          { value: "flow", label: "flows" },
                          ed.kernel?.hosts && !hostFairMethod(ed.kernel.hosts, dir === "download" && ifb)
                            ? {
                                value: "host",
                                label: "hosts (not in this kernel)",
                                disabled: c.fairness !== "host",
                              }
                            : { value: "host", label: "hosts" },
                        ]}
                        disabled={readOnly || hasChildren}
                        allowDeselect={false}
                        error={at(i, "fairness")}
                        aria-label={`fairness of class ${c.name}`}
                        data-testid={`class-${dir}-${c.name}-fairness`}
                      />
                    </Tooltip>
                  </Table.Td>
                  <Table.Td>
                    <Tooltip
                      label={at(i, "default") ?? "traffic no rule maps goes here"}
                      color={at(i, "default") ? "red" : undefined}
                    >
                      <Radio
                        checked={c.default}
                        onChange={() => setDefault(i)}
                        disabled={readOnly}
                        error={!!at(i, "default")}
                        aria-label={`default class ${c.name}`}
                      />
                    </Tooltip>
                  </Table.Td>
                  <Table.Td>
                    <TextInput
                      size="xs"
                      value={c.description}
                      onChange={(e) => update(i, { description: e.currentTarget.value })}
                      error={at(i, "description")}
                      disabled={readOnly}
                      aria-label={`description of class ${c.name}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    {!readOnly && (
                      <Tooltip label={hasChildren ? "remove (children move up)" : "remove"}>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          onClick={() => remove(i)}
                          aria-label={`remove class ${c.name}`}
                        >
                          ✕
                        </ActionIcon>
                      </Tooltip>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        {!readOnly && (
          <Group p="sm">
            <Button size="xs" variant="light" onClick={add} data-testid="add-class">
              Add class
            </Button>
            <Badge variant="light" color="gray">
              {list.length} classes
            </Badge>
          </Group>
        )}
      </Card>
      {removing && (
        <RemoveClassModal
          pending={removing}
          classes={d.classes}
          onCancel={() => setRemoving(null)}
          onRemove={(moveTo) => {
            if (removing.dir === dir) removeNow(removing.index, moveTo);
            setRemoving(null);
          }}
        />
      )}
      <DraftSaveBar ed={ed} shows={mine} readOnly={readOnly} />
    </Stack>
  );
}
