// Capability probe at start (like sqm-scripts' verify_qdisc and FireHOL): try each qdisc,
// classifier, action and iptables extension for real on throwaway objects, then remove them.
//
// Each command is a process, and on a slow or emulated box (the appliance's boot test: QEMU
// without KVM) a process costs a second or more, so the probe runs few of them: the tc and
// ip commands as one `-batch` each (with -force, the failed lines are named on stderr), each
// iptables family's extensions as one iptables-restore transaction (all or nothing: only when
// it fails are they tried one by one), nftables, its conntrack helpers and the RTSP media
// maps as one script (the same), and these four parts at once.

import { release } from "node:os";
import type { Executor } from "./executor.ts";
import { HELPER_TYPES, type Capabilities, type HelperType } from "./capabilities.ts";

const P0 = "slprobe0";
const P1 = "slprobe1";
const IFB = "slprobeifb";
const CHAIN = "SLUICE_PROBE";
const NFT_PROBE_TABLE = "sluice_probe";
/** A device that never exists: the last line of a batch, which fails to show the batch ran to its end. */
const NO_DEV = "slprobe-none";

export interface ProbeOptions {
  /** One command per line, per extension, per helper instead of batches (tests compare both). */
  oneByOne?: boolean;
}

export async function probeCapabilities(exec: Executor, opts: ProbeOptions = {}): Promise<Capabilities> {
  const oneByOne = opts.oneByOne ?? false;
  const [links, iptables, ip6tables, nft] = await Promise.allSettled([
    probeLinksAndTc(exec, oneByOne),
    probeTables(exec, "iptables", oneByOne),
    probeTables(exec, "ip6tables", oneByOne),
    probeNftAndHelpers(exec, oneByOne),
  ]);
  for (const r of [links, iptables, ip6tables, nft]) if (r.status === "rejected") throw r.reason;
  const tc = (links as PromiseFulfilledResult<Awaited<ReturnType<typeof probeLinksAndTc>>>).value;
  return {
    ...tc,
    iptables: (iptables as PromiseFulfilledResult<Capabilities["iptables"]>).value,
    ip6tables: (ip6tables as PromiseFulfilledResult<Capabilities["ip6tables"]>).value,
    ...(nft as PromiseFulfilledResult<Pick<Capabilities, "nftables" | "ctHelpers" | "rtspMaps">>).value,
    probedAt: new Date().toISOString(),
    kernel: release(),
  };
}

/**
 * Runs `tool -force -batch -` over the lines and tells which succeeded. A final line that
 * must fail proves the tool went through all of them; without that proof (an old tool, a
 * tool that exits half-way) each line runs on its own.
 */
export async function runBatch(
  exec: Executor,
  tool: "ip" | "tc",
  lines: string[][],
  oneByOne = false,
): Promise<boolean[]> {
  const each = async () => {
    const out: boolean[] = [];
    for (const l of lines) out.push((await exec.run([tool, ...l])).code === 0);
    return out;
  };
  if (oneByOne) return each();
  const sentinel = tool === "ip" ? ["link", "del", NO_DEV] : ["qdisc", "del", "dev", NO_DEV, "root"];
  const all = [...lines, sentinel];
  const r = await exec.run([tool, "-force", "-batch", "-"], {
    input: all.map((l) => `${l.join(" ")}\n`).join(""),
  });
  const failed = new Set([...r.stderr.matchAll(/^Command failed -:(\d+)$/gm)].map((m) => Number(m[1])));
  if (r.code !== 1 || !failed.has(all.length)) return each();
  return lines.map((_, i) => !failed.has(i + 1));
}

