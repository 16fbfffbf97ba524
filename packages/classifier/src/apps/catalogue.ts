// The application catalogue (protocols/apps/catalogue.json): which applications matter for
// QoS, their category, and how a flow is recognised as one of them. A flow's application
// comes, in this order, from:
//   1. its host name (TLS/QUIC SNI, HTTP Host, or the DNS cache): the longest matching host
//      suffix, unless a glob pattern that spells out more of the name (more literal
//      characters than the suffix has) matches too;
//   2. its Sluice protocol, when that protocol is the application by itself (whatsapp, ...);
//   3. its server address, in the app's address ranges;
//   4. its server port and transport.
// Steps 3 and 4 may be limited to some protocols (`only`). Ids are stable: an app or a
// category keeps its id for ever (marks and stored statistics refer to it).

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface AppCategory {
  id: number;
  name: string;
  title: string;
}

export interface PortRange {
  l4: "tcp" | "udp";
  from: number;
  to: number;
}

export interface AppDefinition {
  id: number;
  name: string;
  title: string;
  category: string;
  hosts: string[];
  patterns: string[];
  protocols: string[];
  addresses: string[];
  ports: PortRange[];
  /** Protocols the address and port signals are limited to (empty: all). */
  only: string[];
}

export type AppMatchSource = "hostname" | "protocol" | "address" | "port";

export interface AppMatch {
  app: AppDefinition;
  category: AppCategory;
  by: AppMatchSource;
  /** What matched: the suffix, pattern, protocol, range or port rule. */
  rule: string;
}

/** What the matcher looks at in a flow. */
export interface AppSubject {
  hostname: string | null;
  protocol: string;
  l4: "tcp" | "udp";
  serverIp: string;
  serverPort: number;
}

export class CatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogueError";
  }
}

const NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;
const HOST_RE =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const GLOB_RE = /^(\*\.)?([a-z0-9_*-]+)(\.[a-z0-9_*-]+)*$/;

/** The root of the repository's data: protocols/apps/catalogue.json. */
export const DEFAULT_CATALOGUE_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../protocols/apps/catalogue.json",
);

/** Host names whose catalogue answer is remembered (see AppCatalogue.matchHostname). */
const HOSTNAME_CACHE = 4096;

/** Normalises a host name for matching: lowercase, no trailing dot. */
export function normalizeHostname(h: string): string {
  const l = h.trim().toLowerCase();
  return l.endsWith(".") ? l.slice(0, -1) : l;
}

/**
 * A host name glob: `*` stands for any part of one label, a leading `*.` for one or more
 * labels. "*.example.com" matches "a.example.com" and "a.b.example.com" but not
 * "example.com"; "cdn*.example.*" matches "cdn3.example.org".
 */
export function isHostnameGlob(glob: string): boolean {
  return GLOB_RE.test(glob) && !glob.includes("**");
}

export function hostnameGlobToRegExp(glob: string): RegExp {
  if (!isHostnameGlob(glob)) throw new CatalogueError(`"${glob}" is not a host name glob`);
  let body = glob;
  let prefix = "";
  if (body.startsWith("*.")) {
    prefix = "(?:[^.]+\\.)+";
    body = body.slice(2);
  }
  const re = body
    .split("*")
    .map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
    .join("[^.]*");
  return new RegExp(`^${prefix}${re}$`);
}

export function matchHostnameGlob(glob: string, hostname: string): boolean {
  return hostnameGlobToRegExp(glob).test(normalizeHostname(hostname));
}

// ---------------------------------------------------------------------------------------
// Addresses

interface Cidr {
  text: string;
  v6: boolean;
  /** Network as a bigint (v6) or number (v4), and the prefix length. */
  net: bigint;
  bits: number;
}

