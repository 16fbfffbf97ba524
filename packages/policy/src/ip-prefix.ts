// IPv4/IPv6 addresses and prefixes as policies write them ("10.1.0.2", "10.1.0.0/24",
// "fd00::5", "fd00::/64"), parsed without node:net (this package also runs in the browser).

export interface IpPrefix {
  family: 4 | 6;
  /** The address as nft prints it back (IPv4 dotted, IPv6 compressed lowercase). */
  address: string;
  length: number;
  /** Bits set after the prefix length ("10.1.0.5/24"). */
  hostBits: boolean;
}

function hostBitsSet(bytes: number[], length: number): boolean {
  return bytes.some((b, i) => {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    return (b & (0xff >> keep)) !== 0;
  });
}

function v4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : 256));
  return out.every((n) => n <= 255) ? out : null;
}

function v6(s: string): number[] | null {
  if (!/^[0-9a-f:.]+$/i.test(s) || s.split("::").length > 2) return null;
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const groups = (x: string | undefined) => (x ? x.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const words: number[] = [];
  const push = (gs: string[]) => {
    for (const [k, g] of gs.entries()) {
      if (k === gs.length - 1 && g.includes(".")) {
        const b = v4(g);
        if (!b) return false;
        words.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) words.push(parseInt(g, 16));
      else return false;
    }
    return true;
  };
  if (!push(h)) return null;
  const before = words.length;
  if (!push(t)) return null;
  const after = words.splice(before);
  if (tail === undefined) return words.length === 8 ? words : null;
  const fill = 8 - words.length - after.length;
  if (fill < 1) return null;
  return [...words, ...Array<number>(fill).fill(0), ...after];
}

function v6Text(w: number[]): string {
  // the longest run of ≥ 2 zero words becomes "::" (RFC 5952)
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The address or prefix, or null when it is neither. */
export function parseIpPrefix(s: string): IpPrefix | null {
  const [addr, len, extra] = s.trim().split("/");
  if (extra !== undefined || !addr) return null;
  const a4 = v4(addr);
  const a6 = a4 ? null : v6(addr);
  if (!a4 && !a6) return null;
  const max = a4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return null;
  const length = len === undefined ? max : Number(len);
  if (length > max) return null;
  const bytes = a4 ?? a6!.flatMap((w) => [w >> 8, w & 0xff]);
  const hostBits = hostBitsSet(bytes, length);
  return a4
    ? { family: 4, address: a4.join("."), length, hostBits }
    : { family: 6, address: v6Text(a6!), length, hostBits };
}

/** "10.1.0.0/24", or the bare address for a single host. */
export function formatIpPrefix(p: IpPrefix): string {
  return p.length === (p.family === 4 ? 32 : 128) ? p.address : `${p.address}/${p.length}`;
}