async function probeLinksAndTc(exec: Executor, oneByOne: boolean) {
  // a veth pair (P1's ingress for the actions, P0's root for the rest) and an ifb device
  const [, , veth, ifb] = await runBatch(
    exec,
    "ip",
    [
      ["link", "del", P0],
      ["link", "del", IFB],
      ["link", "add", P0, "up", "type", "veth", "peer", "name", P1],
      ["link", "add", IFB, "type", "ifb"],
    ],
    oneByOne,
  );
  if (!veth) {
    await runBatch(exec, "ip", [["link", "del", IFB]], oneByOne);
    throw new Error("capability probe: cannot create a veth pair (is this root, with iproute2?)");
  }
  try {
    const leaf = (kind: string) => [
      ["qdisc", "add", "dev", P0, "parent", "1:1", "handle", "10:", kind],
      ["qdisc", "del", "dev", P0, "parent", "1:1", "handle", "10:"],
    ];
    const filter = (prio: string, spec: string[]) => [
      ["filter", "add", "dev", P0, "parent", "1:", "protocol", "all", "prio", prio, ...spec],
    ];
    const action = (prio: string, spec: string[]) =>
      [["filter", "add", "dev", P1, "parent", "ffff:", "protocol", "all", "prio", prio, "u32"]].map((l) => [
        ...l,
        "match",
        "u32",
        "0",
        "0",
        ...spec,
      ]);
    // each capability names the index of its line in the batch
    const lines: string[][] = [];
    const at = (group: string[][]) => {
      const i = lines.length;
      lines.push(...group);
      return i;
    };
    const idx = {
      htb: at([["qdisc", "add", "dev", P0, "root", "handle", "1:", "htb"]]),
      cls: at([["class", "add", "dev", P0, "parent", "1:", "classid", "1:1", "htb", "rate", "1mbit"]]),
      sfq: at(leaf("sfq")),
      fq_codel: at(leaf("fq_codel")),
      cake: at(leaf("cake")),
      pfifo: at(leaf("pfifo")),
      ingress: at([["qdisc", "add", "dev", P1, "ingress"]]),
      fw: at(filter("1", ["handle", "0x100/0xff00", "fw", "classid", "1:1"])),
      u32: at(filter("2", ["u32", "match", "u32", "0", "0", "classid", "1:1"])),
      matchall: at(filter("3", ["matchall", "classid", "1:1"])),
      flow: at(filter("4", ["handle", "4", "flow", "hash", "keys", "dst", "divisor", "1024"])),
      connmark: at(action("12", ["action", "connmark"])),
      mirred: at(action("15", ["action", "mirred", "egress", "redirect", "dev", P0])),
    };
    const ok = await runBatch(exec, "tc", lines, oneByOne);
    const qdiscs = {
      htb: ok[idx.htb]!,
      sfq: ok[idx.sfq]!,
      fq_codel: ok[idx.fq_codel]!,
      cake: ok[idx.cake]!,
      pfifo: ok[idx.pfifo]!,
      ingress: ok[idx.ingress]!,
    };
    return {
      qdiscs,
      classifiers: { fw: ok[idx.fw]!, u32: ok[idx.u32]!, matchall: ok[idx.matchall]!, flow: ok[idx.flow]! },
      actions: {
        connmark: qdiscs.ingress && ok[idx.connmark]!,
        mirred: qdiscs.ingress && ok[idx.mirred]!,
      },
      links: { ifb: ifb! },
    };
  } finally {
    await runBatch(
      exec,
      "ip",
      [
        ["link", "del", P0],
        ["link", "del", IFB],
      ],
      oneByOne,
    );
  }
}

/** The rules the renderer may use, one per capability (each tried in the probe chain). */
const TABLE_RULES: Record<keyof Capabilities["iptables"], string[]> = {
  NFQUEUE: ["-j", "NFQUEUE", "--queue-balance", "0:1", "--queue-bypass"],
  CONNMARK: ["-j", "CONNMARK", "--restore-mark", "--nfmask", "0xff00", "--ctmask", "0xff00"],
  CLASSIFY: ["-j", "CLASSIFY", "--set-class", "1:10"],
  connbytes: [
    "-m",
    "connbytes",
    "--connbytes",
    "0:10",
    "--connbytes-mode",
    "packets",
    "--connbytes-dir",
    "both",
  ],
  mark: ["-m", "mark", "--mark", "0x100/0xff00"],
  comment: ["-m", "comment", "--comment", "probe"],
};

async function probeTables(
  exec: Executor,
  bin: "iptables" | "ip6tables",
  oneByOne: boolean,
): Promise<Capabilities["iptables"]> {
  const names = Object.keys(TABLE_RULES) as (keyof Capabilities["iptables"])[];
  const none = Object.fromEntries(names.map((n) => [n, false])) as Capabilities["iptables"];
  const restore = (lines: string[]) =>
    exec.run([`${bin}-restore`, "-w", "--noflush"], {
      input: ["*mangle", ...lines, "COMMIT", ""].join("\n"),
    });
  const remove = () => restore([`-F ${CHAIN}`, `-X ${CHAIN}`]);
  if (!oneByOne) {
    // the chain (emptied if a crashed run left it) and every rule, in one transaction
    const all = await restore([
      `:${CHAIN} - [0:0]`,
      ...names.map((n) => `-A ${CHAIN} ${TABLE_RULES[n].join(" ")}`),
    ]);
    if (all.code === 0) {
      await remove();
      return Object.fromEntries(names.map((n) => [n, true])) as Capabilities["iptables"];
    }
  }
  const t = (args: string[]) => exec.run([bin, "-w", "-t", "mangle", ...args]);
  await t(["-F", CHAIN]);
  await t(["-X", CHAIN]);
  if ((await t(["-N", CHAIN])).code !== 0) return none;
  try {
    const out = { ...none };
    for (const n of names) out[n] = (await t(["-A", CHAIN, ...TABLE_RULES[n]])).code === 0;
    return out;
  } finally {
    await t(["-F", CHAIN]);
    await t(["-X", CHAIN]);
  }
}

