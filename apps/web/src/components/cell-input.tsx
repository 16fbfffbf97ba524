"use client";
// A small text field in a table cell with its issue under it: the editors' rows are made of them.

import { Table, TextInput } from "@mantine/core";

export function CellInput(props: {
  value: string;
  onChange: (value: string) => void;
  /** The issue at this field's path. */
  error?: string | undefined;
  disabled: boolean;
  /** The accessible name ("rate of class web"). */
  label: string;
  testId?: string;
  placeholder?: string;
}) {
  return (
    <Table.Td>
      <TextInput
        size="xs"
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        error={props.error}
        disabled={props.disabled}
        aria-label={props.label}
        data-testid={props.testId}
      />
    </Table.Td>
  );
}
