"use client";
// Removing a class that rules send traffic to: lists those rules (numbered as on the Rules
// page) and asks where they should go, so no rule is left pointing at nothing.

import { useState } from "react";
import { Button, Group, List, Modal, Select, Text } from "@mantine/core";
import type { Direction, DraftClass, DraftRule } from "@/lib/policy-draft";

export interface PendingRemove {
  index: number;
  dir: Direction;
  name: string;
  rules: { r: DraftRule; n: number }[];
}

const describe = (r: DraftRule) => `${r.kind === "protocol" ? "protocol" : r.kind} ${r.value || "(empty)"}`;

export function RemoveClassModal({
  pending,
  classes,
  onCancel,
  onRemove,
}: {
  pending: PendingRemove;
  classes: Record<Direction, DraftClass[]>;
  onCancel: () => void;
  /** moveTo: the class the rules go to; undefined keeps them (the other direction still has the name). */
  onRemove: (moveTo?: string) => void;
}) {
  const { name, dir, rules } = pending;
  const other = dir === "upload" ? "download" : "upload";
  const stillThere = classes[other].some((c) => c.name === name);
  const hasChildren = (list: DraftClass[], n: string) => list.some((c) => c.parent === n);
  // leaf classes that exist after the removal (rules can only send traffic to a leaf)
  const targets = [
    ...new Set(
      [...classes.upload, ...classes.download]
        .filter((c) => c.name && c.name !== name)
        .filter((c) => !hasChildren(classes.upload, c.name) && !hasChildren(classes.download, c.name))
        .map((c) => c.name),
    ),
  ];
  const fallback = classes[dir].find((c) => c.default && c.name !== name)?.name ?? targets[0] ?? null;
  const [moveTo, setMoveTo] = useState<string | null>(fallback);
  const n = rules.length;
  return (
    <Modal opened onClose={onCancel} title={`Remove the ${dir} class "${name}"?`} size="lg">
      <Text size="sm" mb="xs" data-testid="remove-class-rules">
        {n === 1 ? "This rule sends" : `These ${n} rules send`} traffic to &quot;{name}&quot;:
      </Text>
      <List size="sm" mb="sm">
        {rules.map(({ r, n: i }) => (
          <List.Item key={i}>
            rule #{i + 1}: {describe(r)}
            {!r.enabled && " (disabled)"}
          </List.Item>
        ))}
      </List>
      {stillThere && (
        <Text size="sm" c="dimmed" mb="sm">
          The {other} class &quot;{name}&quot; stays, so kept rules still shape {other} traffic there; their{" "}
          {dir} traffic would go to the default class.
        </Text>
      )}
      <Select
        label={`Move ${n === 1 ? "it" : "them"} to`}
        data={targets}
        value={moveTo}
        onChange={setMoveTo}
        allowDeselect={false}
        w={260}
        data-testid="remove-class-move-to"
      />
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        {stillThere && (
          <Button variant="light" color="red" onClick={() => onRemove()}>
            Remove, keep the rules
          </Button>
        )}
        <Button
          color="red"
          disabled={!moveTo}
          onClick={() => moveTo && onRemove(moveTo)}
          data-testid="remove-class-confirm"
        >
          Move the rules and remove
        </Button>
      </Group>
    </Modal>
  );
}
