"use client";
// One quota: what it counts, its allowance per period, and where its traffic goes past it.

import { ActionIcon, Group, Select, TextInput } from "@mantine/core";
import { issueAt } from "@/lib/policy-draft";
import { formatBytes, type PolicyIssue } from "@sluice/policy";
import type { QuotaDraft } from "./draft-types";

type Kind = "device" | "address" | "class";
const kindOf = (q: QuotaDraft): Kind =>
  q.device !== undefined ? "device" : q.class !== undefined ? "class" : "address";

export function QuotaRow(props: {
  q: QuotaDraft;
  index: number;
  classes: string[];
  devices: string[];
  issues: PolicyIssue[];
  readOnly: boolean;
  onChange: (q: QuotaDraft) => void;
  onRemove: () => void;
}) {
  const { q, index, issues, readOnly } = props;
  const at = `quotas[${index}]`;
  const kind = kindOf(q);
  const set = (patch: Partial<QuotaDraft>) => props.onChange({ ...q, ...patch });
  const setTarget = (k: Kind, value: string) => {
    const { device: _d, address: _a, class: _c, ...rest } = q;
    props.onChange({ ...rest, [k]: value });
  };
  return (
    <Group align="flex-end" wrap="wrap" gap="xs" data-testid={`quota-row-${index}`}>
      <TextInput
        label="Name"
        value={q.name}
        onChange={(e) => set({ name: e.currentTarget.value })}
        error={issueAt(issues, `${at}.name`) ?? issueAt(issues, at)}
        disabled={readOnly}
        w={130}
      />
      <Select
        label="Counts"
        data={["device", "address", "class"]}
        value={kind}
        onChange={(v) => v && setTarget(v as Kind, "")}
        allowDeselect={false}
        disabled={readOnly}
        w={110}
      />
      {kind === "address" ? (
        <TextInput
          label="Address or network"
          value={q.address ?? ""}
          onChange={(e) => setTarget("address", e.currentTarget.value)}
          error={issueAt(issues, `${at}.address`)}
          disabled={readOnly}
          w={170}
          data-testid={`quota-${index}-address`}
        />
      ) : (
        <Select
          label={kind === "device" ? "Device rule" : "Class"}
          data={kind === "device" ? props.devices : props.classes}
          value={(kind === "device" ? q.device : q.class) || null}
          onChange={(v) => setTarget(kind, v ?? "")}
          error={issueAt(issues, `${at}.${kind}`)}
          disabled={readOnly}
          w={170}
        />
      )}
      <TextInput
        label="Allowance"
        placeholder="2GB"
        value={typeof q.allowance === "number" ? formatBytes(q.allowance).replace(" ", "") : q.allowance}
        onChange={(e) => set({ allowance: e.currentTarget.value })}
        error={issueAt(issues, `${at}.allowance`)}
        disabled={readOnly}
        w={110}
        data-testid={`quota-${index}-allowance`}
      />
      <Select
        label="Per"
        data={["day", "week", "month"]}
        value={q.period}
        onChange={(v) => v && set({ period: v as QuotaDraft["period"] })}
        allowDeselect={false}
        disabled={readOnly}
        w={100}
      />
      <Select
        label="Then demote to"
        data={props.classes}
        value={q.demoteTo ?? null}
        onChange={(v) => set({ demoteTo: v ?? undefined })}
        error={issueAt(issues, `${at}.demoteTo`)}
        disabled={readOnly}
        w={150}
        data-testid={`quota-${index}-demote`}
      />
      {!readOnly && (
        <ActionIcon variant="subtle" color="red" aria-label="remove this quota" onClick={props.onRemove}>
          ✕
        </ActionIcon>
      )}
    </Group>
  );
}
