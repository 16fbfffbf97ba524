// Feeds a flow table one UDP datagram at a time, 10.0.0.1:<port> -> 10.0.0.2:9, at second 1.

import { decodeFrame, type FlowTable } from "../../src/index.ts";
import { ipPacket } from "./frames.ts";

export function udpSender(table: FlowTable) {
  return (port: number, payload: string) => {
    const d = decodeFrame(
      101,
      ipPacket({ src: "10.0.0.1", dst: "10.0.0.2", sport: port, dport: 9, l4: "udp", payload }),
    );
    if (!d.ok) throw new Error(d.reason);
    return table.observe(d.packet, 1);
  };
}
