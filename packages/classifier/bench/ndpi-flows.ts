// Matching nDPI-labelled flows (corpus labels/NAME.json) to Sluice's flow records: by
// transport and unordered endpoint pair, IPv6 addresses compared as addresses (nDPI
// compresses a single zero group to "::" and sometimes prints "::" twice).

import type { FlowRecord } from "../src/index.ts";
import type { NdpiLabel } from "./ndpi-names.ts";

export interface FlowIndex {
  /** By "l4|endpointA|endpointB" (endpoints canonical and sorted); the first flow of a pair wins. */
  byPair: Map<string, FlowRecord>;
  all: FlowRecord[];
}

export function indexFlows(flows: FlowRecord[]): FlowIndex {
  const byPair = new Map<string, FlowRecord>();
  for (const f of flows) {
    const key = pairKey(f.l4, canonicalEndpoint(f.client)!, canonicalEndpoint(f.server)!);
    if (!byPair.has(key)) byPair.set(key, f);
  }
  return { byPair, all: flows };
}

function pairKey(l4: string, x: string, y: string): string {
  return x < y ? `${l4}|${x}|${y}` : `${l4}|${y}|${x}`;
}

/**
 * "ip:port" or "[ipv6]:port" with the IPv6 address fully expanded, or null when the address
 * is ambiguous. nDPI compresses a single zero group to "::" (RFC 5952 says ":0:") and
 * sometimes prints "::" twice in one address.
 */
function canonicalEndpoint(ep: string): string | null {
  const m = /^\[(.*)\]:(\d+)$/.exec(ep);
  if (!m) return ep;
  const groups = expandIpv6(m[1]!);
  return groups ? `[${groups.join(":")}]:${m[2]}` : null;
}

function expandIpv6(addr: string): string[] | null {
  const parts = addr.split("::");
  const hex = (p: string) => (p === "" ? [] : p.split(":").map((g) => parseInt(g, 16).toString(16)));
  if (parts.length === 1) return hex(addr);
  if (parts.length !== 2) return null;
  const head = hex(parts[0]!);
  const tail = hex(parts[1]!);
  return [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
}

/** Whether an nDPI address with several "::" could be the fully expanded Sluice address. */
function ambiguousIpv6Matches(ndpi: string, groups: string[]): boolean {
  const parts = ndpi
    .split("::")
    .map((p) => (p === "" ? [] : p.split(":").map((g) => parseInt(g, 16).toString(16))));
  const fit = (pi: number, at: number): boolean => {
    const part = parts[pi]!;
    if (at + part.length > groups.length) return false;
    if (part.some((g, i) => groups[at + i] !== g)) return false;
    const end = at + part.length;
    if (pi === parts.length - 1) return end === groups.length;
    // Each "::" stands for at least one zero group.
    for (let next = end + 1; next <= groups.length; next++) {
      if (groups[next - 1] !== "0") break;
      if (fit(pi + 1, next)) return true;
    }
    return false;
  };
  return fit(0, 0);
}

function endpointMatches(ndpi: string, sluice: string): boolean {
  const a = canonicalEndpoint(ndpi);
  const b = canonicalEndpoint(sluice)!;
  if (a !== null) return a === b;
  const m = /^\[(.*)\]:(\d+)$/.exec(ndpi)!;
  const s = /^\[(.*)\]:(\d+)$/.exec(b);
  return s !== null && s[2] === m[2] && ambiguousIpv6Matches(m[1]!, s[1]!.split(":"));
}

export function findFlow(flows: FlowIndex, label: NdpiLabel): FlowRecord | undefined {
  const a = canonicalEndpoint(label.a);
  const b = canonicalEndpoint(label.b);
  if (a !== null && b !== null) return flows.byPair.get(pairKey(label.l4, a, b));
  return flows.all.find(
    (f) =>
      f.l4 === label.l4 &&
      ((endpointMatches(label.a, f.client) && endpointMatches(label.b, f.server)) ||
        (endpointMatches(label.a, f.server) && endpointMatches(label.b, f.client))),
  );
}
