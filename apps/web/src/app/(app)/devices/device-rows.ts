// The Devices page's editable rows: a device rule as the admin types it (hosts as one
// comma-separated field, rates as text), and back to the policy's `devices`.

import { formatRate } from "@sluice/policy";

export interface DeviceRow {
  name: string;
  hosts: string;
  upRate: string;
  upCeil: string;
  downRate: string;
  downCeil: string;
  parent: string;
  comment: string;
}

interface Limit {
  rate: number | string;
  ceil?: number | string | undefined;
}

export interface DeviceRuleLike {
  name: string;
  hosts: string[];
  upload?: Limit | undefined;
  download?: Limit | undefined;
  parent?: string | undefined;
  comment?: string | undefined;
}

const text = (v: number | string | undefined) =>
  v === undefined ? "" : typeof v === "number" ? formatRate(v).toLowerCase() : v;

export function toRow(d: DeviceRuleLike): DeviceRow {
  return {
    name: d.name,
    hosts: d.hosts.join(", "),
    upRate: text(d.upload?.rate),
    upCeil: text(d.upload?.ceil),
    downRate: text(d.download?.rate),
    downCeil: text(d.download?.ceil),
    parent: d.parent ?? "",
    comment: d.comment ?? "",
  };
}

const limit = (rate: string, ceil: string) =>
  rate.trim() ? { rate: rate.trim(), ...(ceil.trim() ? { ceil: ceil.trim() } : {}) } : undefined;

export function fromRow(r: DeviceRow) {
  const upload = limit(r.upRate, r.upCeil);
  const download = limit(r.downRate, r.downCeil);
  return {
    name: r.name.trim(),
    hosts: r.hosts
      .split(/[\s,]+/)
      .map((h) => h.trim())
      .filter(Boolean),
    ...(upload ? { upload } : {}),
    ...(download ? { download } : {}),
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.comment.trim() ? { comment: r.comment.trim() } : {}),
  };
}

export const emptyRow = (name = "", hosts = ""): DeviceRow => ({
  name,
  hosts,
  upRate: "",
  upCeil: "",
  downRate: "",
  downCeil: "",
  parent: "",
  comment: "",
});

/** A device name from a lease's host name ("Living-Room TV" → "living-room-tv"). */
export function nameFrom(s: string | null, fallback: string): string {
  const n = (s ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 32);
  return n || fallback;
}
