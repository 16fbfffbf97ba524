// Capability probe at start (like sqm-scripts' verify_qdisc and FireHOL): try each qdisc,
// classifier, action and iptables extension for real on throwaway objects, then remove them.

import { release } from "node:os";
import type { Executor } from "./executor.ts";
import { HELPER_TYPES, type Capabilities, type HelperType } from "./capabilities.ts";

const P0 = "slprobe0";
const P1 = "slprobe1";
const IFB = "slprobeifb";
const CHAIN = "SLUICE_PROBE";
const NFT_PROBE_TABLE = "sluice_probe";

export async function probeCapabilities(exec: Executor): Promise<Capabilities> {
  const ok = async (argv: string[]) => (await exec.run(argv)).code === 0;
  await exec.run(["ip", "link", "del", P0]);
  if (!(await ok(["ip", "link", "add", P0, "type", "veth", "peer", "name", P1]))) {
    throw new Error("capability probe: cannot create a veth pair (is this root, with iproute2?)");
  }
  try {
    await exec.run(["ip", "link", "set", P0, "up"]);
    const htb = await ok(["tc", "qdisc", "add", "dev", P0, "root", "handle", "1:", "htb"]);
    await exec.run([
      "tc",
      "class",
      "add",
      "dev",
      P0,
      "parent",
      "1:",
      "classid",
      "1:1",
      "htb",
      "rate",
      "1mbit",
    ]);
    const leaf = async (kind: string[]) => {
      const r = await ok(["tc", "qdisc", "add", "dev", P0, "parent", "1:1", "handle", "10:", ...kind]);
      if (r) await exec.run(["tc", "qdisc", "del", "dev", P0, "parent", "1:1", "handle", "10:"]);
      return r;
    };
    const qdiscs = {
      htb,
      sfq: await leaf(["sfq"]),
      fq_codel: await leaf(["fq_codel"]),
      cake: await leaf(["cake"]),
      pfifo: await leaf(["pfifo"]),
      ingress: await ok(["tc", "qdisc", "add", "dev", P1, "ingress"]),
    };
    const filt = (prio: string, spec: string[]) =>
      ok(["tc", "filter", "add", "dev", P0, "parent", "1:", "protocol", "all", "prio", prio, ...spec]);
    const classifiers = {
      fw: await filt("1", ["handle", "0x100/0xff00", "fw", "classid", "1:1"]),
      u32: await filt("2", ["u32", "match", "u32", "0", "0", "classid", "1:1"]),
      matchall: await filt("3", ["matchall", "classid", "1:1"]),
      flow: await filt("4", ["handle", "4", "flow", "hash", "keys", "dst", "divisor", "1024"]),
    };
    const links = { ifb: await ok(["ip", "link", "add", IFB, "type", "ifb"]) };
    const action = (spec: string[]) =>
      ok([
        "tc",
        "filter",
        "add",
        "dev",
        P1,
        "parent",
        "ffff:",
        "protocol",
        "all",
        "prio",
        String(10 + spec.length),
        "u32",
        "match",
        "u32",
        "0",
        "0",
        ...spec,
      ]);
    const actions = {
      connmark: qdiscs.ingress && (await action(["action", "connmark"])),
      mirred: qdiscs.ingress && (await action(["action", "mirred", "egress", "redirect", "dev", P0])),
    };
    const iptables = await probeTables(exec, "iptables");
    const ip6tables = await probeTables(exec, "ip6tables");
    const nftables = await probeNft(exec);
    const ctHelpers = await probeCtHelpers(exec, nftables);
    return {
      qdiscs,
      classifiers,
      actions,
      links,
      iptables,
      ip6tables,
      nftables,
      ctHelpers,
      probedAt: new Date().toISOString(),
      kernel: release(),
    };
  } finally {
    await exec.run(["ip", "link", "del", P0]);
    await exec.run(["ip", "link", "del", IFB]);
  }
}

