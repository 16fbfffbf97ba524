// KernelModel → `iptables-restore --noflush` input for the mangle table, touching only
// Sluice's own chains (declaring a chain in a --noflush restore flushes just that chain).
// Rules are typed data first; the text uses the exact form iptables-save prints, so the
// applier can verify what the kernel holds line by line.
//
// Packet path: the connection's mark is restored at prerouting by Sluice's nftables table
// (render/nft-connmark.ts), or without nftables by PREROUTING → SLUICE_PRE; FORWARD jumps to
// SLUICE_FWD only for an undecided connection (protocol field 0 or unset), DNS answers and
// RTSP control (hooksOf): a decided packet walks three tests and no chain of Sluice's; in
// SLUICE_FWD an undecided connection inside the inspection window goes to NFQUEUE
// (--queue-bypass: if the agent is down, traffic flows unclassified); an undecided one past
// the window (its first packets were lost: a full queue failed open, the agent restarted)
// gets "unknown" and goes to the queue once more so the data plane records the verdict
// (fail-open, the verdict stays). FORWARD, not PREROUTING: there the replies of a
// masqueraded connection already carry the LAN address again (de-NAT happens in
// PREROUTING after mangle), so the data plane sees both directions under one 5-tuple.
// The nftables table's post chain (or without nftables POSTROUTING → SLUICE_POST) saves a
// decided mark to the connection, once: only while the connection's own mark is still
// undecided. Counting per protocol and application and
// mapping marks to classes is done by nftables maps (render/nft.ts) where the kernel has
// them; otherwise by linear iptables chains: SLUICE_ACCT (one rule per protocol),
// SLUICE_APPS (one per app) and the CLASSIFY target (when cls_fw is missing too).
//
// The mark has three fields (see model.ts): protocol, application, hostname rule. DNS
// answers to LAN clients always go to the queue (one rule matching source port 53 in
// SLUICE_FWD for outside resolvers, one in OUTPUT → SLUICE_OUT for the box's own), whatever
// their connection's state, so the data plane's DNS cache learns what each client looked up.

import { scriptSafe } from "@sluice/policy";
import type { KernelModel } from "./model.ts";
import { RTSP_CONTROL_PACKETS } from "./rtsp-media.ts";
import { connmarkInNft } from "./nft-connmark.ts";
import {
  CHAIN_ACCT,
  CHAIN_APPS,
  CHAIN_FWD,
  CHAIN_OUT,
  CHAIN_POST,
  CHAIN_PRE,
  MARK_UNKNOWN,
  MARK_UNSET,
  fieldValue,
  markValue,
} from "./model.ts";

export type Family = 4 | 6;

export interface Rule {
  chain: string;
  spec: string[];
}

/** Every chain Sluice may own (read back, removed on teardown). */
export const SLUICE_CHAINS = [CHAIN_PRE, CHAIN_FWD, CHAIN_OUT, CHAIN_POST, CHAIN_ACCT, CHAIN_APPS] as const;

/** The chains a model uses: with nftables, the queue chains only (the connection mark is
 * restored and saved in Sluice's nftables table, render/nft-connmark.ts); without, the
 * connmark chains and the accounting chains too. */
export function chainsOf(m: KernelModel): string[] {
  return connmarkInNft(m) ? [CHAIN_FWD, CHAIN_OUT] : [...SLUICE_CHAINS];
}
const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** Every unconditional jump from a built-in chain Sluice may install (FORWARD's jumps are
 * conditional: see hooksOf). */
export const HOOKS: Rule[] = [
  { chain: "PREROUTING", spec: ["-j", CHAIN_PRE] },
  { chain: "FORWARD", spec: ["-j", CHAIN_FWD] },
  { chain: "OUTPUT", spec: ["-j", CHAIN_OUT] },
  { chain: "POSTROUTING", spec: ["-j", CHAIN_POST] },
];

/** The built-in chains Sluice jumps from. */
export const HOOK_CHAINS = HOOKS.map((h) => h.chain);

/** Whether an iptables-save line is a jump from a built-in chain to one of Sluice's chains
 * (any match before the jump: FORWARD's are conditional). */
export function isHookLine(line: string): boolean {
  const chain = /^-A (\S+) /.exec(line)?.[1];
  return !!chain && HOOK_CHAINS.includes(chain) && SLUICE_CHAINS.some((c) => line.endsWith(` -j ${c}`));
}

/**
 * The jumps a model uses (those to its chains), in order. FORWARD jumps to SLUICE_FWD only
 * for the packets it acts on: an undecided connection's (protocol field 0 or unset), DNS
 * answers and, with RTSP media expected, an RTSP control connection's. A decided packet
 * walks three short tests in FORWARD and no chain of Sluice's: no jump, no return (each rule
 * and jump a decided packet walks costs about as much as the minimal rules' own on a small
 * box; docs/bench.md, issue 10).
 */
