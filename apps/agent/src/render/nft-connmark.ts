// The connection mark in nftables (when the kernel has it): the restore at prerouting and
// the save at postrouting, as rules of Sluice's own base chains, so a decided packet walks
// no iptables mangle PREROUTING/POSTROUTING chain (each hook traversal costs about as much
// as its rules; docs/bench.md, issue 10). Without nftables, SLUICE_PRE/SLUICE_POST do it.
//
// Sluice owns `ownMask` of both marks; the other bits (the low byte by default) belong to
// whoever else marks: the restore keeps the packet's, the save the connection's, as
// CONNMARK --nfmask/--ctmask do. nft 1.0 cannot OR two registers (`meta mark set ct mark &
// own | meta mark & keep` is refused: "Right hand side of binary operation (|) must be
// constant"), so the common case (those other bits are 0 on the side that is overwritten)
// is one masked copy, and the rare case goes to a chain that copies bit by bit.

import type { KernelModel } from "./model.ts";
import { MARK_UNSET } from "./model.ts";

export interface ConnmarkRule {
  text: string;
  refs: string[];
}

export const NFT_RESTORE_CHAIN = "restore";
export const NFT_RESTORE_BITS_CHAIN = "restore_bits";
export const NFT_SAVE_CHAIN = "save";
export const NFT_SAVE_BITS_CHAIN = "save_bits";

const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

/** Whether the variant keeps the connection mark in nftables (it has nftables). */
export const connmarkInNft = (m: KernelModel): boolean => m.variant.accounting === "nft";

/** Sluice's bits, one by one (the rare chains copy each). */
function ownBits(m: KernelModel): number[] {
  const bits: number[] = [];
  for (let b = 0; b < 32; b++) if ((m.ownMask >>> b) & 1) bits.push((1 << b) >>> 0);
  return bits;
}

/**
 * Packet mark ← (packet mark & keep) | (ct mark & own). The base chain jumps (goto) here
 * once its related-connection rules are done, so a connection they just marked is restored
 * at its first packet.
 */
export function restoreChains(m: KernelModel): { name: string; rules: ConnmarkRule[] }[] {
  return copyChains(m, "meta mark", "ct mark", NFT_RESTORE_CHAIN, NFT_RESTORE_BITS_CHAIN);
}

/**
 * The restore in one rule, for the common case (none of the packet's other bits set): the
 * prerouting chain's first rule for a confirmed connection nobody expected, so that a
 * decided packet walks one rule there. Accept ends Sluice's chain only.
 */
export function restoreFast(m: KernelModel): string {
  if (m.ownMask >>> 0 === 0xffffffff) return "meta mark set ct mark accept";
  return `meta mark & ${hex8(~m.ownMask >>> 0)} == ${hex8(0)} meta mark set ct mark & ${hex8(m.ownMask)} accept`;
}

/** The post chain's rule that saves a decided mark to the connection, once (while the
 * connection's own protocol field is still 0 or unset), and the chains it jumps to. */
export function saveRule(m: KernelModel): ConnmarkRule {
  const undecided = hex8(m.mask & ~(MARK_UNSET << m.shift));
  const zero = hex8(0);
  return {
    text: `ct mark & ${undecided} == ${zero} meta mark & ${undecided} != ${zero} jump ${NFT_SAVE_CHAIN}`,
    refs: [NFT_SAVE_CHAIN],
  };
}

/** Ct mark ← (ct mark & keep) | (packet mark & own). */
export function saveChains(m: KernelModel): { name: string; rules: ConnmarkRule[] }[] {
  return copyChains(m, "ct mark", "meta mark", NFT_SAVE_CHAIN, NFT_SAVE_BITS_CHAIN);
}

/** to ← (to & keep) | (from & own): one masked copy when none of `to`'s other bits are set,
 * else bit by bit (nft 1.0.6 cannot OR two registers). Restore and save are its two ways. */
function copyChains(
  m: KernelModel,
  to: "meta mark" | "ct mark",
  from: "meta mark" | "ct mark",
  chain: string,
  bitsChain: string,
): { name: string; rules: ConnmarkRule[] }[] {
  const own = hex8(m.ownMask);
  const keep = hex8(~m.ownMask >>> 0);
  const zero = hex8(0);
  // Sluice owns every bit: a plain copy.
  if (m.ownMask >>> 0 === 0xffffffff)
    return [{ name: chain, rules: [{ text: `${to} set ${from}`, refs: [] }] }];
  return [
    {
      name: chain,
      rules: [
        { text: `${to} & ${keep} != ${zero} goto ${bitsChain}`, refs: [bitsChain] },
        { text: `${to} set ${from} & ${own}`, refs: [] },
      ],
    },
    {
      name: bitsChain,
      rules: [
        { text: `${to} set ${to} & ${keep}`, refs: [] },
        ...ownBits(m).map((bit) => ({
          text: `${from} & ${hex8(bit)} != ${zero} ${to} set ${to} | ${hex8(bit)}`,
          refs: [],
        })),
      ],
    },
  ];
}
