// The DNS cache of one data-plane worker, kept in step with the other workers'. The kernel's
// --queue-balance spreads flows over the queues by their addresses, so the answer to a
// lookup and the connection that follows usually land on different workers: every worker
// passes the names it learns to the main thread, which hands them to the others.

import { DnsCache, ipv6, parseDnsMessage } from "@sluice/classifier";

/** [address, name, seconds left, the client it was looked up for (or null)] */
export type DnsEntry = [string, string, number, string | null];

export class SharedDnsCache extends DnsCache {
  private outbox: DnsEntry[] = [];
  private applying = false;

  override set(address: string, name: string, ttl: number, now: number, client?: string | null): void {
    super.set(address, name, ttl, now, client);
    if (!this.applying && this.outbox.length < 10_000) this.outbox.push([address, name, ttl, client ?? null]);
  }

  /** Entries learned here since the last call (for the other workers). */
  drain(): DnsEntry[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** Entries another worker learned. */
  apply(entries: readonly DnsEntry[], now: number): void {
    this.applying = true;
    try {
      for (const [address, name, ttl, client] of entries) super.set(address, name, ttl, now, client);
    } finally {
      this.applying = false;
    }
  }

  /**
   * Learns from a DNS answer in a raw IPv4/IPv6 packet from UDP port 53, even when its flow
   * was decided long ago (the fast path never decodes those), for the client it goes to.
   * Returns names learned.
   */
  learnFromPacket(buf: Buffer, off: number, len: number, now: number): number {
    const udp = dnsAnswerOffset(buf, off, len);
    if (udp < 0) return 0;
    const msg = parseDnsMessage(buf.subarray(udp + 8, off + len));
    return msg ? this.learn(msg, now, destinationOf(buf, off)) : 0;
  }
}

/** Offset of the UDP header of a packet from source port 53, or -1. */
export function dnsAnswerOffset(buf: Buffer, off: number, len: number): number {
  const v = buf[off]! >> 4;
  let udp = -1;
  if (v === 4 && len >= 28 && buf[off + 9] === 17 && (buf.readUInt16BE(off + 6) & 0x3fff) === 0)
    udp = off + (buf[off]! & 0x0f) * 4;
  else if (v === 6 && len >= 48 && buf[off + 6] === 17) udp = off + 40;
  if (udp < 0 || udp + 8 > off + len) return -1;
  return buf.readUInt16BE(udp) === 53 ? udp : -1;
}

/** The destination address of a raw IPv4/IPv6 packet, as the flow table writes addresses. */
export function destinationOf(buf: Buffer, off: number): string {
  if (buf[off]! >> 4 === 4) return `${buf[off + 16]}.${buf[off + 17]}.${buf[off + 18]}.${buf[off + 19]}`;
  return ipv6(buf.subarray(off + 24, off + 40));
}
