"use client";
// A rule's target: first its kind (protocol, application, category or hostname), then its
// value with the picker that fits the kind. Changing the kind clears the value.

import { Group, Select } from "@mantine/core";
import type { RuleTargetKind } from "@sluice/policy";
import { issueAt, type DraftRule } from "@/lib/policy-draft";
import type { PolicyIssue } from "@sluice/policy";
import { ProtocolPicker, type Protocol } from "./protocol-picker";
import { AppPicker, CategoryPicker, type AppList } from "./app-picker";
import { HostnameInput } from "./hostname-input";

export const KIND_LABELS: Record<RuleTargetKind, string> = {
  protocol: "Protocol",
  app: "Application",
  category: "Category",
  hostname: "Hostname",
};

export function RuleTarget(props: {
  rule: DraftRule;
  index: number;
  onChange: (patch: Partial<DraftRule>) => void;
  issues: PolicyIssue[];
  protocols: readonly Protocol[];
  protocolIndex: Map<string, Protocol>;
  apps: AppList | undefined;
  disabled: boolean;
}) {
  const { rule: r, index: i } = props;
  const n = i + 1;
  const at = `rules[${i}]`;
  // "exactly one target" issues sit on the rule itself
  const error =
    [issueAt(props.issues, `${at}.${r.kind}`), issueAt(props.issues, at)].filter(Boolean).join("; ") ||
    undefined;
  const common = {
    value: r.value,
    onChange: (value: string) => props.onChange({ value }),
    error,
    disabled: props.disabled,
  };
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Select
        size="xs"
        w={120}
        style={{ flexShrink: 0 }}
        value={r.kind}
        onChange={(v) => v && v !== r.kind && props.onChange({ kind: v as RuleTargetKind, value: "" })}
        data={Object.entries(KIND_LABELS).map(([value, label]) => ({ value, label }))}
        allowDeselect={false}
        disabled={props.disabled}
        aria-label={`target of rule ${n}`}
      />
      {r.kind === "protocol" ? (
        <ProtocolPicker
          {...common}
          protocols={props.protocols}
          byName={props.protocolIndex}
          label={`protocol of rule ${n}`}
        />
      ) : r.kind === "app" ? (
        <AppPicker {...common} list={props.apps} label={`application of rule ${n}`} />
      ) : r.kind === "category" ? (
        <CategoryPicker {...common} list={props.apps} label={`category of rule ${n}`} />
      ) : (
        <HostnameInput {...common} label={`hostname of rule ${n}`} />
      )}
    </Group>
  );
}
