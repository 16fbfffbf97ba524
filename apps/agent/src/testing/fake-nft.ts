// The nftables half of FakeKernel: keeps the tables `nft -f` defined (counters, maps,
// chains and their rules, as text) and answers `nft -j list table|counters` in nft's JSON
// form, so the applier's nft step, its read-back and verify, and the sampler's counter
// reads run as on a kernel with nf_tables. A script applies whole or not at all (one
// transaction, like nft). It understands what render/nft.ts writes: `table`, `delete
// table`, and a table block of counters, quotas, `ct helper`s, `type mark|ipv4_addr|ipv6_addr :
// counter|classid` maps (with `counter`: a counter per element), tuple → mark maps with `size` and `flags timeout` (RTSP media) and
// chains (a block adds to what is there, as `nft -f` does); and the agent's live `add
// element` / `delete element` lines for those maps.

export class NftRefused extends Error {}

interface NftCounter {
  packets: number;
  bytes: number;
}

interface NftMap {
  /** The key type; a concatenation as "a . b . c". */
  type: string;
  data: string;
  /** Key (a number for marks, an address or a concatenation as text) and value. */
  elements: [number | string, string][];
  size?: number;
  flags?: string[];
  /** Seconds each element with a timeout was given (RTSP media maps), by key. */
  timeouts?: Record<string, number>;
  /** A counter per element (`counter` in the map's block), by key. */
  counters?: Map<number | string, NftCounter>;
}

interface NftHelper {
  type: string;
  protocol: string;
}

interface NftChain {
  hook: string | null;
  prio: number | null;
  policy: string | null;
  rules: string[];
}

interface NftQuota {
  bytes: number;
  used: number;
  inv: boolean;
}

interface NftTableState {
  counters: Map<string, NftCounter>;
  quotas: Map<string, NftQuota>;
  helpers: Map<string, NftHelper>;
  maps: Map<string, NftMap>;
  chains: Map<string, NftChain>;
}

/** nft's priority names (the netfilter hook priorities). */
const PRIORITY: Record<string, number> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

const emptyTable = (): NftTableState => ({
  counters: new Map(),
  quotas: new Map(),
  helpers: new Map(),
  maps: new Map(),
  chains: new Map(),
});

function cloneTables(t: Map<string, NftTableState>): Map<string, NftTableState> {
  return structuredClone(t);
}

export class FakeNft {
  /** Tables by "family name" (e.g. "inet sluice"). */
  tables = new Map<string, NftTableState>();
  /** Every script `nft -f` applied, in order. */
  readonly scripts: string[] = [];

  /** `nft ARGS` (stdin for `-f -`): stdout, or NftRefused with nft's message. */
  run(args: string[], input: string | undefined): string {
    if (args[0] === "-f") {
      if (args[1] !== "-") throw new NftRefused(`fake nft: only -f - is supported`);
      this.apply(input ?? "");
      this.scripts.push(input ?? "");
      return "";
    }
    const json = args[0] === "-j";
    const a = json ? args.slice(1) : args;
    if (a[0] === "delete" && a[1] === "table" && a.length === 4) {
      const key = `${a[2]} ${a[3]}`;
      if (!this.tables.delete(key)) throw noSuchTable(key);
      return "";
    }
    if (json && a[0] === "list" && a[1] === "table" && a.length === 4)
      return this.listTable(`${a[2]} ${a[3]}`);
    if (json && a[0] === "list" && a[1] === "counters" && a[2] === "table" && a.length === 5)
      return this.listCounters(`${a[3]} ${a[4]}`);
    if (json && a[0] === "list" && a[1] === "quotas" && a[2] === "table" && a.length === 5)
      return this.listQuotas(`${a[3]} ${a[4]}`);
    if (json && a[0] === "list" && a[1] === "map" && a.length === 5)
      return this.listMap(`${a[2]} ${a[3]}`, a[4]!);
    throw new NftRefused(`fake nft: nft ${args.join(" ")} not supported`);
  }

  /** Counts traffic on a named counter of a table, if the table holds it (as a packet would). */
  count(table: string, name: string, bytes: number, packets = Math.ceil(bytes / 1200)): void {
    const c = this.tables.get(table)?.counters.get(name);
    if (!c) return;
    c.bytes += Math.round(bytes);
    c.packets += packets;
  }