function ipv4ToBig(s: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function ipv6ToBig(s: string): bigint | null {
  if (!/^[0-9a-f:.]+$/i.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const part = (p: string) => (p === "" ? [] : p.split(":"));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const groups =
    halves.length === 2
      ? [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail]
      : head;
  if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

export function parseCidr(text: string): Cidr | null {
  const [addr, len] = text.split("/");
  if (addr === undefined) return null;
  const v6 = addr.includes(":");
  const n = v6 ? ipv6ToBig(addr) : ipv4ToBig(addr);
  const max = v6 ? 128 : 32;
  const bits = len === undefined ? max : Number(len);
  if (n === null || !Number.isInteger(bits) || bits < 0 || bits > max) return null;
  const shift = BigInt(max - bits);
  return { text, v6, net: (n >> shift) << shift, bits };
}

function inCidr(c: Cidr, v6: boolean, ip: bigint): boolean {
  if (c.v6 !== v6) return false;
  const shift = BigInt((v6 ? 128 : 32) - c.bits);
  return (ip >> shift) << shift === c.net;
}

/** An IPv4 range as plain numbers: every flow is checked against them (no BigInt). */
interface V4Range {
  net: number;
  mask: number;
}

function v4Range(c: Cidr): V4Range {
  const mask = c.bits === 0 ? 0 : (0xffffffff << (32 - c.bits)) >>> 0;
  return { net: Number(c.net) >>> 0, mask };
}

interface CatalogueRange {
  app: AppDefinition;
  cidr: Cidr;
  v4: V4Range | null;
}

/**
 * The first 16 bits of an IPv6 address's text (its first group; "::..." is 0), without
 * parsing the rest: -1 when that group is not hex. Only a gate: ipv6ToBig decides.
 */
function v6Head(s: string): number {
  let v = 0;
  for (let i = 0; i < s.length && i < 5; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) return v; // ':'
    const d = c >= 48 && c <= 57 ? c - 48 : (c | 0x20) >= 97 && (c | 0x20) <= 102 ? (c | 0x20) - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return -1;
}

/** Dotted IPv4 to a 32-bit number, or -1. */
function ipv4ToNumber(s: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? v * 256 + part : -1;
}

function parsePorts(spec: string): PortRange | null {
  const m = /^(tcp|udp)\/(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  if (!m) return null;
  const from = Number(m[2]);
  const to = m[3] === undefined ? from : Number(m[3]);
  if (from < 1 || to > 65535 || to < from) return null;
  return { l4: m[1] as "tcp" | "udp", from, to };
}

// ---------------------------------------------------------------------------------------

interface RawApp {
  id?: unknown;
  name?: unknown;
  title?: unknown;
  category?: unknown;
  hosts?: unknown;
  patterns?: unknown;
  protocols?: unknown;
  addresses?: unknown;
  ports?: unknown;
  only?: unknown;
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    throw new CatalogueError(`${where}: must be a list of strings`);
  return v as string[];
}

interface CompiledPattern {
  app: AppDefinition;
  glob: string;
  re: RegExp;
  /** Literal characters: the more, the more specific. */
  weight: number;
  /** What every match ends with (the glob after its last `*`): a cheap test before `re`. */
  tail: string;
}

/** A loaded catalogue: look-ups by name and id, and the flow matcher. */
export class AppCatalogue {
  readonly apps: readonly AppDefinition[];
  readonly categories: readonly AppCategory[];
  private readonly byName = new Map<string, AppDefinition>();
  private readonly byId = new Map<number, AppDefinition>();
  private readonly categoryByName = new Map<string, AppCategory>();
  private readonly suffixes = new Map<string, AppDefinition>();
  private readonly patterns: CompiledPattern[] = [];
  private readonly protocols = new Map<string, AppDefinition>();
  private readonly ranges: CatalogueRange[] = [];
  private readonly portRules: { app: AppDefinition; range: PortRange; text: string }[] = [];
  /**
   * The IPv4 ranges by the first octet they cover (in `ranges` order, so the first hit is
   * the same): a flow's address is checked against its octet's few, not all of them.
   */
  private readonly v4ByOctet: CatalogueRange[][] = [];
  /** The IPv6 ranges, and the first 16 bits they can begin with (null: any). */
  private readonly v6Ranges: CatalogueRange[] = [];
  private v6Heads: Set<number> | null = null;

  constructor(apps: AppDefinition[], categories: AppCategory[]) {
    this.apps = apps;
    this.categories = categories;
    for (const c of categories) this.categoryByName.set(c.name, c);
    for (const a of apps) {
      this.byName.set(a.name, a);
      this.byId.set(a.id, a);
      for (const h of a.hosts) this.suffixes.set(h, a);
      for (const g of a.patterns)
        this.patterns.push({
          app: a,
          glob: g,
          re: hostnameGlobToRegExp(g),
          weight: g.replace(/\*/g, "").length,
          tail: g.slice(g.lastIndexOf("*") + 1),
        });
      for (const p of a.protocols) this.protocols.set(p, a);
      for (const r of a.addresses) {
        const cidr = parseCidr(r)!;
        this.ranges.push({ app: a, cidr, v4: cidr.v6 ? null : v4Range(cidr) });
      }
      a.ports.forEach((range) =>
        this.portRules.push({
          app: a,
          range,
          text: `${range.l4}/${range.from}${range.to !== range.from ? `-${range.to}` : ""}`,
        }),
      );
    }
    this.patterns.sort((x, y) => y.weight - x.weight);
    // Narrow ranges before wide ones.
    this.ranges.sort((x, y) => y.cidr.bits - x.cidr.bits);
    for (let o = 0; o < 256; o++) this.v4ByOctet.push([]);
    const heads = new Set<number>();
    for (const r of this.ranges) {
      if (r.v4) {
        const from = r.v4.net >>> 24;
        const to = (r.v4.net | (~r.v4.mask >>> 0)) >>> 24;
        for (let o = from; o <= to; o++) this.v4ByOctet[o]!.push(r);
      } else {
        this.v6Ranges.push(r);
        if (r.cidr.bits >= 16) heads.add(Number(r.cidr.net >> 112n));
      }
    }
    if (this.v6Ranges.every((r) => r.cidr.bits >= 16)) this.v6Heads = heads;
  }

  get size(): number {
    return this.apps.length;
  }

  app(name: string): AppDefinition | undefined {
    return this.byName.get(name);
  }

  appById(id: number): AppDefinition | undefined {
    return this.byId.get(id);
  }

  category(name: string): AppCategory | undefined {
    return this.categoryByName.get(name);
  }

  /** The stable id of an app (its mark base), or undefined for an unknown name. */
  appMarkOf(name: string): number | undefined {
    return this.byName.get(name)?.id;
  }

  categoryMarkOf(name: string): number | undefined {
    return this.categoryByName.get(name)?.id;
  }

  private result(app: AppDefinition, by: AppMatchSource, rule: string): AppMatch {
    return { app, category: this.categoryByName.get(app.category)!, by, rule };
  }

  /**
   * Host names already matched, with their answer (the catalogue does not change once
   * built): flows to the same host are many (one TLS flow per connection, each named by
   * the same SNI or DNS answer), each a suffix walk and up to a few dozen globs.
   * Bounded: emptied when full.
   */
  private readonly byHostname = new Map<string, AppMatch | null>();

  /** The app a host name belongs to: the longest host suffix or a more specific glob. */
  matchHostname(hostname: string): AppMatch | null {
    const known = this.byHostname.get(hostname);
    if (known !== undefined) return known;
    if (this.byHostname.size >= HOSTNAME_CACHE) this.byHostname.clear();
    const m = this.lookupHostname(hostname);
    this.byHostname.set(hostname, m);
    return m;
  }

  private lookupHostname(hostname: string): AppMatch | null {
    const h = normalizeHostname(hostname);
    if (!h) return null;
    let best: AppMatch | null = null;
    let dot = -1;
    do {
      const suffix = h.slice(dot + 1);
      const a = this.suffixes.get(suffix);
      if (a) {
        best = this.result(a, "hostname", suffix);
        break;
      }
      dot = h.indexOf(".", dot + 1);
    } while (dot >= 0);
    // A glob wins over a suffix when it spells out more of the name.
    const floor = best ? best.rule.length : 0;
    const globs = this.patterns;
    for (let i = 0; i < globs.length; i++) {
      const p = globs[i]!;
      if (p.weight <= floor) break;
      // Most names end otherwise: one comparison instead of a regex run per glob.
      if (!h.endsWith(p.tail)) continue;
      if (p.re.test(h)) return this.result(p.app, "hostname", p.glob);
    }
    return best;
  }

  /** The app of a flow (see the header comment for the order), or null. */
  match(s: AppSubject): AppMatch | null {
    if (s.hostname) {
      const m = this.matchHostname(s.hostname);
      if (m) return m;
    }
    const byProto = this.protocols.get(s.protocol);
    if (byProto) return this.result(byProto, "protocol", s.protocol);
    // Indexed loops, no closure: this runs once per new flow (an iterator result per range
    // was most of the classifier's garbage per flow).
    if (this.ranges.length) {
      const v6 = s.serverIp.includes(":");
      if (!v6) {
        const ip = ipv4ToNumber(s.serverIp);
        if (ip >= 0) {
          const ranges = this.v4ByOctet[ip >>> 24]!;
          for (let i = 0; i < ranges.length; i++) {
            const r = ranges[i]!;
            if ((ip & r.v4!.mask) >>> 0 === r.v4!.net && applies(r.app, s.protocol))
              return this.result(r.app, "address", r.cidr.text);
          }
        }
      } else if (this.v6Ranges.length && (this.v6Heads === null || this.v6Heads.has(v6Head(s.serverIp)))) {
        const ip = ipv6ToBig(s.serverIp);
        if (ip !== null) {
          const ranges = this.v6Ranges;
          for (let i = 0; i < ranges.length; i++) {
            const r = ranges[i]!;
            if (applies(r.app, s.protocol) && inCidr(r.cidr, true, ip))
              return this.result(r.app, "address", r.cidr.text);
          }
        }
      }
    }
    const ports = this.portRules;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (
        p.range.l4 === s.l4 &&
        s.serverPort >= p.range.from &&
        s.serverPort <= p.range.to &&
        applies(p.app, s.protocol)
      )
        return this.result(p.app, "port", p.text);
    }
    return null;
  }
}

/** Whether an address or port rule of `app` may name a flow of `protocol` (its `only` list). */
function applies(app: AppDefinition, protocol: string): boolean {
  return app.only.length === 0 || app.only.includes(protocol);
}

/** Validates and loads a catalogue document (the parsed JSON). */
export function parseAppCatalogue(doc: unknown, source = "catalogue"): AppCatalogue {
  if (typeof doc !== "object" || doc === null) throw new CatalogueError(`${source}: not a JSON object`);
  const d = doc as { version?: unknown; categories?: unknown; apps?: unknown };
  if (d.version !== 1) throw new CatalogueError(`${source}: "version" must be 1`);
  if (!Array.isArray(d.categories)) throw new CatalogueError(`${source}: "categories" must be a list`);
  if (!Array.isArray(d.apps)) throw new CatalogueError(`${source}: "apps" must be a list`);
  const categories: AppCategory[] = [];
  const catIds = new Set<number>();
  const catNames = new Set<string>();
  d.categories.forEach((c: { id?: unknown; name?: unknown; title?: unknown }, i: number) => {
    const at = `${source}: categories[${i}]`;
    if (!Number.isInteger(c.id) || (c.id as number) < 1)
      throw new CatalogueError(`${at}: id must be a positive integer`);
    if (typeof c.name !== "string" || !NAME_RE.test(c.name)) throw new CatalogueError(`${at}: bad name`);
    if (catIds.has(c.id as number)) throw new CatalogueError(`${at}: duplicate id ${c.id}`);
    if (catNames.has(c.name)) throw new CatalogueError(`${at}: duplicate name "${c.name}"`);
    catIds.add(c.id as number);
    catNames.add(c.name);
    categories.push({
      id: c.id as number,
      name: c.name,
      title: typeof c.title === "string" ? c.title : c.name,
    });
  });
  const apps: AppDefinition[] = [];
  const ids = new Map<number, string>();
  const names = new Set<string>();
  const hostOwner = new Map<string, string>();
  const protoOwner = new Map<string, string>();
  d.apps.forEach((raw: RawApp, i: number) => {
    const at = `${source}: apps[${i}]${typeof raw.name === "string" ? ` (${raw.name})` : ""}`;
    if (!Number.isInteger(raw.id) || (raw.id as number) < 1)
      throw new CatalogueError(`${at}: id must be a positive integer`);
    const id = raw.id as number;
    if (typeof raw.name !== "string" || !NAME_RE.test(raw.name))
      throw new CatalogueError(`${at}: name must be lowercase letters, digits and -, starting with a letter`);
    if (ids.has(id)) throw new CatalogueError(`${at}: id ${id} is also ${ids.get(id)}'s`);
    if (names.has(raw.name)) throw new CatalogueError(`${at}: duplicate name`);
    if (typeof raw.category !== "string" || !catNames.has(raw.category))
      throw new CatalogueError(`${at}: category "${String(raw.category)}" is not in "categories"`);
    const hosts = strings(raw.hosts, `${at}.hosts`).map((h) => {
      const n = normalizeHostname(h);
      if (!HOST_RE.test(n)) throw new CatalogueError(`${at}: "${h}" is not a host name suffix`);
      const other = hostOwner.get(n);
      if (other) throw new CatalogueError(`${at}: host "${n}" is also listed by ${other}`);
      hostOwner.set(n, raw.name as string);
      return n;
    });
    const patterns = strings(raw.patterns, `${at}.patterns`).map((g) => {
      const n = g.toLowerCase();
      if (!isHostnameGlob(n) || !n.includes("*"))
        throw new CatalogueError(`${at}: "${g}" is not a host name glob`);
      return n;
    });
    const protocols = strings(raw.protocols, `${at}.protocols`);
    for (const p of protocols) {
      const other = protoOwner.get(p);
      if (other) throw new CatalogueError(`${at}: protocol "${p}" is also listed by ${other}`);
      protoOwner.set(p, raw.name as string);
    }
    const addresses = strings(raw.addresses, `${at}.addresses`);
    for (const a of addresses)
      if (!parseCidr(a)) throw new CatalogueError(`${at}: "${a}" is not an address range`);
    const ports = strings(raw.ports, `${at}.ports`).map((p) => {
      const r = parsePorts(p);
      if (!r) throw new CatalogueError(`${at}: "${p}" is not a port rule (tcp/443, udp/3478-3481)`);
      return r;
    });
    ids.set(id, raw.name);
    names.add(raw.name);
    apps.push({
      id,
      name: raw.name,
      title: typeof raw.title === "string" ? raw.title : raw.name,
      category: raw.category,
      hosts,
      patterns,
      protocols,
      addresses,
      ports,
      only: strings(raw.only, `${at}.only`),
    });
  });
  return new AppCatalogue(apps, categories);
}

/** Loads a catalogue file (default: protocols/apps/catalogue.json of this repository). */
export function loadAppCatalogue(path: string = DEFAULT_CATALOGUE_PATH): AppCatalogue {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CatalogueError(
      `${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CatalogueError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseAppCatalogue(doc, path);
}

/** The catalogue next to a protocols/ directory (DIR/apps/catalogue.json), if there is one. */
export function catalogueBeside(protocolsDir: string): string {
  return join(protocolsDir, "apps", "catalogue.json");
}