export function hooksOf(m: KernelModel): Rule[] {
  const chains = chainsOf(m);
  const undecided = `0x0/${hex(m.mask & ~(MARK_UNSET << m.shift))}`;
  const rtsp = m.related.rtspMedia;
  const forward: Rule[] = [
    { chain: "FORWARD", spec: ["-m", "mark", "--mark", undecided, "-j", CHAIN_FWD] },
    { chain: "FORWARD", spec: ["-p", "udp", "-m", "udp", "--sport", "53", "-j", CHAIN_FWD] },
    ...(rtsp
      ? [
          {
            chain: "FORWARD",
            spec: ["-p", "tcp", "-m", "mark", "--mark", markValue(m, rtsp.control), "-j", CHAIN_FWD],
          },
        ]
      : []),
  ];
  return HOOKS.filter((h) => chains.includes(h.spec[1]!)).flatMap((h) =>
    h.chain === "FORWARD" ? forward : [h],
  );
}

export function buildRules(m: KernelModel, family: Family): Rule[] {
  const own = hex(m.ownMask);
  // Protocol field 0 (untouched) or 1 (unset): the field's mask without its lowest bit.
  const undecided = `0x0/${hex(m.mask & ~(MARK_UNSET << m.shift))}`;
  // Several queues: --queue-balance alone. Its hash is symmetric on the addresses, so both
  // directions of a connection reach the same worker's flow table; --queue-cpu-fanout
  // (queue by CPU) would split them and the patterns would see half a conversation.
  const queue =
    m.queues.first === m.queues.last
      ? ["-j", "NFQUEUE", "--queue-num", String(m.queues.first), "--queue-bypass"]
      : ["-j", "NFQUEUE", "--queue-balance", `${m.queues.first}:${m.queues.last}`, "--queue-bypass"];
  const firstPackets = (n: number) => [
    "-m",
    "connbytes",
    "--connbytes",
    `0:${n}`,
    "--connbytes-mode",
    "packets",
    "--connbytes-dir",
    "both",
  ];
  const window = firstPackets(m.window.packets);
  const classify = family === 4 || m.variant.ipv6;
  const legacy = !connmarkInNft(m);
  const rules: Rule[] = legacy
    ? [{ chain: CHAIN_PRE, spec: ["-j", "CONNMARK", "--restore-mark", "--nfmask", own, "--ctmask", own] }]
    : [];
  if (classify) {
    // Only the packets hooksOf's FORWARD jumps select get here: undecided ones, DNS answers
    // (always queued), RTSP control (queued for its first packets).
    const dnsAnswers = ["-p", "udp", "-m", "udp", "--sport", "53", ...queue];
    rules.push({ chain: CHAIN_FWD, spec: dnsAnswers });
    rules.push({ chain: CHAIN_OUT, spec: ["!", "-o", "lo", ...dnsAnswers] });
    const rtsp = m.related.rtspMedia;
    if (rtsp) {
      // An RTSP control connection stays queued for its first packets, decided or not: the
      // data plane reads its SETUP replies for the media to expect (render/rtsp-media.ts).
      const control = ["-m", "mark", "--mark", markValue(m, rtsp.control)];
      const first = firstPackets(RTSP_CONTROL_PACKETS);
      rules.push({ chain: CHAIN_FWD, spec: ["-p", "tcp", ...control, ...first, ...queue] });
    }
    rules.push({ chain: CHAIN_FWD, spec: ["-m", "mark", "!", "--mark", undecided, "-j", "RETURN"] });
    rules.push({ chain: CHAIN_FWD, spec: [...window, ...queue] });
    rules.push({ chain: CHAIN_FWD, spec: ["-j", "MARK", "--set-xmark", markValue(m, MARK_UNKNOWN)] });
    rules.push({ chain: CHAIN_FWD, spec: queue });
  }
  if (!legacy) return rules;
  rules.push({
    chain: CHAIN_POST,
    spec: [
      "-m",
      "connmark",
      "--mark",
      undecided,
      "-m",
      "mark",
      "!",
      "--mark",
      undecided,
      "-j",
      "CONNMARK",
      "--save-mark",
      "--nfmask",
      own,
      "--ctmask",
      own,
    ],
  });
  if (m.variant.filter === "CLASSIFY") {
    // CLASSIFY does not stop the chain: the last match wins, so the least specific field
    // goes first (protocol, application, hostname rule).
    for (const field of ["protocol", "app", "host"] as const) {
      for (const d of m.devices) {
        for (const r of d.routes) {
          if (r.field !== field) continue;
          const [maj, min] = r.classid.split(":") as [string, string];
          const cls = `${maj.padStart(4, "0")}:${min.padStart(4, "0")}`;
          rules.push({
            chain: CHAIN_POST,
            spec: [
              "-o",
              d.device,
              "-m",
              "mark",
              "--mark",
              fieldValue(m, r.field, r.value),
              "-j",
              "CLASSIFY",
              "--set-class",
              cls,
            ],
          });
        }
      }
    }
  }
  if (m.variant.accounting !== "iptables") return rules;
  if (m.appAccounting.length)
    rules.push({
      chain: CHAIN_POST,
      spec: ["-m", "mark", "!", "--mark", `0x0/${hex(m.app.mask)}`, "-j", CHAIN_APPS],
    });
  rules.push({ chain: CHAIN_POST, spec: ["-j", CHAIN_ACCT] });
  for (const a of m.accounting) {
    rules.push({
      chain: CHAIN_ACCT,
      spec: [
        "-m",
        "mark",
        "--mark",
        markValue(m, a.l7mark),
        "-m",
        "comment",
        "--comment",
        `sluice:${a.protocol}`,
        "-j",
        "RETURN",
      ],
    });
  }
  for (const a of m.appAccounting) {
    rules.push({
      chain: CHAIN_APPS,
      spec: [
        "-m",
        "mark",
        "--mark",
        fieldValue(m, "app", a.id),
        "-m",
        "comment",
        "--comment",
        `sluice-app:${a.app}`,
        "-j",
        "RETURN",
      ],
    });
  }
  return rules;
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_.:/!+=-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\])/g, "\\$1")}"`;
}