/**
 * nftables as the renderer uses it (render/nft.ts, render/nft-connmark.ts): named counters
 * behind a mark → counter map, a mark → classid map feeding `meta priority`, a device
 * verdict map, the connection mark restored at prerouting and saved at postrouting (masked
 * copies and constant ORs), all in one transaction; then the table is removed.
 */
function nftScript(): string[] {
  return [
    "  counter c1 { }",
    '  map counters { type mark : counter; elements = { 0x100 : "c1" } }',
    "  map classes { type mark : classid; elements = { 0x100 : 1:10 } }",
    "  chain pre {",
    "    type filter hook prerouting priority mangle - 10; policy accept;",
    "    ct status & (expected | confirmed) == confirmed meta mark & 0xff == 0 meta mark set ct mark & 0xffffff00 accept",
    "    meta mark & 0xff != 0 ct mark & 0x100 != 0 meta mark set meta mark | 0x100",
    "  }",
    "  chain post {",
    "    type filter hook postrouting priority mangle; policy accept;",
    "    ct mark & 0xfe00 == 0 meta mark & 0xfe00 != 0 ct mark set meta mark & 0xffffff00",
    "    counter name meta mark & 0xff00 map @counters",
    '    oifname vmap { "lo" : jump dev0 }',
    "  }",
    "  chain dev0 {",
    "    meta mark & 0xffff0000 == 0 meta priority set meta mark & 0xff00 map @classes return",
    "  }",
  ];
}

/**
 * RTSP media maps as render/rtsp-media.ts declares them: an address . port . address . port
 * → mark map with timeouts, and the prerouting rule that looks a new connection up in it.
 */
function mediaScript(): string[] {
  return [
    "  map m4 { type ipv4_addr . inet_service . ipv4_addr . inet_service : mark; size 16; flags timeout; }",
    "  chain media {",
    "    type filter hook prerouting priority -160; policy accept;",
    "    ct state new ct mark set ip saddr . udp sport . ip daddr . udp dport map @m4",
    "  }",
  ];
}

/** The protocol a helper's probe object is declared for. */
const HELPER_L4: Record<HelperType, "tcp" | "udp"> = { ftp: "tcp", sip: "udp", tftp: "udp" };

/**
 * Each conntrack helper as render/nft.ts assigns it: a `ct helper` object of its type and a
 * prerouting rule that sets it (the kernel refuses an object whose helper it lacks).
 */
function helperScript(helpers: readonly HelperType[]): string[] {
  return [
    ...helpers.map((h) => `  ct helper h_${h} { type "${h}" protocol ${HELPER_L4[h]}; }`),
    "  chain pre {",
    "    type filter hook prerouting priority -160; policy accept;",
    ...helpers.flatMap((h, i) => [
      `    ct state new ${HELPER_L4[h]} dport ${i + 1} ct helper set "h_${h}"`,
      `    ct status expected ct helper "${h}" ct mark set ct mark & 0xffff00ff | 0x00000300`,
    ]),
    "  }",
  ];
}

/**
 * Loads a probe table with the body, one transaction (any leftover of a crashed run removed
 * first), then removes it (also after a failure: the failed transaction kept the leftover).
 */
async function tryNft(exec: Executor, body: string[]): Promise<boolean> {
  const table = `inet ${NFT_PROBE_TABLE}`;
  const script = [`table ${table}`, `delete table ${table}`, `table ${table} {`, ...body, "}", ""].join("\n");
  const r = await exec.run(["nft", "-f", "-"], { input: script });
  await exec.run(["nft", "delete", "table", "inet", NFT_PROBE_TABLE]);
  return r.code === 0;
}

async function probeNftAndHelpers(
  exec: Executor,
  oneByOne: boolean,
): Promise<Pick<Capabilities, "nftables" | "ctHelpers" | "rtspMaps">> {
  const none = { ftp: false, sip: false, tftp: false };
  // the usual case (the appliance): everything at once
  if (!oneByOne && (await tryNft(exec, [...nftScript(), ...helperScript(HELPER_TYPES), ...mediaScript()])))
    return { nftables: true, ctHelpers: { ftp: true, sip: true, tftp: true }, rtspMaps: true };
  const nftables = await tryNft(exec, nftScript());
  if (!nftables) return { nftables, ctHelpers: none, rtspMaps: false };
  const ctHelpers = { ...none };
  for (const h of HELPER_TYPES) ctHelpers[h] = await tryNft(exec, helperScript([h]));
  return { nftables, ctHelpers, rtspMaps: await tryNft(exec, mediaScript()) };
}
