// The sampler's kernel counters, read in process over netlink (netlink-dump.ts): tc class
// counters (RTM_GETTCLASS), Sluice's nftables named counters (NFT_MSG_GETOBJ), a map's
// element counters (NFT_MSG_GETSETELEM) and the
// conntrack table (ctnetlink). Each read costs one dump on an open socket, no process.

import {
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NetlinkSocket,
  attr,
  attrs,
  be64,
  ifIndex,
  le64,
} from "./netlink-dump.ts";
import { dumpConntrack, type CtEntry } from "./ctnetlink.ts";
import type { ClassCounters, NftCounter, NftElementCounter } from "./parse.ts";

const RTM_NEWTCLASS = 40;
const RTM_GETTCLASS = 42;
const TCA_STATS = 3;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_GETOBJ = 19;
const NFTA_OBJ_TABLE = 1;
const NFTA_OBJ_NAME = 2;
const NFTA_OBJ_TYPE = 3;
const NFTA_OBJ_DATA = 4;
const NFT_OBJECT_COUNTER = 1;
const NFTA_COUNTER_BYTES = 1;
const NFTA_COUNTER_PACKETS = 2;
const NFPROTO_INET = 1;
const NFT_MSG_GETSETELEM = 13;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_EXPR = 7;
const NFTA_SET_ELEM_EXPRESSIONS = 10;
const NFTA_DATA_VALUE = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;

const handle = (h: number) => `${(h >>> 16).toString(16)}:${(h & 0xffff).toString(16)}`;

/** One RTM_NEWTCLASS message (after the netlink header) → its counters. */
export function parseTcClassMessage(buf: Buffer, start: number, end: number): ClassCounters {
  const h = buf.readUInt32LE(start + 8);
  const parent = buf.readUInt32LE(start + 12);
  const c: ClassCounters = {
    classid: handle(h),
    parent: parent === 0xffffffff ? null : handle(parent),
    bytes: 0,
    packets: 0,
    drops: 0,
    overlimits: 0,
    backlogBytes: 0,
    backlogPackets: 0,
  };
  attrs(buf, start + 20, end, (t, o, len) => {
    if (t !== TCA_STATS || len < 36) return;
    // struct tc_stats: bytes u64, packets, drops, overlimits, bps, pps, qlen, backlog (u32)
    c.bytes = le64(buf, o);
    c.packets = buf.readUInt32LE(o + 8);
    c.drops = buf.readUInt32LE(o + 12);
    c.overlimits = buf.readUInt32LE(o + 16);
    c.backlogPackets = buf.readUInt32LE(o + 28);
    c.backlogBytes = buf.readUInt32LE(o + 32);
  });
  return c;
}

/** A NUL-terminated netlink string attribute. */
const nlString = (buf: Buffer, o: number, len: number) =>
  buf.toString("latin1", o, o + len).replace(/\0+$/, "");

/** A counter's attributes (NFTA_COUNTER_*), a named counter's or an expression's. */
function counterAttrs(
  buf: Buffer,
  start: number,
  end: number,
  into: { bytes: number; packets: number },
): void {
  attrs(buf, start, end, (t, o) => {
    if (t === NFTA_COUNTER_BYTES) into.bytes = be64(buf, o);
    else if (t === NFTA_COUNTER_PACKETS) into.packets = be64(buf, o);
  });
}

/** One NFT_MSG_NEWOBJ message → a named counter, or null for another object type. */
export function parseNftObjMessage(buf: Buffer, start: number, end: number): NftCounter | null {
  let name = "";
  let type = 0;
  const c = { bytes: 0, packets: 0 };
  attrs(buf, start + 4, end, (t, o, len) => {
    if (t === NFTA_OBJ_NAME) name = nlString(buf, o, len);
    else if (t === NFTA_OBJ_TYPE) type = buf.readUInt32BE(o);
    else if (t === NFTA_OBJ_DATA) counterAttrs(buf, o, o + len, c);
  });
  return type === NFT_OBJECT_COUNTER && name ? { name, ...c } : null;
}

/** One expression (NFTA_EXPR_*): its counter's figures when it is a counter. */
function counterExpr(buf: Buffer, start: number, end: number, into: NftElementCounter): void {
  let name = "";
  let data = -1;
  let dataLen = 0;
  attrs(buf, start, end, (t, o, len) => {
    if (t === NFTA_EXPR_NAME) name = nlString(buf, o, len);
    else if (t === NFTA_EXPR_DATA) [data, dataLen] = [o, len];
  });
  if (name === "counter" && data >= 0) counterAttrs(buf, data, data + dataLen, into);
}