  /** Counts traffic on a counted map's element (as its lookup would); false: no such element. */
  countElement(
    table: string,
    map: string,
    key: number,
    bytes: number,
    packets = Math.ceil(bytes / 1200),
  ): boolean {
    const c = this.tables.get(table)?.maps.get(map)?.counters?.get(key);
    if (!c) return false;
    c.bytes += Math.round(bytes);
    c.packets += packets;
    return true;
  }

  /** Packets of a quota's target passing its object: the kernel counts every one. */
  consume(table: string, name: string, bytes: number): void {
    const q = this.tables.get(table)?.quotas.get(name);
    if (q) q.used += Math.round(bytes);
  }

  private apply(script: string): void {
    const tables = cloneTables(this.tables);
    const lines = script.split("\n").map((l) => l.trim());
    let i = 0; // the line being read (for messages: i is one past it)
    const refuse = (why: string): never => {
      throw new NftRefused(`/dev/stdin:${i}: Error: ${why}\n${lines[i - 1] ?? ""}`);
    };
    const next = (): string =>
      i < lines.length ? lines[i++]! : refuse("syntax error, unexpected end of file");
    const tableKey = (l: string) => {
      const m = /^table (inet|ip|ip6|arp|bridge|netdev) ([A-Za-z0-9_]+)(?: \{)?$/.exec(l);
      return m ? `${m[1]} ${m[2]}` : refuse("syntax error, unexpected table declaration");
    };
    /** The body of a `table … {` block, up to its closing brace. */
    const tableBlock = (t: NftTableState) => {
      for (let line = next(); line !== "}"; line = next()) {
        let m: RegExpExecArray | null;
        if ((m = /^counter ([A-Za-z0-9_]+) \{$/.exec(line))) {
          if (next() !== "}") refuse("syntax error in counter");
          // a block adds: an existing counter keeps its values
          if (!t.counters.has(m[1]!)) t.counters.set(m[1]!, { packets: 0, bytes: 0 });
        } else if ((m = /^quota ([A-Za-z0-9_]+) \{$/.exec(line))) {
          const q =
            /^(over|until) (\d+) bytes(?: used (\d+) bytes)?$/.exec(next()) ??
            refuse("syntax error in quota");
          if (next() !== "}") refuse("syntax error in quota");
          t.quotas.set(m[1]!, { bytes: Number(q[2]), used: Number(q[3] ?? 0), inv: q[1] === "over" });
        } else if ((m = /^ct helper ([A-Za-z0-9_-]+) \{$/.exec(line))) {
          const h = /^type "(\w+)" protocol (tcp|udp)$/.exec(next()) ?? refuse("syntax error in ct helper");
          if (next() !== "}") refuse("syntax error in ct helper");
          t.helpers.set(m[1]!, { type: h[1]!, protocol: h[2]! });
        } else if ((m = /^map ([A-Za-z0-9_]+) \{$/.exec(line))) {
          const name = m[1]!;
          const type = /^type (\w+(?: \. \w+)*) : (\w+)$/.exec(next()) ?? refuse("syntax error in map type");
          const elements: [number | string, string][] = [];
          let l = next();
          let size: number | undefined;
          let flags: string[] | undefined;
          let counted = false;
          for (;;) {
            const sz = /^size (\d+)$/.exec(l);
            const fl = /^flags (\w+(?:, ?\w+)*)$/.exec(l);
            if (sz) size = Number(sz[1]);
            else if (fl) flags = fl[1]!.split(/, ?/);
            else if (l === "counter") counted = true;
            else break;
            l = next();
          }
          const els = /^elements = \{ (.*) \}$/.exec(l);
          if (els) {
            for (const e of els[1]!.split(", ")) {
              const kv =
                /^(0x[0-9a-f]+|\d+) : "?([A-Za-z0-9_:]+)"?$/.exec(e) ?? refuse(`bad map element "${e}"`);
              if (type[2] === "counter" && !t.counters.has(kv[2]!))
                refuse(`Could not process rule: No such file or directory (counter ${kv[2]})`);
              elements.push([Number(kv[1]), kv[2]!]);
            }
            l = next();
          }
          if (l !== "}") refuse("syntax error in map");
          const old = t.maps.get(name);
          if (old && (old.type !== type[1] || old.data !== type[2]))
            refuse(`Could not process rule: File exists`);
          const kept = (old?.elements ?? []).filter(([k]) => !elements.some(([n]) => n === k));
          t.maps.set(name, {
            type: type[1]!,
            data: type[2]!,
            elements: [...kept, ...elements],
            ...(size !== undefined ? { size } : {}),
            ...(flags ? { flags } : {}),
            ...(old?.timeouts ? { timeouts: old.timeouts } : {}),
            ...(counted
              ? {
                  counters: new Map(
                    [...kept, ...elements].map(([k]) => [
                      k,
                      old?.counters?.get(k) ?? { packets: 0, bytes: 0 },
                    ]),
                  ),
                }
              : {}),
          });
        } else if ((m = /^chain ([A-Za-z0-9_]+) \{$/.exec(line))) {
          const chain: NftChain = t.chains.get(m[1]!) ?? { hook: null, prio: null, policy: null, rules: [] };
          for (let l = next(); l !== "}"; l = next()) {
            const base =
              /^type filter hook (\w+) priority (-?\d+|\w+)(?: ([+-]) (\d+))?; policy (accept|drop);$/.exec(
                l,
              );
            if (base) {
              const named = /^-?\d+$/.test(base[2]!) ? Number(base[2]) : PRIORITY[base[2]!];
              if (named === undefined) refuse(`unknown priority ${base[2]}`);
              const prio = named! + (base[3] === "-" ? -1 : 1) * Number(base[4] ?? 0);
              Object.assign(chain, { hook: base[1]!, prio, policy: base[5]! });
              continue;
            }
            for (const ref of l.matchAll(/@([A-Za-z0-9_]+)/g))
              if (!t.maps.has(ref[1]!))
                refuse(`Could not process rule: No such file or directory (map ${ref[1]})`);
            for (const ref of l.matchAll(/quota name "([^"]+)"/g))
              if (!t.quotas.has(ref[1]!))
                refuse(`Could not process rule: No such file or directory (quota ${ref[1]})`);
            for (const ref of l.matchAll(/ct helper set "([^"]+)"/g))
              if (!t.helpers.has(ref[1]!))
                refuse(`Could not process rule: No such file or directory (ct helper ${ref[1]})`);
            chain.rules.push(l);
          }
          t.chains.set(m[1]!, chain);
        } else refuse(`syntax error, unexpected ${line.split(" ")[0]}`);
      }
    };
    /** `add element F T MAP { K timeout Ns : V }` / `delete element F T MAP { K }`. */
    const element = (line: string) => {
      const m =
        /^(add|delete) element (\w+) (\w+) (\w+) \{ ([0-9A-Fa-f:. ]+?)(?: timeout (\d+)s)?(?: : (0x[0-9a-f]+))? \}$/.exec(
          line,
        ) ?? refuse("syntax error in element");
      const [, verb, family, table, name, key, timeout, value] = m;
      const mp = tables.get(`${family} ${table}`)?.maps.get(name!);
      if (!mp) return refuse("Could not process rule: No such file or directory");
      if (key!.split(" . ").length !== mp.type.split(" . ").length) refuse("datatype mismatch");
      const at = mp.elements.findIndex(([k]) => k === key);
      if (verb === "delete") {
        if (at < 0) refuse("Could not process rule: No such file or directory");
        mp.elements.splice(at, 1);
        delete mp.timeouts?.[key!];
        return;
      }
      if (value === undefined) refuse("syntax error: a map element needs a value");
      if (at >= 0) {
        // the kernel: the same element again is nothing; another value is a conflict
        if (mp.elements[at]![1] !== String(Number(value))) refuse("Could not process rule: File exists");
        return;
      }
      if (mp.size !== undefined && mp.elements.length >= mp.size)
        refuse("Could not process rule: Too many open files in system");
      mp.elements.push([key!, String(Number(value))]);
      if (timeout !== undefined) (mp.timeouts ??= {})[key!] = Number(timeout);
    };
    while (i < lines.length) {
      const line = next();
      if (!line || line.startsWith("#")) continue;
      if (line.startsWith("delete table ")) {
        if (!tables.delete(tableKey(line.slice("delete ".length))))
          refuse("Could not process rule: No such file or directory");
      } else if (/^(add|delete) element /.test(line)) {
        element(line);
      } else if (line.startsWith("table ") && !line.endsWith("{")) {
        const key = tableKey(line);
        if (!tables.has(key)) tables.set(key, emptyTable());
      } else if (line.startsWith("table ")) {
        const key = tableKey(line);
        const t = tables.get(key) ?? emptyTable();
        tables.set(key, t);
        tableBlock(t);
      } else refuse(`syntax error, unexpected ${line.split(" ")[0]}`);
    }
    this.tables = tables;
  }

  private table(key: string): NftTableState {
    const t = this.tables.get(key);
    if (!t) throw noSuchTable(key);
    return t;
  }

  /** `nft -j list table F N`, in nft's JSON schema (libnftables-json). */
  private listTable(key: string): string {
    const t = this.table(key);
    const [family, table] = key.split(" ") as [string, string];
    let handle = 1;
    const items: Record<string, unknown>[] = [{ table: { family, name: table, handle: handle++ } }];
    for (const [name, c] of t.counters)
      items.push({ counter: { family, name, table, handle: handle++, ...c } });
    for (const [name, q] of t.quotas) items.push({ quota: quotaJson(family, table, name, q, handle++) });
    for (const [name, h] of t.helpers)
      items.push({ "ct helper": { family, name, table, handle: handle++, ...h, l3proto: "inet" } });
    for (const [name, mp] of t.maps) {
      const concat = mp.type.includes(" . ");
      // as nft prints them: a concatenation's parts (ports as numbers), an element with a
      // timeout wrapped in {"elem": …}, data as a number for a mark map
      const elem = mp.elements.map(([k, v]) => {
        const parts = String(k)
          .split(" . ")
          .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
        const val = concat ? { concat: parts } : k;
        const timeout = mp.timeouts?.[String(k)];
        const data = mp.data === "mark" ? Number(v) : v;
        const counter = mp.counters?.get(k);
        if (counter) return [{ elem: { val, counter: { ...counter } } }, data];
        return [timeout === undefined ? val : { elem: { val, timeout, expires: timeout } }, data];
      });
      items.push({
        map: {
          family,
          name,
          table,
          type: concat ? mp.type.split(" . ") : mp.type,
          handle: handle++,
          map: mp.data,
          ...(mp.size !== undefined ? { size: mp.size } : {}),
          ...(mp.flags ? { flags: mp.flags } : {}),
          elem,
        },
      });
    }
    for (const [name, ch] of t.chains)
      items.push({
        chain: {
          family,
          table,
          name,
          handle: handle++,
          ...(ch.hook ? { type: "filter", hook: ch.hook, prio: ch.prio, policy: ch.policy } : {}),
        },
      });
    for (const [name, ch] of t.chains)
      for (const rule of ch.rules)
        // nft prints a rule as its expression tree; the fake keeps the rule's text in one node
        // (what verify checks: the maps, jump targets and devices a rule names).
        items.push({ rule: { family, table, chain: name, handle: handle++, expr: [{ fake: rule }] } });
    return JSON.stringify({
      nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } }, ...items],
    });
  }

  /** `nft -j list map F N M`: the map as `list table` prints it. */
  private listMap(key: string, name: string): string {
    const all = JSON.parse(this.listTable(key)) as { nftables: Record<string, { name?: string }>[] };
    const map = all.nftables.find((it) => it.map?.name === name);
    if (!map) throw new NftRefused(`Error: No such file or directory\nlist map ${key} ${name}`);
    return JSON.stringify({ nftables: [all.nftables[0], map] });
  }

  /** `nft -j list quotas table F N`. */
  private listQuotas(key: string): string {
    const t = this.table(key);
    const [family, table] = key.split(" ") as [string, string];
    const items = [...t.quotas].map(([name, q], i) => ({ quota: quotaJson(family, table, name, q, i + 2) }));
    return JSON.stringify({
      nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } }, ...items],
    });
  }

  /** `nft -j list counters table F N`. */
  private listCounters(key: string): string {
    const t = this.table(key);
    const [family, table] = key.split(" ") as [string, string];
    const items = [...t.counters].map(([name, c], i) => ({
      counter: { family, name, table, handle: i + 2, ...c },
    }));
    return JSON.stringify({
      nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } }, ...items],
    });
  }
}

/** As the kernel dumps a quota: a spent one's count capped at its allowance. */
function quotaJson(family: string, table: string, name: string, q: NftQuota, handle: number) {
  return { family, name, table, handle, bytes: q.bytes, used: Math.min(q.used, q.bytes), inv: q.inv };
}

function noSuchTable(key: string): NftRefused {
  return new NftRefused(`Error: No such file or directory\nlist table ${key}\n           ^^^^^^^^^^^^^^^`);
}
