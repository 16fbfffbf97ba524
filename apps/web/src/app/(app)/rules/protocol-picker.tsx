"use client";
// The protocol value of a rule: a searchable select over the agent's pattern catalogue (name,
// aliases, title, groups) that shows each pattern's metadata; `unset` and `unknown` are the
// two special classifications, explained on the page.

import { useMemo } from "react";
import { Badge, Group, Select, Stack, Text, type ComboboxItem, type OptionsFilter } from "@mantine/core";
import type { RouterOutputs } from "@sluice/api/client";
import { QualityBadge } from "@/components/quality";

export type Protocol = RouterOutputs["protocols"]["listProtocols"]["protocols"][number];

export const SPECIAL: Record<string, { title: string; explain: string }> = {
  unset: {
    title: "not classified (yet)",
    explain:
      "Connections the classifier has not decided: still inside the inspection window, or seen while the agent was down (queue bypass lets them through unclassified).",
  },
  unknown: {
    title: "inspected, no pattern matched",
    explain:
      "Connections whose first packets (the inspection window) matched no pattern. Without a rule they go to the default class.",
  },
};

export function ProtocolInfo({ p, name }: { p: Protocol | undefined; name: string }) {
  if (SPECIAL[name])
    return (
      <Text size="xs" c="dimmed">
        <Badge size="xs" color="grape" variant="light" mr={4}>
          special
        </Badge>
        {SPECIAL[name].title}
      </Text>
    );
  if (!p)
    return name ? (
      <Text size="xs" c="red">
        not in the agent&apos;s pattern set
      </Text>
    ) : null;
  return (
    <Group gap={4} wrap="wrap">
      <Text size="xs" c="dimmed" lineClamp={1} maw={220}>
        {p.title ?? p.name}
      </Text>
      <QualityBadge quality={p.quality} />
      {p.groups.slice(0, 2).map((g) => (
        <Badge key={g} size="xs" variant="outline" color="gray">
          {g}
        </Badge>
      ))}
      {(p.overmatch || p.undermatch) && (
        <Badge size="xs" color="orange" variant="outline">
          {p.overmatch ? "overmatches" : "undermatches"}
        </Badge>
      )}
    </Group>
  );
}

/** Protocols by name and alias. */
export function useProtocolIndex(protocols: readonly Protocol[]): Map<string, Protocol> {
  return useMemo(() => {
    const m = new Map<string, Protocol>();
    for (const p of protocols) {
      m.set(p.name, p);
      for (const a of p.aliases) if (!m.has(a)) m.set(a, p);
    }
    return m;
  }, [protocols]);
}

export function ProtocolPicker(props: {
  value: string;
  onChange: (v: string) => void;
  protocols: readonly Protocol[];
  byName: Map<string, Protocol>;
  error: string | undefined;
  disabled: boolean;
  label: string;
}) {
  const { protocols, byName } = props;
  const options = useMemo(
    () => [
      { group: "special", items: Object.keys(SPECIAL).map((n) => ({ value: n, label: n })) },
      { group: "protocols", items: protocols.map((p) => ({ value: p.name, label: p.name })) },
    ],
    [protocols],
  );
  const filter: OptionsFilter = ({ options: opts, search: s }) => {
    const words = s.toLowerCase().split(/\s+/).filter(Boolean);
    const match = (o: ComboboxItem) => {
      const p = byName.get(o.value);
      const hay = [
        o.value,
        p?.title ?? "",
        ...(p?.aliases ?? []),
        ...(p?.groups ?? []),
        SPECIAL[o.value]?.title ?? "",
      ]
        .join(" ")
        .toLowerCase();
      return words.every((w) => hay.includes(w));
    };
    return opts
      .map((g) => ("group" in g ? { ...g, items: g.items.filter(match) } : g))
      .filter((g) => ("group" in g ? g.items.length > 0 : match(g as ComboboxItem)));
  };
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Select
        size="xs"
        w={170}
        style={{ flexShrink: 0 }}
        searchable
        value={props.value || null}
        onChange={(v) => v && props.onChange(v)}
        data={options}
        filter={filter}
        limit={60}
        placeholder="pick a protocol"
        nothingFoundMessage="no such protocol"
        error={props.error}
        disabled={props.disabled}
        allowDeselect={false}
        renderOption={({ option }) => (
          <Stack gap={0}>
            <Text size="sm">{option.value}</Text>
            <ProtocolInfo p={byName.get(option.value)} name={option.value} />
          </Stack>
        )}
        comboboxProps={{ width: 360, position: "bottom-start" }}
        aria-label={props.label}
      />
      <ProtocolInfo p={byName.get(props.value)} name={props.value} />
    </Group>
  );
}
