// Parsers for the kernel's counters: `tc -s class show`, the SLUICE_ACCT chain's
// counters (`iptables -nvxL`), and `conntrack -L` lines with their marks and byte counts.

export interface ClassCounters {
  classid: string;
  parent: string | null;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  backlogBytes: number;
  backlogPackets: number;
}

function bytesOf(text: string): number {
  const m = /^(\d+)([KMG]?)b$/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2] as "" | "K" | "M" | "G"];
}

export function parseTcClassStats(text: string): ClassCounters[] {
  const out: ClassCounters[] = [];
  let cur: ClassCounters | null = null;
  for (const line of text.split("\n")) {
    const head = /^class \S+ (\S+) (?:parent (\S+)|root)/.exec(line);
    if (head) {
      cur = {
        classid: head[1]!,
        parent: head[2] ?? null,
        bytes: 0,
        packets: 0,
        drops: 0,
        overlimits: 0,
        backlogBytes: 0,
        backlogPackets: 0,
      };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(line);
    if (sent) {
      cur.bytes = Number(sent[1]);
      cur.packets = Number(sent[2]);
      cur.drops = Number(sent[3]);
      cur.overlimits = Number(sent[4]);
    }
    const backlog = /backlog (\S+) (\d+)p/.exec(line);
    if (backlog) {
      cur.backlogBytes = bytesOf(backlog[1]!);
      cur.backlogPackets = Number(backlog[2]);
    }
  }
  return out;
}

export interface AcctCounter {
  protocol: string;
  packets: number;
  bytes: number;
}

/** `iptables -t mangle -nvxL SLUICE_ACCT` → counters per `sluice:<protocol>` comment. */
export function parseAcctChain(text: string, tag = "sluice"): AcctCounter[] {
  const out: AcctCounter[] = [];
  const re = new RegExp(`^\\s*(\\d+)\\s+(\\d+)\\s+.*\\/\\* ${tag}:(\\S+) \\*\\/`);
  for (const line of text.split("\n")) {
    const m = re.exec(line);
    if (m) out.push({ protocol: m[3]!, packets: Number(m[1]), bytes: Number(m[2]) });
  }
  return out;
}

export interface ConntrackEntry {
  l4: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  bytes: number;
  packets: number;
  mark: number;
  state: string | null;
}

/** One `conntrack -L` line (accounting enabled: packets= and bytes= per direction). */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const l4 = /^(?:ipv[46]\s+\d+\s+)?(tcp|udp)\s+\d+\s+\d+\s+(?:([A-Z_]+)\s+)?/.exec(line);
  if (!l4) return null;
  const get = (k: string) => [...line.matchAll(new RegExp(`\\b${k}=(\\S+)`, "g"))].map((m) => m[1]!);
  const src = get("src");
  const dst = get("dst");
  const sport = get("sport");
  const dport = get("dport");
  const bytes = get("bytes").map(Number);
  const packets = get("packets").map(Number);
  if (!src[0] || !dst[0] || !sport[0] || !dport[0]) return null;
  return {
    l4: l4[1]!,
    src: src[0],
    dst: dst[0],
    sport: Number(sport[0]),
    dport: Number(dport[0]),
    bytes: bytes.reduce((a, b) => a + b, 0),
    packets: packets.reduce((a, b) => a + b, 0),
    mark: Number(get("mark")[0] ?? 0),
    state: l4[2] ?? null,
  };
}

export interface NftCounter {
  name: string;
  packets: number;
  bytes: number;
}

/** A map element's counter (key: the element's mark). */
export interface NftElementCounter {
  key: number;
  packets: number;
  bytes: number;
}

/** `nft -j list map inet <table> <map>` → each element's key (a number) and counter. */
export function parseNftElementCounters(text: string): NftElementCounter[] {
  type Elem = { elem?: { val?: unknown; counter?: { packets?: unknown; bytes?: unknown } } };
  const items = (JSON.parse(text) as { nftables?: { map?: { elem?: unknown[] } }[] }).nftables ?? [];
  return items.flatMap((it) =>
    (it.map?.elem ?? []).flatMap((e) => {
      const k = (Array.isArray(e) ? e[0] : e) as Elem;
      const c = k?.elem?.counter;
      if (typeof k?.elem?.val !== "number" || !c) return [];
      return [{ key: k.elem.val, packets: Number(c.packets), bytes: Number(c.bytes) }];
    }),
  );
}

/** `nft -j list counters table ...` → every named counter. */
export function parseNftCounters(text: string): NftCounter[] {
  const items = (JSON.parse(text) as { nftables?: { counter?: NftCounter }[] }).nftables ?? [];
  return items.flatMap((it) =>
    it.counter
      ? [
          {
            name: String(it.counter.name),
            packets: Number(it.counter.packets),
            bytes: Number(it.counter.bytes),
          },
        ]
      : [],
  );
}

/**
 * `iptables -t mangle -nvxL SLUICE_FWD` → packets of the rule that marks connections past
 * their window still undecided as unknown (`MARK xset ...`), or 0 when it is not there.
 */
export function parseLateRuleCount(text: string): number {
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+\d+\s+MARK\s.*\bMARK xset\b/.exec(line);
    if (m) return Number(m[1]);
  }
  return 0;
}