/**
 * One NFT_MSG_NEWSETELEM message of a map keyed by a mark → each element's key (a 32-bit
 * value in host order, as nft stores a mark) and counter.
 */
export function parseSetElemMessage(buf: Buffer, start: number, end: number): NftElementCounter[] {
  const out: NftElementCounter[] = [];
  attrs(buf, start + 4, end, (t, o, len) => {
    if (t !== NFTA_SET_ELEM_LIST_ELEMENTS) return;
    attrs(buf, o, o + len, (lt, lo, llen) => {
      if (lt !== NFTA_LIST_ELEM) return;
      const e: NftElementCounter = { key: -1, packets: 0, bytes: 0 };
      attrs(buf, lo, lo + llen, (et, eo, elen) => {
        if (et === NFTA_SET_ELEM_KEY)
          attrs(buf, eo, eo + elen, (kt, ko, klen) => {
            if (kt === NFTA_DATA_VALUE && klen === 4) e.key = buf.readUInt32LE(ko);
          });
        else if (et === NFTA_SET_ELEM_EXPR) counterExpr(buf, eo, eo + elen, e);
        else if (et === NFTA_SET_ELEM_EXPRESSIONS)
          attrs(buf, eo, eo + elen, (xt, xo, xlen) => {
            if (xt === NFTA_LIST_ELEM) counterExpr(buf, xo, xo + xlen, e);
          });
      });
      if (e.key >= 0) out.push(e);
    });
  });
  return out;
}

export class KernelCounters {
  private readonly route: NetlinkSocket;
  private readonly netfilter: NetlinkSocket;

  private constructor(route: NetlinkSocket, netfilter: NetlinkSocket) {
    this.route = route;
    this.netfilter = netfilter;
  }

  /** Both sockets, or null where netlink can't be used (the sampler then runs the tools). */
  static open(): KernelCounters | null {
    const route = NetlinkSocket.open(NETLINK_ROUTE);
    const netfilter = NetlinkSocket.open(NETLINK_NETFILTER);
    if (route && netfilter) return new KernelCounters(route, netfilter);
    route?.close();
    netfilter?.close();
    return null;
  }

  /** Every tc class of a device with its counters; null when the device is not there. */
  async classes(device: string): Promise<ClassCounters[] | null> {
    const index = ifIndex(device);
    if (!index) return null;
    const tcmsg = Buffer.alloc(20);
    tcmsg.writeInt32LE(index, 4);
    const out: ClassCounters[] = [];
    await this.route.dump(RTM_GETTCLASS, tcmsg, (buf, start, end, type) => {
      if (type === RTM_NEWTCLASS && buf.readInt32LE(start + 4) === index)
        out.push(parseTcClassMessage(buf, start, end));
    });
    return out;
  }

  /** The named counters of an nftables table (inet family). */
  async nftCounters(table: string): Promise<NftCounter[]> {
    const payload = Buffer.concat([
      Buffer.from([NFPROTO_INET, 0, 0, 0]),
      attr(NFTA_OBJ_TABLE, Buffer.from(`${table}\0`, "latin1")),
      attr(NFTA_OBJ_TYPE, Buffer.from([0, 0, 0, NFT_OBJECT_COUNTER])),
    ]);
    const out: NftCounter[] = [];
    await this.netfilter.dump((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ, payload, (buf, start, end) => {
      const c = parseNftObjMessage(buf, start, end);
      if (c) out.push(c);
    });
    return out;
  }

  /** The element counters of a map (keyed by a mark) of an nftables table (inet family);
   * none when the map is not there. */
  async nftElementCounters(table: string, map: string): Promise<NftElementCounter[]> {
    const payload = Buffer.concat([
      Buffer.from([NFPROTO_INET, 0, 0, 0]),
      attr(NFTA_SET_ELEM_LIST_TABLE, Buffer.from(`${table}\0`, "latin1")),
      attr(NFTA_SET_ELEM_LIST_SET, Buffer.from(`${map}\0`, "latin1")),
    ]);
    const out: NftElementCounter[] = [];
    try {
      await this.netfilter.dump(
        (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
        payload,
        (buf, start, end) => out.push(...parseSetElemMessage(buf, start, end)),
      );
    } catch {
      return []; // ENOENT: no such map (a policy without it, or no table yet)
    }
    return out;
  }

  /** Every TCP/UDP connection in the conntrack table. */
  conntrack(onEntry: (e: CtEntry) => void): Promise<number> {
    return dumpConntrack(this.netfilter, onEntry);
  }

  close(): void {
    this.route.close();
    this.netfilter.close();
  }
}
