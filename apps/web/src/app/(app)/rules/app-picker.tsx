"use client";
// The application and category values of a rule, from the agent's catalogue: apps grouped
// by category (title, with the name the policy stores), searchable by title, name and
// category; categories with their title.

import { useMemo } from "react";
import { Group, Select, Stack, Text, type ComboboxItem, type OptionsFilter } from "@mantine/core";
import type { RouterOutputs } from "@sluice/api/client";

export type AppList = RouterOutputs["protocols"]["listApps"];

const common = (label: string, error: string | undefined, disabled: boolean) => ({
  size: "xs" as const,
  w: 210,
  style: { flexShrink: 0 },
  searchable: true,
  limit: 80,
  error,
  disabled,
  allowDeselect: false,
  comboboxProps: { width: 340, position: "bottom-start" as const },
  "aria-label": label,
});

function Missing({ what, list }: { what: string; list: AppList | undefined }) {
  return (
    <Text size="xs" c="red">
      {list?.apps.length
        ? `not a catalogue ${what}`
        : `catalogue unavailable${list?.error ? `: ${list.error}` : ""}`}
    </Text>
  );
}

export function AppPicker(props: {
  value: string;
  onChange: (v: string) => void;
  list: AppList | undefined;
  error: string | undefined;
  disabled: boolean;
  label: string;
}) {
  const { list } = props;
  const byName = useMemo(() => new Map((list?.apps ?? []).map((a) => [a.name, a])), [list]);
  const catTitle = useMemo(() => new Map((list?.categories ?? []).map((c) => [c.name, c.title])), [list]);
  const options = useMemo(
    () =>
      (list?.categories ?? [])
        .map((c) => ({
          group: c.title,
          items: (list?.apps ?? [])
            .filter((a) => a.category === c.name)
            .map((a) => ({ value: a.name, label: a.title })),
        }))
        .filter((g) => g.items.length),
    [list],
  );
  const filter: OptionsFilter = ({ options: opts, search }) => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    const match = (o: ComboboxItem) => {
      const a = byName.get(o.value);
      const hay =
        `${o.value} ${o.label} ${a?.category ?? ""} ${catTitle.get(a?.category ?? "") ?? ""}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    };
    return opts
      .map((g) => ("group" in g ? { ...g, items: g.items.filter(match) } : g))
      .filter((g) => ("group" in g ? g.items.length > 0 : match(g as ComboboxItem)));
  };
  const app = byName.get(props.value);
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Select
        {...common(props.label, props.error, props.disabled)}
        value={props.value || null}
        onChange={(v) => v && props.onChange(v)}
        data={options}
        filter={filter}
        placeholder="pick an application"
        nothingFoundMessage={list?.apps.length ? "no such application" : "the catalogue is not available"}
        renderOption={({ option }) => (
          <Stack gap={0}>
            <Text size="sm">{option.label}</Text>
            <Text size="xs" c="dimmed" className="mono">
              {option.value}
            </Text>
          </Stack>
        )}
      />
      {app ? (
        <Text size="xs" c="dimmed">
          <span className="mono">{app.name}</span> · {catTitle.get(app.category) ?? app.category}
        </Text>
      ) : (
        props.value && <Missing what="application" list={list} />
      )}
    </Group>
  );
}

export function CategoryPicker(props: {
  value: string;
  onChange: (v: string) => void;
  list: AppList | undefined;
  error: string | undefined;
  disabled: boolean;
  label: string;
}) {
  const { list } = props;
  const counts = useMemo(() => {
    const m = new Map<string, number>();
    for (const a of list?.apps ?? []) m.set(a.category, (m.get(a.category) ?? 0) + 1);
    return m;
  }, [list]);
  const known = list?.categories.some((c) => c.name === props.value);
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Select
        {...common(props.label, props.error, props.disabled)}
        value={props.value || null}
        onChange={(v) => v && props.onChange(v)}
        data={(list?.categories ?? []).map((c) => ({ value: c.name, label: c.title }))}
        placeholder="pick a category"
        nothingFoundMessage={list?.categories.length ? "no such category" : "the catalogue is not available"}
        renderOption={({ option }) => (
          <Stack gap={0}>
            <Text size="sm">{option.label}</Text>
            <Text size="xs" c="dimmed">
              <span className="mono">{option.value}</span> · {counts.get(option.value) ?? 0} apps
            </Text>
          </Stack>
        )}
      />
      {known ? (
        <Text size="xs" c="dimmed">
          <span className="mono">{props.value}</span> · {counts.get(props.value) ?? 0} apps
        </Text>
      ) : (
        props.value && <Missing what="category" list={list} />
      )}
    </Group>
  );
}
