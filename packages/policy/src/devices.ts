// LAN hosts in the policy: per-host fairness inside a class, and per-device limits (a LAN
// host or a group of hosts — addresses, prefixes, MAC addresses — with its own rate/ceil,
// like RouterOS simple queues or LibreQoS plans). Addresses are parsed with ipaddr.js.

import { z } from "zod";
import ipaddr from "ipaddr.js";
import { rateSchema } from "./rate-schema.ts";
import { plainText } from "./text.ts";

/**
 * How a class shares its bandwidth: "flow" among its connections (the leaf qdisc's own
 * fairness, the default), "host" among LAN hosts first (download by destination address,
 * upload by source address before NAT), so one host's 50 connections do not starve
 * another host's one.
 */
export const FAIRNESS_MODES = ["flow", "host"] as const;
export type Fairness = (typeof FAIRNESS_MODES)[number];
export const FairnessSchema = z.enum(FAIRNESS_MODES);

/** One entry of a device's `hosts`: an address, a network or a MAC address. */
export type HostMatch =
  | { kind: "address"; family: 4 | 6; text: string }
  | { kind: "prefix"; family: 4 | 6; text: string; address: string; bits: number }
  | { kind: "mac"; text: string };

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

function parseAddress(s: string): { family: 4 | 6; addr: ipaddr.IPv4 | ipaddr.IPv6 } | null {
  // Only the plain forms: ipaddr.js also reads "10.1" and "0x0a.1.2.3" as IPv4.
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return { family: 4, addr: ipaddr.IPv4.parse(s) };
  if (s.includes(":") && ipaddr.IPv6.isValid(s)) return { family: 6, addr: ipaddr.IPv6.parse(s) };
  return null;
}

/** Parses a host entry, or says what is wrong with it. */
export function parseHostMatch(s: string): HostMatch | { error: string } {
  if (MAC.test(s)) return { kind: "mac", text: s.toLowerCase().replaceAll("-", ":") };
  const slash = s.indexOf("/");
  if (slash < 0) {
    const a = parseAddress(s);
    if (!a)
      return {
        error: `"${s}" is not an address, a network or a MAC address (examples: 192.168.77.20, 192.168.77.64/28, fd00::20, 02:00:00:00:00:20)`,
      };
    return { kind: "address", family: a.family, text: a.addr.toString() };
  }
  const a = parseAddress(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  const max = a?.family === 6 ? 128 : 32;
  if (!a || !/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max)
    return { error: `"${s}" is not a network (examples: 192.168.77.64/28, fd00::/64)` };
  const bits = Number(bitsText);
  const network =
    a.family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(s).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(s).toString();
  const given = a.addr.toString();
  if (network !== given) return { error: `"${s}" has host bits set: the network is ${network}/${bits}` };
  if (bits === max) return { kind: "address", family: a.family, text: network };
  return { kind: "prefix", family: a.family, text: `${network}/${bits}`, address: network, bits };
}

/** Whether an address or a network lies inside a network ("192.168.77.0/24"). */
export function insideNetwork(m: HostMatch, network: string): boolean {
  if (m.kind === "mac") return true;
  const n = parseHostMatch(network);
  if ("error" in n || n.kind === "mac" || n.family !== m.family) return false;
  if (n.kind === "address") return m.kind === "address" && m.text === n.text;
  const bits = m.kind === "prefix" ? m.bits : m.family === 4 ? 32 : 128;
  if (bits < n.bits) return false;
  const addr = m.kind === "prefix" ? m.address : m.text;
  return ipaddr.parse(addr).match(ipaddr.parse(n.address), n.bits);
}

const hostEntry = z
  .string()
  .max(64)
  .superRefine((s, ctx) => {
    const m = parseHostMatch(s);
    if ("error" in m) ctx.addIssue({ code: "custom", message: m.error });
  });

/** The LAN's networks (CIDR): device rules must lie inside them. */
export const NetworkListSchema = z
  .array(
    z
      .string()
      .max(64)
      .superRefine((s, ctx) => {
        const m = parseHostMatch(s);
        if ("error" in m) ctx.addIssue({ code: "custom", message: m.error });
        else if (m.kind === "mac") ctx.addIssue({ code: "custom", message: `"${s}" is not a network` });
      }),
  )
  .max(16);

export const DeviceLimitSchema = z.strictObject({ rate: rateSchema, ceil: rateSchema.optional() });

/**
 * A device rule: the traffic of these LAN hosts goes to a class of its own, per direction
 * it limits (upload: sent by the hosts, download: sent to them), whatever application it
 * is. Beside the application classes (under the link) unless `parent` names a class to
 * nest it in (a grouping class no rule targets, e.g. "guests").
 */
export const DeviceSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]{0,31}$/,
        "lowercase letters, digits, _ and -, starting with a letter (max 32)",
      ),
    hosts: z.array(hostEntry).min(1, "a device rule needs at least one address, network or MAC").max(64),
    upload: DeviceLimitSchema.optional(),
    download: DeviceLimitSchema.optional(),
    parent: plainText(100).optional(),
    comment: plainText(200).optional(),
  })
  .superRefine((d, ctx) => {
    if (!d.upload && !d.download)
      ctx.addIssue({ code: "custom", message: "a device rule limits upload, download or both" });
  });

export type PolicyDevice = z.output<typeof DeviceSchema>;
export type PolicyDeviceInput = z.input<typeof DeviceSchema>;

/** A device's hosts, parsed (entries that do not parse are left out: validation names them). */
export function deviceHosts(d: { hosts: readonly string[] }): HostMatch[] {
  return d.hosts.map(parseHostMatch).filter((m): m is HostMatch => !("error" in m));
}

/** The network of an interface address in CIDR form ("10.77.1.1/24" → "10.77.1.0/24"), or null. */
export function networkOfCidr(cidr: string): string | null {
  const slash = cidr.indexOf("/");
  if (slash < 0) return null;
  const a = parseAddress(cidr.slice(0, slash));
  const bits = Number(cidr.slice(slash + 1));
  if (!a || !Number.isInteger(bits) || bits < 0 || bits > (a.family === 4 ? 32 : 128)) return null;
  const net =
    a.family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${net.toString()}/${bits}`;
}
