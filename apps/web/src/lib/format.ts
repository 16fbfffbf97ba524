// How numbers read on the dashboard.

export function formatBps(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return "–";
  const a = Math.abs(bps);
  if (a >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (a >= 1e6) return `${(bps / 1e6).toFixed(a >= 1e8 ? 0 : a >= 1e7 ? 1 : 2)} Mbit/s`;
  if (a >= 1e3) return `${(bps / 1e3).toFixed(a >= 1e5 ? 0 : 1)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function ago(iso: string | number | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return "never";
  return `${formatDuration((now - new Date(iso).getTime()) / 1000)} ago`;
}

/**
 * Twelve colours far apart (Tableau 10 and two more), readable on light and dark. Each kind
 * of name (classes, protocols, apps, categories) gets its own assignment: a name keeps its
 * colour on every chart of the page, and names of one kind get different colours while
 * there are colours left (a name starts at its hash's slot and takes the next free one).
 */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#9c755f",
  "#ff9da7",
  "#17becf",
  "#2f4b7c",
  "#bab0ac",
];
export type ColorKind = "class" | "protocol" | "app" | "category";
const assigned = new Map<string, Map<string, number>>();

export function colorOf(name: string, kind: ColorKind): string {
  const mine = assigned.get(kind) ?? new Map<string, number>();
  assigned.set(kind, mine);
  const hit = mine.get(name);
  if (hit !== undefined) return PALETTE[hit]!;
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const taken = new Set(mine.values());
  let slot = h % PALETTE.length;
  for (let k = 0; k < PALETTE.length && taken.has(slot); k++) slot = (slot + 1) % PALETTE.length;
  mine.set(name, slot);
  return PALETTE[slot]!;
}
