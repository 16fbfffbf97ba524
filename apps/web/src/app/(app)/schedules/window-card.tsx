"use client";
// One schedule window: its days and hours, and the class limits it changes.

import { ActionIcon, Button, Card, Chip, Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { issueAt } from "@/lib/policy-draft";
import { formatRate, type PolicyIssue } from "@sluice/policy";
import type { ClassChangeDraft, WindowDraft } from "./draft-types";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function WindowCard(props: {
  w: WindowDraft;
  index: number;
  classes: string[];
  issues: PolicyIssue[];
  readOnly: boolean;
  onChange: (w: WindowDraft) => void;
  onRemove: () => void;
}) {
  const { w, index, issues, readOnly } = props;
  const at = `schedules[${index}]`;
  const set = (patch: Partial<WindowDraft>) => props.onChange({ ...w, ...patch });
  const setChange = (j: number, patch: Partial<ClassChangeDraft>) =>
    set({ classes: w.classes.map((c, k) => (k === j ? { ...c, ...patch } : c)) });
  // as saved (bit/s) → as an admin writes it; as typed → as typed
  const text = (v: string | number | undefined) =>
    v === undefined ? "" : typeof v === "number" ? formatRate(v).toLowerCase() : v;
  const opt = (v: string) => (v.trim() === "" ? undefined : v.trim());
  return (
    <Card withBorder padding="sm" data-testid={`window-${index}`}>
      <Stack gap="xs">
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label="Name"
            value={w.name}
            onChange={(e) => set({ name: e.currentTarget.value })}
            error={issueAt(issues, `${at}.name`)}
            disabled={readOnly}
            w={180}
            data-testid={`window-${index}-name`}
          />
          <TextInput
            label="From"
            placeholder="08:00"
            value={w.start}
            onChange={(e) => set({ start: e.currentTarget.value })}
            error={issueAt(issues, `${at}.start`)}
            disabled={readOnly}
            w={90}
            data-testid={`window-${index}-start`}
          />
          <TextInput
            label="To"
            placeholder="18:00"
            value={w.end}
            onChange={(e) => set({ end: e.currentTarget.value })}
            error={issueAt(issues, `${at}.end`)}
            disabled={readOnly}
            w={90}
            data-testid={`window-${index}-end`}
          />
          {!readOnly && (
            <Button variant="subtle" color="red" onClick={props.onRemove}>
              Remove window
            </Button>
          )}
        </Group>
        <Chip.Group
          multiple
          value={w.days}
          onChange={(v) => set({ days: DAYS.filter((d) => v.includes(d)) })}
        >
          <Group gap={4}>
            {DAYS.map((d) => (
              <Chip key={d} value={d} size="xs" disabled={readOnly}>
                {d}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
        {issueAt(issues, `${at}.days`) && (
          <Text size="xs" c="red">
            {issueAt(issues, `${at}.days`)}
          </Text>
        )}
        <Text size="sm" fw={500}>
          Class limits while in force
        </Text>
        {w.classes.map((c, j) => (
          <Group key={j} align="flex-end" wrap="wrap" gap="xs">
            <Select
              label="Class"
              data={props.classes}
              value={c.class || null}
              onChange={(v) => setChange(j, { class: v ?? "" })}
              error={issueAt(issues, `${at}.classes[${j}].class`) ?? issueAt(issues, `${at}.classes[${j}]`)}
              disabled={readOnly}
              w={150}
              data-testid={`window-${index}-class-${j}`}
            />
            <Select
              label="Direction"
              data={[
                { value: "both", label: "both" },
                { value: "upload", label: "upload" },
                { value: "download", label: "download" },
              ]}
              value={c.direction ?? "both"}
              onChange={(v) =>
                setChange(j, { direction: v === "upload" || v === "download" ? v : undefined })
              }
              allowDeselect={false}
              disabled={readOnly}
              w={120}
            />
            <TextInput
              label="Rate"
              placeholder="unchanged"
              value={text(c.rate)}
              onChange={(e) => setChange(j, { rate: opt(e.currentTarget.value) })}
              error={issueAt(issues, `${at}.classes[${j}].rate`)}
              disabled={readOnly}
              w={110}
            />
            <TextInput
              label="Ceil"
              placeholder="unchanged"
              value={text(c.ceil)}
              onChange={(e) => setChange(j, { ceil: opt(e.currentTarget.value) })}
              error={issueAt(issues, `${at}.classes[${j}].ceil`)}
              disabled={readOnly}
              w={110}
              data-testid={`window-${index}-ceil-${j}`}
            />
            {!readOnly && (
              <ActionIcon
                variant="subtle"
                color="red"
                aria-label="remove this change"
                onClick={() => set({ classes: w.classes.filter((_, k) => k !== j) })}
              >
                ✕
              </ActionIcon>
            )}
          </Group>
        ))}
        {!readOnly && (
          <Button
            size="xs"
            variant="light"
            w="fit-content"
            onClick={() => set({ classes: [...w.classes, { class: props.classes[0] ?? "" }] })}
          >
            Add a class limit
          </Button>
        )}
        {w.rules.length > 0 && (
          <Text size="xs" c="dimmed">
            {w.rules.length} rule{w.rules.length > 1 ? "s" : ""} replaced while in force (edit them in the
            policy JSON).
          </Text>
        )}
      </Stack>
    </Card>
  );
}
