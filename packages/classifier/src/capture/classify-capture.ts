// Runs a capture through a flow table and returns one record per connection. A damaged
// capture yields the flows read before the damage plus the error that stopped it.

import { basename } from "node:path";
import type { PatternSet } from "../pattern-set.ts";
import { FlowTable, flowClient, flowServer, type Flow, type FlowTableOptions } from "../flow/flow-table.ts";
import { decodeFrameInto, LINKTYPE, PacketSlot, type DecodeResult } from "./decode.ts";
import { frameKey } from "./decided-flows.ts";
import { ExpectationTable, CONTROL_PROTOCOLS } from "../flow/expectations.ts";
import {
  openCaptureFile,
  readCaptureBuffer,
  CaptureError,
  type CaptureRecord,
  type CaptureFormat,
} from "./reader.ts";

/** One connection as `sluice classify --json` prints it (field names are a contract). */
export interface FlowRecord {
  pcap: string;
  l4: "tcp" | "udp";
  client: string;
  server: string;
  protocol: string;
  packets: number;
  bytes: number;
  first_seen: number;
  last_seen: number;
  decided_at_packet: number | null;
  inspected_bytes: number;
  /** The server's name (SNI, HTTP Host, DNS query or DNS cache), or null. */
  hostname: string | null;
  /** Where the name came from: "sni", "quic-sni", "http-host", "dns-query", "dns-cache". */
  hostname_source: string | null;
  /** Catalogue application and category, or null. */
  app: string | null;
  category: string | null;
}

type SkipReason = Exclude<DecodeResult, { ok: true }>["reason"];

export interface CaptureSummary {
  pcap: string;
  format: CaptureFormat | null;
  frames: number;
  decoded: number;
  skipped: Record<SkipReason, number>;
  flows: FlowRecord[];
  error: CaptureError | null;
}

export function toRecord(pcap: string, f: Flow): FlowRecord {
  return {
    pcap,
    l4: f.l4,
    client: flowClient(f),
    server: flowServer(f),
    protocol: f.protocol,
    packets: f.packets,
    bytes: f.bytes,
    first_seen: f.firstSeen,
    last_seen: f.lastSeen,
    decided_at_packet: f.decidedAtPacket,
    inspected_bytes: f.inspectedBytes,
    hostname: f.hostname,
    hostname_source: f.hostnameSource,
    app: f.app,
    category: f.category,
  };
}

export function classifyCaptureFile(
  path: string,
  patterns: PatternSet,
  options: Partial<FlowTableOptions> = {},
): CaptureSummary {
  return collect(basename(path), openCaptureFile(path), patterns, options);
}

export function classifyCaptureBuffer(
  name: string,
  buf: Buffer,
  patterns: PatternSet,
  options: Partial<FlowTableOptions> = {},
): CaptureSummary {
  return collect(name, readCaptureBuffer(buf, name), patterns, options);
}

/** A capture's summary without its flows (they went to the callback). */
export type CaptureStreamSummary = Omit<CaptureSummary, "flows"> & { flowCount: number };

/**
 * Classifies a capture file and hands each connection to `onFlow` as soon as it ends
 * (idle, evicted, closed), the rest at the end of the capture in the order they began:
 * memory holds only the live connections, whatever the capture's size.
 */
export function streamCaptureFile(
  path: string,
  patterns: PatternSet,
  options: Partial<FlowTableOptions>,
  onFlow: (flow: FlowRecord) => void,
): CaptureStreamSummary {
  const pcap = basename(path);
  return classifyRecords(pcap, openCaptureFile(path), patterns, options, (f) => onFlow(toRecord(pcap, f)));
}

/**
 * `streamCaptureFile` handing over each ended connection's `Flow` itself (final, no longer
 * in the table), for a caller that formats it without an intermediate record.
 */
export function streamCaptureFlows(
  path: string,
  patterns: PatternSet,
  options: Partial<FlowTableOptions>,
  onFlow: (flow: Flow) => void,
): CaptureStreamSummary {
  return classifyRecords(basename(path), openCaptureFile(path), patterns, options, onFlow);
}

function collect(
  pcap: string,
  records: Iterator<CaptureRecord, CaptureFormat>,
  patterns: PatternSet,
  options: Partial<FlowTableOptions>,
): CaptureSummary {
  const all: Flow[] = [];
  const { flowCount: _, ...s } = classifyRecords(pcap, records, patterns, options, (f) => all.push(f));
  all.sort((a, b) => a.id - b.id);
  return { ...s, flows: all.map((f) => toRecord(pcap, f)) };
}

function classifyRecords(
  pcap: string,
  records: Iterator<CaptureRecord, CaptureFormat>,
  patterns: PatternSet,
  options: Partial<FlowTableOptions>,
  onFlow: (flow: Flow) => void,
): CaptureStreamSummary {
  // Related connections (FTP data, SIP/RTSP media, TFTP transfers) are told by their
  // control flows seen earlier in the same capture.
  const table = new FlowTable(patterns, { expectations: new ExpectationTable(), ...options });
  const related = table.expectations ? CONTROL_PROTOCOLS : null;
  const slot = new PacketSlot();
  let flowCount = 0;
  table.onFlowEnd = (f) => {
    flowCount++;
    onFlow(f);
  };
  const { tcpIdleSeconds, udpIdleSeconds } = table.options;
  const summary: CaptureStreamSummary = {
    pcap,
    format: null,
    frames: 0,
    decoded: 0,
    skipped: { "not-ip": 0, "not-tcp-udp": 0, fragment: 0, truncated: 0, "unsupported-link": 0 },
    flowCount: 0,
    error: null,
  };
  try {
    for (;;) {
      const next = records.next();
      if (next.done) {
        summary.format = next.value;
        break;
      }
      const rec = next.value;
      summary.frames++;
      const time = rec.time;
      // A transient record is read in place (no Buffer view unless the frame is decoded).
      const chunk = rec.chunk;
      const buf = chunk ?? rec.data;
      const at = chunk ? rec.at! : 0;
      const k =
        rec.linkType === LINKTYPE.ETHERNET ? frameKey(buf, at, chunk ? at + rec.length! : buf.length) : null;
      if (k) {
        // A decided flow's packet: count it in place (see decided-flows.ts). A control
        // flow (FTP, SIP, RTSP, TFTP) keeps going through the table: its later messages
        // announce related connections.
        const f = table.lookup(k.tcp, k.family, buf, k.srcAt, k.dstAt, k.sport, k.dport);
        if (
          f &&
          !f.inspecting &&
          !(related && related.has(f.protocol)) &&
          time - f.lastSeen <= (f.l4 === "tcp" ? tcpIdleSeconds : udpIdleSeconds)
        ) {
          summary.decoded++;
          table.count(f, table.lastC2S, k.ipLength, time);
          continue;
        }
      }
      // One packet object for the whole capture: the table keeps nothing of it.
      const skip = chunk
        ? decodeFrameInto(rec.linkType, chunk, slot, at, at + rec.length!)
        : decodeFrameInto(rec.linkType, buf, slot);
      if (skip !== null) {
        summary.skipped[skip]++;
        continue;
      }
      summary.decoded++;
      table.observe(slot, time);
    }
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    summary.error = e;
  } finally {
    records.return?.(); // the file is closed however the loop ends
  }
  const rest = table.drain().sort((a, b) => a.id - b.id);
  for (const f of rest) onFlow(f);
  summary.flowCount = flowCount + rest.length;
  return summary;
}