/**
 * One rule as iptables-save prints it (`-A CHAIN ...`); it always quotes comments. Arguments
 * are printable ASCII (anything else becomes "?"): a comment naming a protocol or an app
 * can never end the line.
 */
export function ruleLine(r: Rule, verb = "-A"): string {
  const args = r.spec.map((raw, i) => {
    const a = scriptSafe(raw);
    return r.spec[i - 1] === "--comment" ? `"${a.replace(/(["\\])/g, "\\$1")}"` : quote(a);
  });
  return [verb, r.chain, ...args].join(" ");
}

/** The restore line that deletes a rule read back from iptables-save (`-A …` → `-D …`). */
const deleteLine = (saved: string) => saved.replace(/^-A /, "-D ");

/** The restore input: declare (and so flush) our chains, optionally hook them, refill them. */
export function renderIptables(
  m: KernelModel,
  family: Family,
  opts: {
    /** Insert the model's jumps from built-in chains (hooksOf). */
    addHooks: boolean;
    removeChains?: readonly string[];
    /** Jumps from built-in chains installed now (iptables-save lines, isHookLine), deleted
     * first: those of an earlier layout, or the model's own when they are replaced. */
    removeHooks?: readonly string[];
  },
): string {
  const out = ["*mangle", ...chainsOf(m).map((c) => `:${c} - [0:0]`)];
  // Chains of an earlier layout this one does not use (jumped to from SLUICE_POST, which
  // the restore flushes, or from a built-in chain, whose jump goes first): declared
  // (flushed) and deleted in the same transaction.
  const stale = (opts.removeChains ?? []).filter((c) => !chainsOf(m).includes(c));
  for (const c of stale) out.push(`:${c} - [0:0]`);
  for (const line of opts.removeHooks ?? []) out.push(deleteLine(line));
  if (opts.addHooks) {
    // At the top of each built-in chain, in the model's order.
    const at = new Map<string, number>();
    for (const h of hooksOf(m)) {
      const n = (at.get(h.chain) ?? 0) + 1;
      at.set(h.chain, n);
      out.push(ruleLine(h, "-I").replace(`-I ${h.chain}`, `-I ${h.chain} ${n}`));
    }
  }
  for (const r of buildRules(m, family)) out.push(ruleLine(r));
  for (const c of stale) out.push(`-X ${c}`);
  out.push("COMMIT", "");
  return out.join("\n");
}

/** Restore input that removes every trace of Sluice from the mangle table. */
export function renderIptablesTeardown(opts: {
  /** The jumps to Sluice's chains installed in built-in chains (iptables-save lines). */
  hooksPresent: readonly string[];
  chainsPresent: readonly string[];
}): string {
  if (!opts.chainsPresent.length && !opts.hooksPresent.length) return "";
  const out = ["*mangle"];
  for (const c of opts.chainsPresent) out.push(`:${c} - [0:0]`);
  for (const line of opts.hooksPresent) out.push(deleteLine(line));
  for (const c of opts.chainsPresent) out.push(`-X ${c}`);
  out.push("COMMIT", "");
  return out.join("\n");
}
