// GET /v1/devices: the LAN devices the box knows (its DHCP leases), with their names (the
// lease's host name, else reverse DNS when the agent asks a server), and where the lease
// file is.

import { z } from "zod";

export const KnownDevice = z.object({
  address: z.string(),
  mac: z.string().nullable(),
  name: z.string().nullable(),
  /** Where the name came from. */
  source: z.enum(["dhcp", "dns"]).nullable(),
  /** Lease expiry (ISO), null for an infinite lease. */
  expires: z.string().nullable(),
});
export type KnownDevice = z.infer<typeof KnownDevice>;

export const DevicesResponse = z.object({
  devices: z.array(KnownDevice),
  /** The dnsmasq lease file the agent reads (null: none configured). */
  leasesFile: z.string().nullable(),
  /** The DNS server asked for names by address (null: no reverse DNS). */
  reverseDns: z.string().nullable(),
});
export type DevicesResponse = z.infer<typeof DevicesResponse>;
