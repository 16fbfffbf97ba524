"use client";
// The bottom of every editor: unsaved-changes state, Save and Discard, the problems that
// block saving, and a pointer to the Apply page after a save.

import Link from "next/link";
import { Alert, Anchor, Button, Card, Group, List, Text } from "@mantine/core";
import type { PolicyIssue } from "@sluice/policy";

export function SaveBar(props: {
  dirty: boolean;
  issues: PolicyIssue[];
  /** Issues this page does not show next to a field. */
  otherIssues: PolicyIssue[];
  saving: boolean;
  saved: boolean;
  error: { message: string } | null;
  readOnly: boolean;
  onSave: () => void;
  onReset: () => void;
}) {
  const { dirty, issues, otherIssues, saving, saved, error, readOnly } = props;
  return (
    <Card withBorder padding="sm" data-testid="save-bar">
      {otherIssues.length > 0 && (
        <Alert color="red" mb="sm" title="Problems elsewhere in the policy">
          <List size="sm">
            {otherIssues.map((i) => (
              <List.Item key={`${i.path}:${i.message}`}>
                <code>{i.path || "(policy)"}</code>: {i.message}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
      {error && !issues.length && (
        <Alert color="red" mb="sm">
          {error.message}
        </Alert>
      )}
      <Group justify="space-between">
        <Text size="sm" c={issues.length ? "red" : "dimmed"} data-testid="save-status">
          {readOnly
            ? "Read-only: viewers cannot change the policy."
            : issues.length
              ? `${issues.length} problem${issues.length > 1 ? "s" : ""} to fix before saving`
              : dirty
                ? "Unsaved changes"
                : saved
                  ? "Saved. Nothing is applied to the box until you apply it."
                  : "No changes"}
          {saved && !dirty && !readOnly && (
            <>
              {" "}
              <Anchor component={Link} href="/apply" size="sm">
                Review and apply →
              </Anchor>
            </>
          )}
        </Text>
        {!readOnly && (
          <Group gap="xs">
            <Button variant="default" disabled={!dirty || saving} onClick={props.onReset}>
              Discard changes
            </Button>
            <Button
              onClick={props.onSave}
              disabled={!dirty || issues.length > 0}
              loading={saving}
              data-testid="save"
            >
              Save
            </Button>
          </Group>
        )}
      </Group>
    </Card>
  );
}
