// Where the agent serves Prometheus/OpenMetrics metrics (policy.metrics): off by default, and
// when on, only on loopback or an address of the LAN interface, never the WAN or a wildcard.
// The schema checks the address on its own; metricsListenIssues checks it against the box's
// LAN addresses (the agent's, reported in its status), as kernel-fit.ts does for qdiscs.
// Pure: runs in the browser too (WHATWG URL parses and canonicalises the address).

import type { PolicyIssue } from "./validate.ts";

/** Default port: not one of the well-known exporters' (node_exporter 9100, …). */
export const DEFAULT_METRICS_PORT = 9712;

/** The address in canonical form ("::1" for "0:0::1"), or null if it is not an IP address. */
export function canonicalAddress(a: string): string | null {
  if (!/^[0-9a-fA-F.:]+$/.test(a)) return null;
  const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(a);
  if (!v4 && !a.includes(":")) return null;
  if (v4 && a.split(".").some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith("0")))) return null;
  try {
    const host = new URL(`http://${v4 ? a : `[${a}]`}/`).hostname;
    return v4 ? host : host.slice(1, -1);
  } catch {
    return null;
  }
}

export const isLoopback = (canonical: string): boolean => canonical === "::1" || canonical.startsWith("127.");

/** Addresses that listen on every interface, or are not a host's own unicast address. */
export function notListenable(canonical: string): string | null {
  if (canonical === "0.0.0.0" || canonical === "::")
    return "listens on every interface, the WAN's too: give the LAN address or 127.0.0.1";
  const first = Number(canonical.split(".")[0]);
  if (!canonical.includes(":") && (first >= 224 || canonical === "255.255.255.255"))
    return "is a multicast or broadcast address, not one of the box's own";
  if (/^ff/i.test(canonical)) return "is a multicast address, not one of the box's own";
  return null;
}

interface MetricsLike {
  enabled?: unknown;
  address?: unknown;
}

/**
 * With metrics on: is the address loopback or one of the LAN interface's? `lanAddresses`
 * null: the box's addresses are not known (no agent answer yet), nothing to check.
 */
export function metricsListenIssues(
  p: { metrics?: MetricsLike | undefined; interfaces?: { lan?: { device?: unknown } } },
  lanAddresses: readonly string[] | null,
): PolicyIssue[] {
  const m = p.metrics;
  if (!m || m.enabled !== true || typeof m.address !== "string" || lanAddresses === null) return [];
  const a = canonicalAddress(m.address);
  if (a === null || isLoopback(a)) return [];
  const own = lanAddresses.map((x) => canonicalAddress(x.split("%")[0]!) ?? x);
  if (own.includes(a)) return [];
  const lan = typeof p.interfaces?.lan?.device === "string" ? p.interfaces.lan.device : "the LAN interface";
  return [
    {
      path: "metrics.address",
      message: `${m.address} is not loopback nor an address of ${lan} (${own.length ? own.join(", ") : "it has none"}): metrics are served on the LAN or loopback only`,
    },
  ];
}
