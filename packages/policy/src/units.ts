// Rates as admins write them ("20mbit", "512kbit", "1gbit", or a number of bit/s), the way
// tc reads them: decimal units, bits per second.

const UNITS: Record<string, number> = {
  bit: 1,
  bps: 8,
  kbit: 1e3,
  kbps: 8e3,
  mbit: 1e6,
  mbps: 8e6,
  gbit: 1e9,
  gbps: 8e9,
  tbit: 1e12,
};

/** Parses a rate into bits per second, or returns null if it is not one. */
export function parseRate(v: string | number): number | null {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? Math.round(v) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  if (!m) return null;
  const unit = (m[2] || "bit").toLowerCase();
  const mult = UNITS[unit];
  if (mult === undefined) return null;
  const bps = Math.round(Number(m[1]) * mult);
  // "1e400" digits overflow to Infinity: not a rate
  return Number.isFinite(bps) ? bps : null;
}

/** Formats bits per second the way an admin reads them ("20Mbit", "512Kbit"). */
export function formatRate(bps: number): string {
  if (bps >= 1e9 && bps % 1e7 === 0) return `${+(bps / 1e9).toFixed(2)}Gbit`;
  if (bps >= 1e6 && bps % 1e4 === 0) return `${+(bps / 1e6).toFixed(2)}Mbit`;
  if (bps >= 1e3 && bps % 10 === 0) return `${+(bps / 1e3).toFixed(2)}Kbit`;
  return `${bps}bit`;
}
