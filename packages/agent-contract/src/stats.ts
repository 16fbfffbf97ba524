// GET /v1/stats (latest sample and the recent ring), GET /v1/stats/stream (the same samples
// as Server-Sent Events, one a second) and GET /v1/flows (live connections, decided flows).

import { z } from "zod";
import { Direction } from "./status.ts";

export const ClassSample = z.object({
  device: z.string(),
  direction: Direction,
  classid: z.string(),
  name: z.string(),
  leaf: z.boolean(),
  bytes: z.number(),
  packets: z.number(),
  drops: z.number(),
  overlimits: z.number(),
  backlogBytes: z.number(),
  backlogPackets: z.number(),
  rateBps: z.number(),
  rate: z.number(),
  ceil: z.number(),
});
export type ClassSample = z.infer<typeof ClassSample>;

export const ProtocolSample = z.object({
  protocol: z.string(),
  bytes: z.number(),
  packets: z.number(),
  rateBps: z.number(),
  connections: z.number(),
});
export type ProtocolSample = z.infer<typeof ProtocolSample>;

export const AppSample = z.object({
  app: z.string(),
  title: z.string(),
  category: z.string(),
  bytes: z.number(),
  packets: z.number(),
  rateBps: z.number(),
  connections: z.number(),
});
export type AppSample = z.infer<typeof AppSample>;

export const CategorySample = z.object({
  category: z.string(),
  title: z.string(),
  bytes: z.number(),
  rateBps: z.number(),
  connections: z.number(),
});
export type CategorySample = z.infer<typeof CategorySample>;

export const ConnectionSample = z.object({
  l4: z.string(),
  /** "ip:port" / "[ipv6]:port" of the side that opened the connection. */
  client: z.string(),
  server: z.string(),
  protocol: z.string(),
  /** The catalogue application and category (the mark's app field), or null. */
  app: z.string().nullable().optional(),
  category: z.string().nullable().optional(),
  /** The server's name, when the data plane saw it (SNI, Host, DNS). */
  hostname: z.string().nullable().optional(),
  /** The client device's name (DHCP lease or reverse DNS), when known. */
  clientName: z.string().nullable().optional(),
  mark: z.number(),
  bytes: z.number(),
  rateBps: z.number(),
  state: z.string().nullable(),
});
export type ConnectionSample = z.infer<typeof ConnectionSample>;

export const HostSample = z.object({
  host: z.string(),
  /** The device's name (DHCP lease or reverse DNS), when known. */
  name: z.string().nullable().optional(),
  rateBps: z.number(),
  bytes: z.number(),
  connections: z.number(),
});
export type HostSample = z.infer<typeof HostSample>;

/** One accounting sample; rates are from the delta to the previous one. */
export const StatsSample = z.object({
  t: z.number(),
  classes: z.array(ClassSample),
  protocols: z.array(ProtocolSample),
  /** Per catalogue app and category, highest rate first (absent: an agent without a catalogue). */
  apps: z.array(AppSample).optional(),
  categories: z.array(CategorySample).optional(),
  hosts: z.array(HostSample),
  connections: z.array(ConnectionSample),
  totals: z.object({
    uploadBps: z.number(),
    downloadBps: z.number(),
    drops: z.number(),
    connections: z.number(),
  }),
  /** How the connection figures were read: when, and how long the conntrack dump took. */
  conntrack: z.object({ at: z.number(), ms: z.number(), entries: z.number() }).optional(),
});
export type StatsSample = z.infer<typeof StatsSample>;

export const StatsResponse = z.object({ latest: StatsSample.nullable(), history: z.array(StatsSample) });
export type StatsResponse = z.infer<typeof StatsResponse>;

/** A flow that got its verdict (matched a protocol, or unknown once the window was spent). */
export const FlowDecided = z.object({
  queue: z.number(),
  /** Seconds since the epoch. */
  time: z.number(),
  l4: z.enum(["tcp", "udp"]),
  client: z.string(),
  server: z.string(),
  /** Pattern name, or "unknown". */
  protocol: z.string(),
  /** l7-filter mark: 2 unknown, >= 3 a protocol (before the shift into the packet mark). */
  mark: z.number(),
  /** The flow's packet (1-based, both directions) that decided it. */
  decidedAtPacket: z.number(),
  hostname: z.string().nullable().optional(),
  app: z.string().nullable().optional(),
  category: z.string().nullable().optional(),
  /** The id of the hostname rule that matched (as in the mark's host field), 0 none. */
  hostRule: z.number().optional(),
  /** The packet mark bits Sluice set (all three fields, shifted). */
  markBits: z.number().optional(),
});
export type FlowDecided = z.infer<typeof FlowDecided>;

export const FlowsResponse = z.object({
  connections: z.array(ConnectionSample),
  /** How many connections the table holds in all (connections is the busiest, bounded). */
  total: z.number(),
  /** Recently decided flows, newest first. */
  decided: z.array(FlowDecided),
});
export type FlowsResponse = z.infer<typeof FlowsResponse>;
