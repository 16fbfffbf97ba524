// The metrics the agent exposes, in the Prometheus text format or OpenMetrics 1.0 (content
// negotiation), written by prom-client. A fresh registry per scrape, filled from what the
// agent holds at that moment (the latest accounting sample, the data plane's counters, the
// apply outcomes): a class or protocol that is gone is gone from the next scrape, and nothing
// is kept between scrapes. Counters are the kernel's (tc, nftables/iptables, NFQUEUE) as
// read: they go back to 0 when an apply re-creates the classes, which Prometheus's rate()
// reads as a reset.

import client, { type RegistryContentType } from "prom-client";
import type { StatsSample } from "../stats/accounting.ts";
import type { DataPlaneStats } from "../nfqueue/data-plane.ts";
import type { ClassificationHealth } from "../daemon/classification-health.ts";
import type { ApplyOutcomeCount } from "./apply-outcomes.ts";
import type { QuotaStatus, ScheduleStatus } from "@sluice/agent-contract";

const { Registry, Counter, Gauge } = client;

export interface MetricsSnapshot {
  version: string;
  /** When the agent started (ms since the epoch). */
  startedAt: number;
  sample: StatsSample | null;
  /** The data plane's totals, null when it is not running. */
  dataPlane: DataPlaneStats["total"] | null;
  health: ClassificationHealth;
  /** l7 mark → protocol name (verdict counters are kept by mark). */
  protocolOf: (l7mark: number) => string;
  applies: ApplyOutcomeCount[];
  /** When the last apply, try or rollback ended (ms), null if none since the start. */
  lastApplyAt: number | null;
  /** Classes of device rules (policy.devices), by interface and classid: their device's name. */
  deviceClasses: { iface: string; classid: string; device: string }[];
  /** Quotas of the policy in force: allowance and use in the current period. */
  quotas: QuotaStatus[];
  /** The policy's schedule windows now (null: it has none). */
  schedule: ScheduleStatus | null;
  /** The policy in force (the last good entry) and whether one is being tried. */
  policy: { id: number; name: string; at: string } | null;
  trying: boolean;
}

export const OPENMETRICS: RegistryContentType = Registry.OPENMETRICS_CONTENT_TYPE;
export const PROMETHEUS_TEXT: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE;

/** OpenMetrics when the scraper asks for it (Prometheus does), else the 0.0.4 text format. */
export function negotiate(accept: string | undefined): RegistryContentType {
  return /application\/openmetrics-text/i.test(accept ?? "") ? OPENMETRICS : PROMETHEUS_TEXT;
}

type Labels = Record<string, string>;

