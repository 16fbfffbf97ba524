"use client";
// The hostname value of a rule: a host name or glob, checked as it is typed (isHostnameGlob,
// the same test the policy schema's validation applies), with what the glob matches.

import { Group, Text, TextInput } from "@mantine/core";
import { isHostnameGlob } from "@sluice/policy";

/** What a glob covers, in words, for the hint next to the field. */
function explain(glob: string): string {
  if (glob.startsWith("*.")) return `${glob.slice(2)} and every subdomain`;
  if (glob.includes("*")) return "* stands for any part of one label";
  return "exactly this name";
}

export function HostnameInput(props: {
  value: string;
  onChange: (v: string) => void;
  error: string | undefined;
  disabled: boolean;
  label: string;
}) {
  const v = props.value.trim().toLowerCase();
  const bad =
    v && !isHostnameGlob(v)
      ? "not a host name or glob (letters, digits, - and _, labels joined by dots; * within a label, *. in front)"
      : undefined;
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <TextInput
        size="xs"
        w={210}
        style={{ flexShrink: 0 }}
        value={props.value}
        placeholder="*.example.com"
        onChange={(e) => props.onChange(e.currentTarget.value.toLowerCase())}
        error={props.error ?? bad}
        disabled={props.disabled}
        aria-label={props.label}
        classNames={{ input: "mono" }}
      />
      {v && !bad && (
        <Text size="xs" c="dimmed">
          {explain(v)}
        </Text>
      )}
    </Group>
  );
}
