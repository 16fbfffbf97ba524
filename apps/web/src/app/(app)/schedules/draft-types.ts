// The schedule windows and quotas as the editor holds them: rates and sizes as typed
// (the schema parses "2mbit" and "1GB" on save), everything else as the policy has it.

import type { Draft } from "@/lib/policy-draft";

export type Direction = "upload" | "download";

export interface ClassChangeDraft {
  class: string;
  direction?: Direction;
  rate?: string | number;
  ceil?: string | number;
  priority?: number;
}

export interface WindowDraft {
  name: string;
  days: string[];
  start: string;
  end: string;
  classes: ClassChangeDraft[];
  rules: unknown[];
  description?: string;
}

export interface QuotaDraft {
  name: string;
  device?: string;
  address?: string;
  class?: string;
  allowance: string | number;
  period: "day" | "week" | "month";
  demoteTo?: string;
  description?: string;
}

export const windowsOf = (d: Draft) => (d.rest.schedules ?? []) as unknown as WindowDraft[];
export const quotasOf = (d: Draft) => (d.rest.quotas ?? []) as unknown as QuotaDraft[];

export function withWindows(d: Draft, w: WindowDraft[]): Draft {
  return { ...d, rest: { ...d.rest, schedules: w as never } };
}
export function withQuotas(d: Draft, q: QuotaDraft[]): Draft {
  return { ...d, rest: { ...d.rest, quotas: q as never } };
}

/** Every class name of either direction (what windows and quotas may name). */
export const classNames = (d: Draft) => [
  ...new Set([...d.classes.upload, ...d.classes.download].map((c) => c.name).filter(Boolean)),
];