async function probeTables(exec: Executor, bin: "iptables" | "ip6tables"): Promise<Capabilities["iptables"]> {
  const t = (args: string[]) => exec.run([bin, "-w", "-t", "mangle", ...args]);
  await t(["-F", CHAIN]);
  await t(["-X", CHAIN]);
  if ((await t(["-N", CHAIN])).code !== 0) {
    return {
      NFQUEUE: false,
      CONNMARK: false,
      CLASSIFY: false,
      connbytes: false,
      mark: false,
      comment: false,
    };
  }
  const can = async (spec: string[]) => (await t(["-A", CHAIN, ...spec])).code === 0;
  try {
    return {
      NFQUEUE: await can(["-j", "NFQUEUE", "--queue-balance", "0:1", "--queue-bypass"]),
      CONNMARK: await can(["-j", "CONNMARK", "--restore-mark", "--nfmask", "0xff00", "--ctmask", "0xff00"]),
      CLASSIFY: await can(["-j", "CLASSIFY", "--set-class", "1:10"]),
      connbytes: await can([
        "-m",
        "connbytes",
        "--connbytes",
        "0:10",
        "--connbytes-mode",
        "packets",
        "--connbytes-dir",
        "both",
      ]),
      mark: await can(["-m", "mark", "--mark", "0x100/0xff00"]),
      comment: await can(["-m", "comment", "--comment", "probe"]),
    };
  } finally {
    await t(["-F", CHAIN]);
    await t(["-X", CHAIN]);
  }
}

/**
 * nftables as the renderer uses it (render/nft.ts): named counters behind a mark → counter
 * map, a mark → classid map feeding `meta priority`, a postrouting base chain, all in one
 * transaction; then the table is removed.
 */
async function probeNft(exec: Executor): Promise<boolean> {
  const table = `inet ${NFT_PROBE_TABLE}`;
  const script = [
    `table ${table}`,
    `delete table ${table}`,
    `table ${table} {`,
    "  counter c1 { }",
    '  map counters { type mark : counter; elements = { 0x100 : "c1" } }',
    "  map classes { type mark : classid; elements = { 0x100 : 1:10 } }",
    "  chain post {",
    "    type filter hook postrouting priority mangle; policy accept;",
    "    counter name meta mark & 0xff00 map @counters",
    '    oifname "lo" jump dev0',
    "  }",
    "  chain dev0 {",
    "    meta priority set meta mark & 0xff00 map @classes",
    "  }",
    "}",
    "",
  ].join("\n");
  const r = await exec.run(["nft", "-f", "-"], { input: script });
  await exec.run(["nft", "delete", "table", "inet", NFT_PROBE_TABLE]);
  return r.code === 0;
}

/** The protocol a helper's probe object is declared for. */
const HELPER_L4: Record<HelperType, "tcp" | "udp"> = { ftp: "tcp", sip: "udp", tftp: "udp" };

/**
 * Each conntrack helper as render/nft.ts assigns it: a `ct helper` object of its type and a
 * prerouting rule that sets it (the kernel refuses an object whose helper it lacks).
 */
async function probeCtHelpers(exec: Executor, nftables: boolean): Promise<Capabilities["ctHelpers"]> {
  const out = { ftp: false, sip: false, tftp: false };
  if (!nftables) return out;
  const table = `inet ${NFT_PROBE_TABLE}`;
  for (const h of HELPER_TYPES) {
    const script = [
      `table ${table}`,
      `delete table ${table}`,
      `table ${table} {`,
      `  ct helper h { type "${h}" protocol ${HELPER_L4[h]}; }`,
      "  chain pre {",
      "    type filter hook prerouting priority -160; policy accept;",
      `    ct state new ${HELPER_L4[h]} dport 1 ct helper set "h"`,
      `    ct status expected ct helper "${h}" ct mark set ct mark & 0xffff00ff | 0x00000300`,
      "  }",
      "}",
      "",
    ].join("\n");
    out[h] = (await exec.run(["nft", "-f", "-"], { input: script })).code === 0;
    await exec.run(["nft", "delete", "table", "inet", NFT_PROBE_TABLE]);
  }
  return out;
}
