// Names of LAN devices for the dashboard (top talkers, flows, the Devices page) and the
// addresses of device rules given by MAC: from dnsmasq's lease file (re-read when it
// changes), else from reverse DNS when a server is configured (asked in the background,
// answers kept a while; a lookup never delays a stats sample).

import { statSync, readFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { activeLeases, parseDnsmasqLeases, type Lease } from "./leases.ts";

export interface DeviceNamesOptions {
  /** dnsmasq's lease file; missing or unreadable: no lease names. */
  leasesFile: string | null;
  /** A DNS server (address) to ask for PTR records; null: no reverse DNS. */
  reverseDns?: string | null;
  /** For tests: how a PTR lookup is made. */
  reverse?: (address: string) => Promise<string[]>;
  now?: () => number;
}

export interface KnownDevice {
  address: string;
  mac: string | null;
  name: string | null;
  source: "dhcp" | "dns" | null;
  /** Lease expiry (ISO), null for an infinite lease or a name from DNS. */
  expires: string | null;
}

const DNS_TTL_MS = 10 * 60_000;
const DNS_MAX = 4096;
const DNS_CONCURRENT = 4;

export class DeviceNames {
  private readonly o: DeviceNamesOptions;
  private leases: Lease[] = [];
  private leasesStamp = "";
  private statAt = -Infinity;
  private byAddress = new Map<string, Lease>();
  private readonly dns = new Map<string, { name: string | null; at: number }>();
  private inFlight = 0;
  private readonly reverse: ((address: string) => Promise<string[]>) | null;

  constructor(o: DeviceNamesOptions) {
    this.o = o;
    if (o.reverse) this.reverse = o.reverse;
    else if (o.reverseDns) {
      const r = new Resolver({ timeout: 1000, tries: 1 });
      r.setServers([o.reverseDns]);
      this.reverse = (a) => r.reverse(a);
    } else this.reverse = null;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** The current leases (the file is re-read when its size or time changed; `fresh`:
   * look now, else at most once a second, as names are asked per host of every sample). */
  currentLeases(fresh = false): Lease[] {
    const f = this.o.leasesFile;
    if (!f) return [];
    if (!fresh && this.now() - this.statAt < 1000)
      return activeLeases(this.leases, Math.floor(this.now() / 1000));
    this.statAt = this.now();
    try {
      const st = statSync(f);
      const stamp = `${st.size} ${st.mtimeMs}`;
      if (stamp !== this.leasesStamp) {
        this.leases = parseDnsmasqLeases(readFileSync(f, "utf8"));
        this.byAddress = new Map(this.leases.map((l) => [l.address, l]));
        this.leasesStamp = stamp;
      }
    } catch {
      this.leases = [];
      this.byAddress = new Map();
      this.leasesStamp = "";
    }
    return activeLeases(this.leases, Math.floor(this.now() / 1000));
  }

  /** MAC → its leased addresses (device rules given by MAC). */
  macAddresses(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const l of this.currentLeases(true))
      if (l.mac) out.set(l.mac, [...(out.get(l.mac) ?? []), l.address]);
    return out;
  }

  /** A device's name, or null; starts a reverse lookup for next time when there is none. */
  nameOf(address: string): string | null {
    const a = address.toLowerCase();
    const lease = this.currentLeases().length ? this.byAddress.get(a) : undefined;
    const live = lease && (lease.expires === 0 || lease.expires * 1000 > this.now());
    if (live && lease.hostname) return lease.hostname;
    if (!this.reverse) return null;
    const hit = this.dns.get(a);
    if (hit && this.now() - hit.at < DNS_TTL_MS) return hit.name;
    this.lookup(a);
    return hit?.name ?? null;
  }

  private lookup(a: string): void {
    if (this.inFlight >= DNS_CONCURRENT || !this.reverse) return;
    this.inFlight++;
    // Mark it asked, so a busy sampler does not ask again before the answer.
    this.dns.set(a, { name: this.dns.get(a)?.name ?? null, at: this.now() });
    this.reverse(a)
      .then(
        (names) => names.find((n) => /^[A-Za-z0-9.-]{1,253}$/.test(n))?.replace(/\.$/, "") ?? null,
        () => null,
      )
      .then((name) => {
        if (this.dns.size >= DNS_MAX) this.dns.delete(this.dns.keys().next().value!);
        this.dns.set(a, { name, at: this.now() });
      })
      .finally(() => this.inFlight--);
  }

  /** Every device the leases know, with its name. */
  list(): KnownDevice[] {
    return this.currentLeases(true).map((l) => ({
      address: l.address,
      mac: l.mac,
      name: l.hostname ?? this.nameOf(l.address),
      source: l.hostname ? "dhcp" : this.dns.get(l.address)?.name ? "dns" : null,
      expires: l.expires ? new Date(l.expires * 1000).toISOString() : null,
    }));
  }
}
