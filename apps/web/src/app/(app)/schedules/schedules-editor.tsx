"use client";
// Schedules (time windows in which class limits differ) and quotas (data allowances with a
// demotion class), edited in the policy draft and validated as typed, like the other pages.
// What is in force now and each quota's use are on the Overview.

import { Alert, Button, Card, Group, Select, Stack, Text, Title } from "@mantine/core";
import { usePolicyDraft, issueAt } from "@/lib/policy-draft";
import { issueLine } from "@/lib/issue-words";
import { ErrorState, Loading } from "@/components/states";
import { useCurrentUser } from "@/components/shell";
import { WindowCard } from "./window-card";
import { QuotaRow } from "./quota-row";
import { classNames, quotasOf, windowsOf, withQuotas, withWindows } from "./draft-types";

const ZONES = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];

export function SchedulesEditor() {
  const user = useCurrentUser();
  const readOnly = user.role !== "admin";
  const ed = usePolicyDraft("schedules");
  if (ed.query.isLoading || (!ed.draft && !ed.query.isError)) return <Loading />;
  if (ed.query.isError) return <ErrorState error={ed.query.error} retry={() => void ed.query.refetch()} />;
  const d = ed.draft!;
  const windows = windowsOf(d);
  const quotas = quotasOf(d);
  const classes = classNames(d);
  const devices = (d.rest.devices ?? []).map((x) => x.name);
  const mine = ed.issues.filter(
    (i) => i.path.startsWith("schedules") || i.path.startsWith("quotas") || i.path === "timeZone",
  );
  const others = ed.issues.filter((i) => !mine.includes(i));
  const zone = d.rest.timeZone ?? "UTC";
  return (
    <Stack>
      <Title order={3}>Schedules and quotas</Title>
      <Card withBorder padding="sm">
        <Text size="sm" c="dimmed" mb="xs">
          Windows follow the box&apos;s wall clock in this time zone (daylight saving included); quota periods
          start at its midnight (weeks on Monday, months on the 1st).
        </Text>
        <Select
          label="Time zone"
          searchable
          data={ZONES.includes(zone) ? ZONES : [zone, ...ZONES]}
          value={zone}
          onChange={(v) => v && ed.setDraft({ ...d, rest: { ...d.rest, timeZone: v } })}
          error={issueAt(ed.issues, "timeZone")}
          disabled={readOnly}
          allowDeselect={false}
          w={280}
          data-testid="time-zone"
        />
      </Card>
      <Title order={4}>Windows</Title>
      <Text size="sm" c="dimmed">
        While a window is in force its class limits replace the class&apos;s own; the agent switches at each
        start and end through a normal apply, recorded in the history. A window ending at or before its start
        ends the next day; 00:00–24:00 is a whole day.
      </Text>
      {windows.map((w, i) => (
        <WindowCard
          key={i}
          w={w}
          index={i}
          classes={classes}
          issues={ed.issues}
          readOnly={readOnly}
          onChange={(nw) =>
            ed.setDraft(
              withWindows(
                d,
                windows.map((x, k) => (k === i ? nw : x)),
              ),
            )
          }
          onRemove={() =>
            ed.setDraft(
              withWindows(
                d,
                windows.filter((_, k) => k !== i),
              ),
            )
          }
        />
      ))}
      {!readOnly && (
        <Button
          variant="light"
          w="fit-content"
          onClick={() =>
            ed.setDraft(
              withWindows(d, [
                ...windows,
                {
                  name: `window${windows.length + 1}`,
                  days: ["mon", "tue", "wed", "thu", "fri"],
                  start: "08:00",
                  end: "18:00",
                  classes: [],
                  rules: [],
                },
              ]),
            )
          }
          data-testid="add-window"
        >
          Add a window
        </Button>
      )}
      <Title order={4}>Quotas</Title>
      <Text size="sm" c="dimmed">
        Past its allowance, a device&apos;s, an address&apos;s or a class&apos;s traffic goes to the demotion
        class until the period ends. The kernel counts; the count survives restarts.
      </Text>
      <Card withBorder padding="sm">
        <Stack gap="sm">
          {quotas.length === 0 && (
            <Text size="sm" c="dimmed">
              No quotas.
            </Text>
          )}
          {quotas.map((q, i) => (
            <QuotaRow
              key={i}
              q={q}
              index={i}
              classes={classes}
              devices={devices}
              issues={ed.issues}
              readOnly={readOnly}
              onChange={(nq) =>
                ed.setDraft(
                  withQuotas(
                    d,
                    quotas.map((x, k) => (k === i ? nq : x)),
                  ),
                )
              }
              onRemove={() =>
                ed.setDraft(
                  withQuotas(
                    d,
                    quotas.filter((_, k) => k !== i),
                  ),
                )
              }
            />
          ))}
          {!readOnly && (
            <Button
              size="xs"
              variant="light"
              w="fit-content"
              onClick={() =>
                ed.setDraft(
                  withQuotas(d, [
                    ...quotas,
                    { name: `quota${quotas.length + 1}`, address: "", allowance: "1GB", period: "day" },
                  ]),
                )
              }
              data-testid="add-quota"
            >
              Add a quota
            </Button>
          )}
        </Stack>
      </Card>
      {mine.length > 0 && (
        <Alert color="red" title="Not saved until these are fixed" data-testid="schedule-issues">
          {mine.slice(0, 8).map((i) => (
            <Text size="sm" key={`${i.path}${i.message}`}>
              {issueLine(i, d)}
            </Text>
          ))}
        </Alert>
      )}
      {others.length > 0 && (
        <Alert color="orange" title="The rest of the policy has problems too">
          {others.slice(0, 4).map((i) => (
            <Text size="sm" key={`${i.path}${i.message}`}>
              {issueLine(i, d)}
            </Text>
          ))}
        </Alert>
      )}
      {!readOnly && (
        <Group>
          <Button
            disabled={!ed.dirty || ed.issues.length > 0}
            loading={ed.saving.isPending}
            onClick={() => ed.save()}
            data-testid="save-schedules"
          >
            Save
          </Button>
          <Button variant="default" disabled={!ed.dirty} onClick={ed.reset}>
            Discard
          </Button>
          {ed.saving.isSuccess && !ed.dirty && (
            <Text size="sm" c="dimmed">
              Saved; apply it on the Apply page.
            </Text>
          )}
        </Group>
      )}
    </Stack>
  );
}
