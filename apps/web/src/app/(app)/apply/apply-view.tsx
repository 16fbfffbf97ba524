"use client";
// Apply: what would change (the agent's dry run of the edited policy against what is
// installed: policy changes in words, tc and iptables lines), Apply, Try (reverts by itself
// unless confirmed, with a live countdown), and the history with one-click rollback.

import Link from "next/link";
import { useEffect, useState } from "react";
import {
  Accordion,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  NumberInput,
  Progress,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { formatTime } from "@/lib/format";
import { Empty, ErrorState, Loading } from "@/components/states";
import { DiffBlock } from "@/components/diff-block";
import { ConfirmModal } from "@/components/confirm-modal";
import { issueLine } from "@/lib/issue-words";
import { useCurrentUser } from "@/components/shell";

const STATUS_COLOR: Record<string, string> = {
  applied: "green",
  confirmed: "green",
  trying: "yellow",
  reverted: "orange",
  failed: "red",
  superseded: "gray",
};

function pageOf(path: string): { href: string; label: string } {
  if (path.startsWith("classes")) return { href: "/classes", label: "Classes" };
  if (path.startsWith("rules")) return { href: "/rules", label: "Rules" };
  return { href: "/settings", label: "Settings" };
}

function useNow(every = 250): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [every]);
  return now;
}

