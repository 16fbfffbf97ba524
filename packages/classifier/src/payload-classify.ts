// Classifies a conversation given as payloads (no capture needed): the pattern tester of
// the dashboard and the protocol fixtures use it. The payloads go through the real flow
// table, so the window, NUL stripping and priority rules are exactly those of live traffic.

import { FlowTable, type Flow, type WindowOptions } from "./flow/flow-table.ts";
import type { DecodedPacket } from "./capture/decode.ts";
import type { PatternSet, Transport } from "./pattern-set.ts";
import type { AppCatalogue } from "./apps/catalogue.ts";

export interface PayloadPacket {
  dir: "c2s" | "s2c";
  payload: Buffer;
}

export interface PayloadOptions {
  window?: Partial<WindowOptions>;
  /** Run the dissectors (default true) and match against this application catalogue. */
  dissect?: boolean;
  apps?: AppCatalogue | null;
  /** Precede TCP payloads with a three-way handshake, which counts in the packet window (default true). */
  handshake?: boolean;
}

const CLIENT = { ip: "192.0.2.1", port: 40000 };
const SERVER = { ip: "198.51.100.1", port: 9 };

export function classifyPayloads(
  set: PatternSet,
  l4: Transport,
  packets: PayloadPacket[],
  options: PayloadOptions = {},
): Flow {
  const table = new FlowTable(set, {
    window: { packets: 10, bytes: 2048, ...options.window },
    dissect: options.dissect ?? true,
    apps: options.apps ?? null,
  });
  const seq = { c2s: 1000, s2c: 5000 };
  let t = 0;
  let flow: Flow | null = null;
  const send = (dir: "c2s" | "s2c", payload: Buffer, flags: { syn?: boolean; ack?: boolean } = {}) => {
    const from = dir === "c2s" ? CLIENT : SERVER;
    const to = dir === "c2s" ? SERVER : CLIENT;
    const pkt: DecodedPacket = {
      family: 4,
      l4,
      src: from.ip,
      dst: to.ip,
      sport: from.port,
      dport: to.port,
      ipLength: 20 + (l4 === "tcp" ? 20 : 8) + payload.length,
      payload,
      tcp:
        l4 === "tcp"
          ? { seq: seq[dir], ack: 0, syn: !!flags.syn, ackFlag: flags.ack ?? true, fin: false, rst: false }
          : null,
      vlan: null,
    };
    seq[dir] += payload.length + (flags.syn ? 1 : 0);
    flow = table.observe(pkt, (t += 0.001)).flow;
  };
  if (l4 === "tcp" && options.handshake !== false) {
    send("c2s", Buffer.alloc(0), { syn: true, ack: false });
    send("s2c", Buffer.alloc(0), { syn: true, ack: true });
    send("c2s", Buffer.alloc(0));
  }
  for (const p of packets) send(p.dir, p.payload);
  if (!flow) throw new Error("no packets given");
  table.drain(); // the conversation is over: a match waiting for its dissector is final
  return flow;
}
