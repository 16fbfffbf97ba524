"use client";
// The bottom of every editor: unsaved-changes state, Save and Discard, the problems that
// block saving, and a pointer to the Apply page after a save.

import Link from "next/link";
import { Alert, Anchor, Button, Card, Group, List, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { PolicyIssue } from "@sluice/policy";
import { useTRPC } from "@/lib/trpc";
import { issueLine, type IssueContext } from "@/lib/issue-words";
import type { PolicyDraftEditor } from "@/lib/policy-draft";

/** Whether the saved policy is what the box runs (the agent's dry run), so "No changes" never hides a difference. */
function BoxState() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.deploy.previewApply.queryOptions(), refetchInterval: 15_000 });
  if (!q.data?.result.ok) return null;
  const id = q.data.installed?.id;
  return q.data.nothingToApply ? (
    <Text size="sm" c="dimmed" data-testid="box-state">
      The box runs this policy{id ? ` (#${id})` : ""}.
    </Text>
  ) : (
    <Text size="sm" c="orange" data-testid="box-state">
      Saved, not applied: the box runs {id ? `#${id}` : "another policy"}.{" "}
      <Anchor component={Link} href="/apply" size="sm">
        Review and apply →
      </Anchor>
    </Text>
  );
}

function SaveBar(props: {
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
  /** Names for the issues' paths (class names). */
  context?: IssueContext;
}) {
  const { dirty, issues, otherIssues, saving, saved, error, readOnly } = props;
  return (
    <Card withBorder padding="sm" data-testid="save-bar">
      {otherIssues.length > 0 && (
        <Alert color="red" mb="sm" title="Problems elsewhere in the policy">
          <List size="sm">
            {otherIssues.map((i) => (
              <List.Item key={`${i.path}:${i.message}`}>{issueLine(i, props.context)}</List.Item>
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
                  ? "Saved."
                  : "No unsaved changes"}
        </Text>
        {!dirty && !issues.length && <BoxState />}
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

/** The SaveBar of a policy editor (usePolicyDraft); `shows(path)`: the page shows that issue beside its field. */
export function DraftSaveBar({
  ed,
  shows,
  readOnly,
}: {
  ed: PolicyDraftEditor;
  shows: (path: string) => boolean;
  readOnly: boolean;
}) {
  return (
    <SaveBar
      dirty={ed.dirty}
      issues={ed.issues}
      otherIssues={ed.issues.filter((x) => !shows(x.path))}
      saving={ed.saving.isPending}
      saved={ed.saving.isSuccess}
      error={ed.saving.error}
      readOnly={readOnly}
      onSave={ed.save}
      onReset={ed.reset}
      context={ed.draft ?? undefined}
    />
  );
}