function Countdown({
  trying,
  onConfirm,
  confirming,
  onExpired,
}: {
  trying: { entryId: number; until: string };
  onConfirm: () => void;
  confirming: boolean;
  onExpired: () => void;
}) {
  const now = useNow();
  const until = new Date(trying.until).getTime();
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  const [total] = useState(() => Math.max(left, 1));
  useEffect(() => {
    if (left === 0) {
      const t = setTimeout(onExpired, 1200);
      return () => clearTimeout(t);
    }
  }, [left, onExpired]);
  return (
    <Alert color="yellow" title={`Trying entry #${trying.entryId}`} data-testid="try-countdown">
      <Stack gap="xs">
        <Text size="sm">
          {left > 0 ? (
            <>
              The box reverts to the previous policy in <b data-testid="countdown-seconds">{left}</b> s unless
              you confirm. Check that you can still reach what matters (and this page).
            </>
          ) : (
            "Time is up: the agent is reverting…"
          )}
        </Text>
        <Progress value={(left / total) * 100} color="yellow" size="sm" />
        <Group>
          <Button
            color="green"
            onClick={onConfirm}
            loading={confirming}
            disabled={left === 0}
            data-testid="confirm-button"
          >
            Confirm: keep this policy
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

export function ApplyView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const user = useCurrentUser();
  const admin = user.role === "admin";
  const preview = useQuery({ ...trpc.deploy.previewApply.queryOptions(), refetchInterval: 15_000 });
  const history = useQuery({ ...trpc.deploy.listHistory.queryOptions(), refetchInterval: 5_000 });
  const [seconds, setSeconds] = useState<number>(60);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: trpc.deploy.listHistory.queryKey() });
    void qc.invalidateQueries({ queryKey: trpc.deploy.previewApply.queryKey() });
    void qc.invalidateQueries({ queryKey: trpc.agent.getHealth.queryKey() });
  };
  const apply = useMutation(trpc.deploy.applyPolicy.mutationOptions({ onSettled: refresh }));
  const tryIt = useMutation(trpc.deploy.tryPolicy.mutationOptions({ onSettled: refresh }));
  const confirm = useMutation(trpc.deploy.confirmTry.mutationOptions({ onSettled: refresh }));
  const rollback = useMutation(
    trpc.deploy.rollbackPolicy.mutationOptions({
      onSettled: () => {
        refresh();
        void qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() });
      },
    }),
  );
  const editorChanged = () => {
    refresh();
    void qc.invalidateQueries({ queryKey: trpc.policy.getPolicy.queryKey() });
  };
  const load = useMutation(trpc.policy.loadVersion.mutationOptions({ onSettled: editorChanged }));
  const loadInstalled = useMutation(trpc.policy.loadInstalled.mutationOptions({ onSettled: editorChanged }));
  // "Load into editor" and a rollback over unapplied edits ask first
  const [asking, setAsking] = useState<
    { kind: "load"; versionId: number; label: string } | { kind: "rollback"; entryId: number } | null
  >(null);
  const busy = apply.isPending || tryIt.isPending || confirm.isPending || rollback.isPending;
  const lastError =
    apply.error ?? tryIt.error ?? confirm.error ?? rollback.error ?? load.error ?? loadInstalled.error;
  const trying = history.data?.trying ?? null;
  const r = preview.data?.result;
  const noChange = !!preview.data?.nothingToApply;
  // the history's status is read fresh; the preview's may be a few seconds older
  const installed = history.data?.installed ?? preview.data?.installed ?? null;
  // the newest entry was a try that reverted, and the editor still holds what was tried
  const newest = history.data?.rows.find((h) => h.agentEntryId !== null);
  const revertedDraft = !trying && newest?.status === "reverted" && r?.ok && !noChange ? newest : null;

  return (
    <Stack gap="md">
      <Title order={3}>Apply</Title>

      {trying && (
        <Countdown
          trying={trying}
          onConfirm={() => confirm.mutate()}
          confirming={confirm.isPending}
          onExpired={refresh}
        />
      )}
      {lastError && (
        <Alert
          color="red"
          title="The last action failed"
          withCloseButton
          onClose={() => [apply, tryIt, confirm, rollback, load, loadInstalled].forEach((m) => m.reset())}
          data-testid="action-error"
        >
          {lastError.message}
        </Alert>
      )}
      {(apply.isSuccess || rollback.isSuccess || confirm.isSuccess) && !lastError && (
        <Alert
          color="green"
          withCloseButton
          onClose={() => [apply, rollback, confirm].forEach((m) => m.reset())}
          data-testid="action-ok"
        >
          {apply.data && `Applied as entry #${apply.data.entry.id}.`}
          {rollback.data &&
            `Rolled back: entry #${rollback.data.entry.id} is now installed.${rollback.data.draftReplaced ? " The editor now holds its policy." : " The editor still holds your edited policy (below: what applying it would change)."}`}
          {confirm.data && `Confirmed: entry #${confirm.data.entry.id} is now the last good policy.`}
        </Alert>
      )}

      {revertedDraft && admin && (
        <Alert
          color="orange"
          title={`Entry #${revertedDraft.agentEntryId} was reverted`}
          data-testid="draft-differs"
        >
          <Group justify="space-between">
            <Text size="sm">
              The box runs #{installed?.id ?? "?"} again, but the editor still holds the policy you tried:
              Apply would install it again. Keep editing it, or go back to what the box runs.
            </Text>
            <Button
              size="xs"
              variant="light"
              loading={loadInstalled.isPending}
              onClick={() => loadInstalled.mutate()}
              data-testid="load-installed"
            >
              Load the box&apos;s policy (#{installed?.id ?? "?"}) into the editor
            </Button>
          </Group>
        </Alert>
      )}
      {asking && (
        <ConfirmModal
          title={
            asking.kind === "load" ? `Load ${asking.label} into the editor?` : "Roll back over your edits?"
          }
          confirm={asking.kind === "load" ? "Replace the edited policy" : "Roll back"}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            if (asking.kind === "load") load.mutate({ versionId: asking.versionId });
            else rollback.mutate({ agentEntryId: asking.entryId });
            setAsking(null);
          }}
        >
          {asking.kind === "load"
            ? "The edited policy (classes, rules, interfaces) is replaced by this version. Nothing is applied until you apply it."
            : `The edited policy has changes the box does not run. Rolling back to #${asking.entryId} replaces them with that entry's policy.`}
          {!noChange && r?.ok && (
            <List size="sm" mt="xs">
              {r.diff.policy.changes.slice(0, 6).map((c) => (
                <List.Item key={c}>{c}</List.Item>
              ))}
            </List>
          )}
        </ConfirmModal>
      )}

      <Card withBorder padding="sm">
        <Group justify="space-between" mb="xs">
          <Text fw={600}>Edited policy vs. what is installed</Text>
          <Text size="xs" c="dimmed">
            {trying
              ? `last good (restored if the try is not confirmed): #${installed?.id ?? "–"}`
              : installed
                ? `installed: #${installed.id} "${installed.name}" by ${installed.user}, ${formatTime(installed.at)}`
                : preview.data
                  ? "nothing installed yet"
                  : ""}
          </Text>
        </Group>
        {preview.isLoading ? (
          <Loading label="The agent is rendering the policy…" />
        ) : preview.isError ? (
          <ErrorState error={preview.error} retry={() => void preview.refetch()} />
        ) : !r!.ok ? (
          <Alert
            color="red"
            title="The edited policy is not valid: fix it before applying"
            data-testid="preview-invalid"
          >
            <List size="sm">
              {r!.issues.map((i) => (
                <List.Item key={`${i.path}:${i.message}`}>
                  {issueLine(i)}{" "}
                  <Anchor component={Link} href={pageOf(i.path).href} size="sm">
                    ({pageOf(i.path).label})
                  </Anchor>
                </List.Item>
              ))}
            </List>
          </Alert>
        ) : (
          <Stack gap="sm">
            <div data-testid="policy-changes">
              {noChange ? (
                <Text size="sm" c="dimmed">
                  The edited policy is what the box runs: nothing to apply.
                </Text>
              ) : (
                <List size="sm">
                  {r!.diff.policy.changes.map((c) => (
                    <List.Item key={c}>{c}</List.Item>
                  ))}
                </List>
              )}
            </div>
            <Accordion variant="separated" multiple defaultValue={noChange ? [] : ["tc"]}>
              <Accordion.Item value="tc">
                <Accordion.Control>
                  tc changes{" "}
                  <Badge size="xs" variant="light">
                    {r!.diff.tc.length}
                  </Badge>
                </Accordion.Control>
                <Accordion.Panel>
                  <DiffBlock lines={r!.diff.tc} testId="tc-diff" />
                </Accordion.Panel>
              </Accordion.Item>
              <Accordion.Item value="iptables">
                <Accordion.Control>
                  iptables changes{" "}
                  <Badge size="xs" variant="light">
                    {r!.diff.iptables.length}
                  </Badge>
                </Accordion.Control>
                <Accordion.Panel>
                  <DiffBlock lines={r!.diff.iptables} />
                </Accordion.Panel>
              </Accordion.Item>
              <Accordion.Item value="scripts">
                <Accordion.Control>Rendered scripts (tc, iptables, ip6tables)</Accordion.Control>
                <Accordion.Panel>
                  <Stack gap="xs">
                    {r!.header.length > 0 && <Code block>{r!.header.join("\n")}</Code>}
                    {(["tc", "iptables", "ip6tables"] as const).map((k) => (
                      <div key={k}>
                        <Text size="xs" fw={600}>
                          {k}
                        </Text>
                        <Code block style={{ maxHeight: 260, overflow: "auto" }}>
                          {r!.scripts[k] || "(empty)"}
                        </Code>
                      </div>
                    ))}
                  </Stack>
                </Accordion.Panel>
              </Accordion.Item>
            </Accordion>
            {admin ? (
              <Group align="flex-end">
                <Button
                  onClick={() => apply.mutate()}
                  loading={apply.isPending}
                  disabled={busy || !!trying || noChange}
                  data-testid="apply-button"
                >
                  Apply
                </Button>
                <Text c="dimmed" size="sm">
                  or
                </Text>
                <NumberInput
                  label="Try for (seconds)"
                  value={seconds}
                  onChange={(v) => setSeconds(typeof v === "number" ? v : Number(v) || 60)}
                  min={5}
                  max={3600}
                  w={150}
                  data-testid="try-seconds"
                />
                <Button
                  variant="light"
                  color="yellow"
                  onClick={() => tryIt.mutate({ seconds })}
                  loading={tryIt.isPending}
                  disabled={busy || !!trying || noChange || seconds < 5 || seconds > 3600}
                  data-testid="try-button"
                >
                  Try
                </Button>
                <Text size="xs" c="dimmed" maw={300}>
                  Try applies now and reverts by itself after the time unless you confirm: safe for changes
                  that could cut you off.
                </Text>
              </Group>
            ) : (
              <Text size="sm" c="dimmed">
                Viewers cannot apply.
              </Text>
            )}
          </Stack>
        )}
      </Card>

      <Card withBorder padding="sm">
        <Group justify="space-between" mb="xs">
          <Text fw={600}>History</Text>
          {history.data && !history.data.agentReachable && (
            <Badge color="orange" variant="light">
              agent down: versions recorded by the dashboard only
            </Badge>
          )}
        </Group>
        {history.isLoading ? (
          <Loading />
        ) : history.isError ? (
          <ErrorState error={history.error} retry={() => void history.refetch()} />
        ) : !history.data!.rows.length ? (
          <Empty>Nothing applied yet.</Empty>
        ) : (
          <Table fz="sm" striped className="stack-sm" data-testid="history-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>entry</Table.Th>
                <Table.Th>when</Table.Th>
                <Table.Th>who</Table.Th>
                <Table.Th>status</Table.Th>
                <Table.Th>policy and changes</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {history.data!.rows.map((h) => (
                <Table.Tr key={h.key} data-testid={`history-row-${h.agentEntryId ?? `v${h.versionId}`}`}>
                  <Table.Td>
                    {h.agentEntryId !== null ? `#${h.agentEntryId}` : "–"}
                    {h.lastGood && (
                      <Badge size="xs" ml={6} color="green">
                        installed
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{formatTime(h.at)}</Table.Td>
                  <Table.Td>
                    {h.user}
                    {h.source === "agent" && (
                      <Text span size="xs" c="dimmed">
                        {" "}
                        (not from the dashboard)
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Tooltip
                      label={h.error ?? (h.tryUntil ? `try until ${formatTime(h.tryUntil)}` : h.status)}
                      multiline
                      w={320}
                    >
                      <Badge
                        color={STATUS_COLOR[h.status] ?? "gray"}
                        variant="light"
                        data-testid="history-status"
                      >
                        {h.status}
                      </Badge>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td data-label="changes">
                    {h.name ?? "–"}
                    {h.changes.length > 0 && !(h.changes.length === 1 && h.changes[0] === "no change") && (
                      <Text size="xs" c="dimmed" data-testid="history-changes">
                        {h.changes.slice(0, 3).join("; ")}
                        {h.changes.length > 3 ? `; and ${h.changes.length - 3} more` : ""}
                      </Text>
                    )}
                    {h.error && (
                      <Text size="xs" c="red" data-testid="history-error">
                        {h.error}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {admin && (
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        {h.agentEntryId !== null &&
                          !h.lastGood &&
                          ["applied", "confirmed", "superseded", "reverted"].includes(h.status) &&
                          history.data!.agentReachable && (
                            <Button
                              size="compact-xs"
                              variant="light"
                              disabled={busy || !!trying}
                              onClick={() =>
                                r?.ok && !noChange
                                  ? setAsking({ kind: "rollback", entryId: h.agentEntryId! })
                                  : rollback.mutate({ agentEntryId: h.agentEntryId! })
                              }
                              data-testid={`rollback-${h.agentEntryId}`}
                            >
                              Roll back to this
                            </Button>
                          )}
                        {h.versionId !== null && (
                          <Button
                            size="compact-xs"
                            variant="subtle"
                            disabled={load.isPending}
                            onClick={() =>
                              setAsking({
                                kind: "load",
                                versionId: h.versionId!,
                                label: h.agentEntryId !== null ? `entry #${h.agentEntryId}` : "this version",
                              })
                            }
                            data-testid={`load-${h.agentEntryId ?? `v${h.versionId}`}`}
                          >
                            Load into editor
                          </Button>
                        )}
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  );
}