export async function renderMetrics(
  s: MetricsSnapshot,
  contentType: RegistryContentType = PROMETHEUS_TEXT,
): Promise<{ contentType: string; body: string }> {
  const registers = [new Registry<RegistryContentType>()];
  registers[0]!.setContentType(contentType);
  const counter = (name: string, help: string, labelNames: string[] = []) => {
    const c = new Counter({ name, help, labelNames, registers });
    return (labels: Labels, v: number) => c.inc(labels, Number.isFinite(v) && v > 0 ? v : 0);
  };
  const gauge = (name: string, help: string, labelNames: string[] = []) => {
    const g = new Gauge({ name, help, labelNames, registers });
    return (labels: Labels, v: number) => g.set(labels, Number.isFinite(v) ? v : 0);
  };

  // the agent
  gauge("sluice_agent_info", "The agent's version (always 1)", ["version"])({ version: s.version }, 1);
  gauge("process_start_time_seconds", "When the agent started, seconds since the epoch")(
    {},
    s.startedAt / 1000,
  );
  gauge("process_resident_memory_bytes", "The agent's resident memory")({}, process.memoryUsage().rss);
  const sample = s.sample;
  gauge(
    "sluice_stats_sample_timestamp_seconds",
    "When the accounting sample these figures come from was taken (0: none yet)",
  )({}, sample ? sample.t / 1000 : 0);

  // classes: tc class counters per shaped interface (device rules' classes too)
  const classLabels = ["direction", "interface", "class", "classid", "leaf"];
  const cBytes = counter("sluice_class_bytes_total", "Bytes a class sent (tc)", classLabels);
  const cPackets = counter("sluice_class_packets_total", "Packets a class sent (tc)", classLabels);
  const cDrops = counter("sluice_class_drops_total", "Packets a class dropped (tc)", classLabels);
  const cOver = counter(
    "sluice_class_overlimits_total",
    "Times a class was over its limit (tc)",
    classLabels,
  );
  const cBacklogB = gauge("sluice_class_backlog_bytes", "Bytes queued in a class now (tc)", classLabels);
  const cBacklogP = gauge("sluice_class_backlog_packets", "Packets queued in a class now (tc)", classLabels);
  const cRate = gauge("sluice_class_rate_bits_per_second", "A class's guaranteed rate (policy)", classLabels);
  const cCeil = gauge("sluice_class_ceil_bits_per_second", "A class's ceiling (policy)", classLabels);
  for (const c of sample?.classes ?? []) {
    const l = {
      direction: c.direction,
      interface: c.device,
      class: c.name,
      classid: c.classid,
      leaf: String(c.leaf),
    };
    cBytes(l, c.bytes);
    cPackets(l, c.packets);
    cDrops(l, c.drops);
    cOver(l, c.overlimits);
    cBacklogB(l, c.backlogBytes);
    cBacklogP(l, c.backlogPackets);
    cRate(l, c.rate);
    cCeil(l, c.ceil);
  }

  // device rules (policy.devices): their own classes' counters, by device name
  const deviceLabels = ["direction", "device"];
  const dBytes = counter("sluice_device_bytes_total", "Bytes a device rule's class sent (tc)", deviceLabels);
  const dPackets = counter(
    "sluice_device_packets_total",
    "Packets a device rule's class sent (tc)",
    deviceLabels,
  );
  const dDrops = counter(
    "sluice_device_drops_total",
    "Packets a device rule's class dropped (tc)",
    deviceLabels,
  );
  const dBacklog = gauge(
    "sluice_device_backlog_bytes",
    "Bytes queued in a device rule's class now (tc)",
    deviceLabels,
  );
  const dCeil = gauge("sluice_device_ceil_bits_per_second", "A device rule's ceiling (policy)", deviceLabels);
  const deviceOf = new Map(s.deviceClasses.map((d) => [`${d.iface} ${d.classid}`, d.device]));
  for (const c of sample?.classes ?? []) {
    const device = deviceOf.get(`${c.device} ${c.classid}`);
    if (device === undefined) continue;
    const l = { direction: c.direction, device };
    dBytes(l, c.bytes);
    dPackets(l, c.packets);
    dDrops(l, c.drops);
    dBacklog(l, c.backlogBytes);
    dCeil(l, c.ceil);
  }

  // protocols and applications: the accounting counters (nftables or iptables), and the
  // connections the last conntrack pass found with each
  const pBytes = counter("sluice_protocol_bytes_total", "Bytes of a protocol's connections", ["protocol"]);
  const pPackets = counter("sluice_protocol_packets_total", "Packets of a protocol's connections", [
    "protocol",
  ]);
  const pConns = gauge("sluice_protocol_connections", "A protocol's connections in the conntrack table", [
    "protocol",
  ]);
  for (const p of sample?.protocols ?? []) {
    pBytes({ protocol: p.protocol }, p.bytes);
    pPackets({ protocol: p.protocol }, p.packets);
    pConns({ protocol: p.protocol }, p.connections);
  }
  const appLabels = ["app", "category"];
  const aBytes = counter("sluice_app_bytes_total", "Bytes of an application's connections", appLabels);
  const aPackets = counter("sluice_app_packets_total", "Packets of an application's connections", appLabels);
  const aConns = gauge(
    "sluice_app_connections",
    "An application's connections in the conntrack table",
    appLabels,
  );
  for (const a of sample?.apps ?? []) {
    const l = { app: a.app, category: a.category };
    aBytes(l, a.bytes);
    aPackets(l, a.packets);
    aConns(l, a.connections);
  }

  // LAN hosts (the busiest, from the conntrack pass): their open connections, by address
  // and the name the DHCP leases or reverse DNS give it ("" when none)
  const hostLabels = ["host", "name"];
  const hRate = gauge(
    "sluice_host_rate_bits_per_second",
    "A LAN host's traffic rate (busiest hosts)",
    hostLabels,
  );
  const hBytes = gauge("sluice_host_connection_bytes", "Bytes of a LAN host's open connections", hostLabels);
  const hConns = gauge("sluice_host_connections", "A LAN host's open connections", hostLabels);
  for (const h of sample?.hosts ?? []) {
    const l = { host: h.host, name: h.name ?? "" };
    hRate(l, h.rateBps);
    hBytes(l, h.bytes);
    hConns(l, h.connections);
  }
  gauge("sluice_conntrack_connections", "Connections in the conntrack table at the last pass")(
    {},
    sample?.conntrack?.entries ?? sample?.totals.connections ?? 0,
  );

  // classification: the data plane's flow table and verdicts, and its health counters
  const dp = s.dataPlane;
  gauge("sluice_dataplane_up", "1 when the NFQUEUE data plane runs (0: traffic passes unclassified)")(
    {},
    dp ? 1 : 0,
  );
  gauge("sluice_flows_inspecting", "Flows in the data plane's tables, still inside their window")(
    {},
    dp?.inspectingFlows ?? 0,
  );
  counter("sluice_flows_decided_total", "Flows the data plane decided")({}, dp?.decided ?? 0);
  const verdicts = counter("sluice_flow_verdicts_total", "Flows decided, by the protocol found", [
    "protocol",
  ]);
  for (const [mark, n] of Object.entries(dp?.verdicts ?? {}))
    verdicts({ protocol: s.protocolOf(Number(mark)) }, n);
  counter("sluice_inspected_packets_total", "Packets the data plane inspected")({}, dp?.packets ?? 0);
  counter("sluice_inspected_bytes_total", "Bytes the data plane inspected")({}, dp?.bytes ?? 0);
  gauge("sluice_queue_waiting_packets", "Packets waiting in the kernel's queues now")({}, dp?.waiting ?? 0);
  const h = s.health;
  counter("sluice_queue_dropped_packets_total", "Packets the kernel dropped because a queue was full")(
    {},
    h.queueDropped,
  );
  counter("sluice_queue_user_dropped_packets_total", "Packets lost to a full socket buffer")(
    {},
    h.userDropped,
  );
  counter(
    "sluice_queue_failopen_packets_total",
    "Packets passed uninspected (fail-open: the queue or its socket was full)",
  )({}, h.unseen);
  const late = counter(
    "sluice_late_connections_total",
    "Connections found past their window still undecided, marked unknown (by the kernel's rule; of those, seen by the data plane)",
    ["seen_by"],
  );
  late({ seen_by: "kernel" }, h.lateKernel);
  late({ seen_by: "dataplane" }, h.lateSeen);
  counter("sluice_dataplane_restarts_total", "Data-plane workers restarted")({}, h.restarts);
  gauge("sluice_classification_degraded", "1 when a health counter moved in the last minute")(
    {},
    h.degraded ? 1 : 0,
  );

  // quotas and schedules (policy.quotas, policy.schedules)
  const quotaLabels = ["quota", "target", "period"];
  const qUsed = gauge(
    "sluice_quota_used_bytes",
    "Bytes a quota's target used in the current period",
    quotaLabels,
  );
  const qAllow = gauge("sluice_quota_allowance_bytes", "A quota's allowance per period", quotaLabels);
  const qDemoted = gauge(
    "sluice_quota_demoted",
    "1 while a quota's target is past its allowance (demoted)",
    quotaLabels,
  );
  const qEnds = gauge(
    "sluice_quota_period_end_timestamp_seconds",
    "When a quota's period resets",
    quotaLabels,
  );
  for (const q of s.quotas) {
    const l = { quota: q.name, target: q.target, period: q.period };
    qUsed(l, q.used);
    qAllow(l, q.allowance);
    qDemoted(l, q.demoted ? 1 : 0);
    qEnds(l, Date.parse(q.periodEnds) / 1000);
  }
  const wActive = gauge("sluice_schedule_window_active", "1 for each schedule window in force now", [
    "window",
  ]);
  for (const w of s.schedule?.active ?? []) wActive({ window: w }, 1);
  gauge("sluice_schedule_next_change_timestamp_seconds", "When the schedule next switches (0: never)")(
    {},
    s.schedule?.next ? Date.parse(s.schedule.next.at) / 1000 : 0,
  );

  // applies
  const applies = counter(
    "sluice_apply_results_total",
    "Applies, tries, confirms, rollbacks and reverts by outcome",
    ["operation", "outcome"],
  );
  for (const a of s.applies) applies({ operation: a.operation, outcome: a.outcome }, a.count);
  gauge(
    "sluice_apply_last_timestamp_seconds",
    "When the last apply, try or rollback ended (0: none since start)",
  )({}, (s.lastApplyAt ?? 0) / 1000);
  gauge("sluice_policy_version", "The history id of the policy in force (0: none)")({}, s.policy?.id ?? 0);
  gauge("sluice_policy_applied_timestamp_seconds", "When the policy in force was applied (0: none)")(
    {},
    s.policy ? Date.parse(s.policy.at) / 1000 : 0,
  );
  gauge("sluice_policy_info", "The policy in force (always 1)", ["id", "name"])(
    { id: String(s.policy?.id ?? 0), name: s.policy?.name ?? "" },
    1,
  );
  gauge("sluice_policy_trying", "1 while a policy is being tried (it reverts unless confirmed)")(
    {},
    s.trying ? 1 : 0,
  );

  const reg = registers[0]!;
  return { contentType: reg.contentType, body: await reg.metrics() };
}
