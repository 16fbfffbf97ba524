// `lab up`, `lab down`, `lab status`: the lab's lifecycle, its processes and its state
// (under LAB.stateDir: ROLE-KIND.pid/.ready/.log, state.json, tls/).

import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LAB } from "./constants.ts";
import { selfSignedCert } from "./cert.ts";
import { pidsInNs, runSync } from "./exec.ts";
import { GENERATORS, type GeneratorKind } from "./generators.ts";
import { DEFAULT_PACE, GREEDY_PACE, type PaceConfig, type ProcConfig } from "./proc-config.ts";
import { SERVERS, tlsFiles, type ServerKind } from "./servers.ts";
import { buildTopology, destroyTopology, LAB_TOPOLOGY, labNamespaces } from "./topology.ts";
import { sleep } from "./util.ts";

const PROC_SCRIPT = fileURLToPath(new URL("./proc.ts", import.meta.url));

export const SERVER_KINDS = Object.keys(SERVERS) as ServerKind[];
export const GENERATOR_KINDS = Object.keys(GENERATORS) as GeneratorKind[];

export interface LabUpOptions {
  /** Start the traffic generators (default true). */
  traffic?: boolean;
  /** Cap the WAN → box direction at this many Mbit/s (a tbf on sluice-wan's eth0). */
  rateMbit?: number;
  /** Don't pace the bulk flows (BitTorrent, /bulk, rsync): TCP and shaping decide. */
  greedy?: boolean;
  /** Where to put state (default LAB.stateDir); tests may use another directory. */
  stateDir?: string;
  /** Progress messages. */
  onProgress?: (msg: string) => void;
}

export interface LabProc {
  name: string;
  role: "server" | "generator";
  kind: string;
  ns: string;
  pid: number;
  log: string;
}

export interface LabState {
  startedAt: string;
  upMs: number;
  options: { traffic: boolean; rateMbit: number | null; greedy: boolean };
  pace: PaceConfig;
  procs: LabProc[];
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("the lab needs root (network namespaces, iptables)");
}

function stateDirOf(opts?: { stateDir?: string }): string {
  return opts?.stateDir ?? LAB.stateDir;
}

// ---------------------------------------------------------------- processes

/** The process's command line, or null when it is gone or a zombie. */
function cmdlineOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/\) Z /.test(stat)) return null;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return null;
  }
}

/** True for a live process that is one of the lab's (its title or its script). */
export function isLabProcess(pid: number): boolean {
  const cmd = cmdlineOf(pid);
  return cmd !== null && (cmd.startsWith("sluice-lab ") || cmd.includes(PROC_SCRIPT));
}

function alive(pid: number): boolean {
  return cmdlineOf(pid) !== null;
}

async function spawnProc(
  stateDir: string,
  ns: string,
  role: LabProc["role"],
  kind: string,
  cfg: ProcConfig,
): Promise<LabProc> {
  const name = `${role}-${kind}`;
  const log = join(stateDir, `${name}.log`);
  const fd = openSync(log, "w");
  try {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        process.execPath,
        "--disable-warning=ExperimentalWarning",
        PROC_SCRIPT,
        role,
        kind,
        JSON.stringify(cfg),
      ],
      {
        detached: true,
        stdio: ["ignore", fd, fd],
        // Fifteen processes start at once: let them share compiled (and type-stripped) code.
        env: { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), "sluice-lab-node-cache") },
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    // `ip netns exec` execs the command: the pid is the lab process's own.
    writeFileSync(join(stateDir, `${name}.pid`), `${child.pid}\n`);
    return { name, role, kind, ns, pid: child.pid!, log };
  } finally {
    closeSync(fd);
  }
}

function logTail(path: string, lines = 8): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitReady(stateDir: string, procs: LabProc[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = procs.filter((p) => !existsSync(join(stateDir, `${p.name}.ready`)));
    if (!pending.length) return;
    const dead = pending.find((p) => !alive(p.pid));
    if (dead) throw new Error(`lab: ${dead.name} exited while starting:\n${logTail(dead.log)}`);
    if (Date.now() > deadline) {
      throw new Error(`lab: not ready after ${timeoutMs / 1000} s: ${pending.map((p) => p.name).join(", ")}`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------- up / down

/** Brings the lab up (tearing down whatever was there first). Resolves when it is usable. */
export async function labUp(opts: LabUpOptions = {}): Promise<LabState> {
  requireRoot();
  const t0 = Date.now();
  const progress = opts.onProgress ?? (() => {});
  const stateDir = stateDirOf(opts);
  const traffic = opts.traffic ?? true;
  if (opts.rateMbit !== undefined && !(opts.rateMbit > 0))
    throw new Error("lab: --rate must be a positive number");
  await labDown({ stateDir });
  try {
    mkdirSync(join(stateDir, "tls"), { recursive: true, mode: 0o755 });
    progress("namespaces, links, addresses, forwarding, NAT");
    buildTopology(LAB_TOPOLOGY, opts.rateMbit ? { rateMbit: opts.rateMbit } : {});
    const { cert, key } = tlsFiles(stateDir);
    const tls = selfSignedCert(LAB.zone, [LAB.zone, `*.${LAB.zone}`], [LAB.v4.server, LAB.v6.server]);
    writeFileSync(cert, tls.certPem);
    writeFileSync(key, tls.keyPem, { mode: 0o600 });
    // Pacing: modest by default; --rate lets the downloads fill the capped link;
    // --greedy lets everything run at whatever TCP and the box's shaping allow.
    const pace: PaceConfig = opts.greedy
      ? GREEDY_PACE
      : opts.rateMbit
        ? { ...DEFAULT_PACE, btBps: 0, bulkBps: 0 }
        : DEFAULT_PACE;
    const cfg: ProcConfig = { stateDir, pace };
    const state: LabState = {
      startedAt: new Date(t0).toISOString(),
      upMs: 0,
      options: { traffic, rateMbit: opts.rateMbit ?? null, greedy: Boolean(opts.greedy) },
      pace,
      procs: [],
    };
    const save = () => writeFileSync(join(stateDir, "state.json"), JSON.stringify(state, null, 2) + "\n");
    progress(`servers in ${LAB.ns.wan}`);
    const servers = await Promise.all(
      SERVER_KINDS.map((k) => spawnProc(stateDir, LAB.ns.wan, "server", k, cfg)),
    );
    state.procs.push(...servers);
    save();
    await waitReady(stateDir, servers, 20_000);
    if (traffic) {
      progress(`traffic generators in ${LAB.ns.lan}`);
      const gens = await Promise.all(
        GENERATOR_KINDS.map((k) => spawnProc(stateDir, LAB.ns.lan, "generator", k, cfg)),
      );
      state.procs.push(...gens);
      save();
      await waitReady(stateDir, gens, 20_000);
    }
    state.upMs = Date.now() - t0;
    save();
    return state;
  } catch (e) {
    await labDown({ stateDir });
    throw e;
  }
}

/**
 * Starts the traffic generators on a lab that is up without them (`lab up --no-traffic`),
 * so that an agent started in between sees every connection from its first packet.
 */
export async function labTraffic(opts: { stateDir?: string } = {}): Promise<LabState> {
  requireRoot();
  const stateDir = stateDirOf(opts);
  const file = join(stateDir, "state.json");
  if (!existsSync(file)) throw new Error("lab: not up (run `sluice-lab up --no-traffic` first)");
  const state = JSON.parse(readFileSync(file, "utf8")) as LabState;
  if (state.procs.some((p) => p.role === "generator" && alive(p.pid)))
    throw new Error("lab: traffic generators already running");
  const cfg: ProcConfig = { stateDir, pace: state.pace };
  const gens = await Promise.all(
    GENERATOR_KINDS.map((k) => spawnProc(stateDir, LAB.ns.lan, "generator", k, cfg)),
  );
  state.procs = [...state.procs.filter((p) => p.role !== "generator"), ...gens];
  state.options.traffic = true;
  writeFileSync(file, JSON.stringify(state, null, 2) + "\n");
  await waitReady(stateDir, gens, 20_000);
  return state;
}

export interface LabDownResult {
  /** Processes stopped (lab processes and anything else running in the lab namespaces). */
  stopped: number[];
  namespacesRemoved: string[];
  errors: string[];
}

/** Pids of every process in a lab namespace (`ip netns pids`). */
function pidsInLabNamespaces(): number[] {
  return labNamespaces().flatMap(pidsInNs);
}

function pidsFromPidFiles(stateDir: string): number[] {
  if (!existsSync(stateDir)) return [];
  const pids: number[] = [];
  for (const f of readdirSync(stateDir)) {
    if (!f.endsWith(".pid")) continue;
    const pid = Number(readFileSync(join(stateDir, f), "utf8").trim());
    if (Number.isInteger(pid) && pid > 1 && isLabProcess(pid)) pids.push(pid);
  }
  return pids;
}

async function stop(pids: number[]): Promise<string[]> {
  const errors: string[] = [];
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH")
        errors.push(`kill ${sig} ${pid}: ${(e as Error).message}`);
    }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  for (let t = 0; t < 60 && pids.some(alive); t++) await sleep(50);
  const stubborn = pids.filter(alive);
  for (const pid of stubborn) signal(pid, "SIGKILL");
  for (let t = 0; t < 60 && stubborn.some(alive); t++) await sleep(50);
  for (const pid of pids.filter(alive)) errors.push(`process ${pid} survived SIGKILL`);
  return errors;
}

/**
 * Removes the lab: stops its processes (and anything else left running inside the lab
 * namespaces, e.g. an agent started there), deletes the namespaces (their veths go with
 * them) and the state, keeping the logs. Safe to run any number of times.
 */
export async function labDown(opts: { stateDir?: string } = {}): Promise<LabDownResult> {
  requireRoot();
  const stateDir = stateDirOf(opts);
  const pids = [...new Set([...pidsFromPidFiles(stateDir), ...pidsInLabNamespaces()])].filter(
    (p) => p !== process.pid,
  );
  const errors = await stop(pids);
  const namespacesRemoved = labNamespaces();
  errors.push(...destroyTopology());
  if (existsSync(stateDir)) {
    for (const f of readdirSync(stateDir)) {
      if (!f.endsWith(".log")) rmSync(join(stateDir, f), { recursive: true, force: true });
    }
  }
  return {
    stopped: pids,
    namespacesRemoved: namespacesRemoved.filter((n) => !labNamespaces().includes(n)),
    errors,
  };
}

// ---------------------------------------------------------------- status

export interface LabAddress {
  ifname: string;
  family: "inet" | "inet6";
  address: string;
  prefixLen: number;
}

export interface LabStatus {
  /** All three namespaces exist and every server is running. */
  up: boolean;
  namespaces: { name: string; exists: boolean; addresses: LabAddress[]; qdiscs: string[] }[];
  procs: (LabProc & { running: boolean })[];
  state: LabState | null;
  stateDir: string;
}

function addressesIn(ns: string): LabAddress[] {
  const r = runSync(["ip", "-n", ns, "-j", "addr", "show"], { allowFail: true });
  if (r.code !== 0) return [];
  const links = JSON.parse(r.stdout || "[]") as {
    ifname: string;
    addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
  }[];
  return links.flatMap((l) =>
    (l.addr_info ?? [])
      .filter((a) => a.scope !== "link" && l.ifname !== "lo")
      .map((a) => ({
        ifname: l.ifname,
        family: a.family as "inet" | "inet6",
        address: a.local,
        prefixLen: a.prefixlen,
      })),
  );
}

function qdiscsIn(ns: string): string[] {
  const r = runSync(["ip", "netns", "exec", ns, "tc", "qdisc", "show"], { allowFail: true });
  return r.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/ noqueue /.test(`${l} `) && !/^qdisc (noqueue|pfifo_fast|mq) /.test(l));
}

export function labStatus(opts: { stateDir?: string } = {}): LabStatus {
  const stateDir = stateDirOf(opts);
  let state: LabState | null = null;
  try {
    state = JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as LabState;
  } catch {
    state = null;
  }
  const present = new Set(labNamespaces());
  const namespaces = [LAB.ns.lan, LAB.ns.box, LAB.ns.wan].map((name) => ({
    name,
    exists: present.has(name),
    addresses: present.has(name) ? addressesIn(name) : [],
    qdiscs: present.has(name) ? qdiscsIn(name) : [],
  }));
  const procs = (state?.procs ?? []).map((p) => ({ ...p, running: isLabProcess(p.pid) }));
  const serversUp = procs.filter((p) => p.role === "server");
  return {
    up: namespaces.every((n) => n.exists) && serversUp.length > 0 && serversUp.every((p) => p.running),
    namespaces,
    procs,
    state,
    stateDir,
  };
}

/** `lab status` as text. */
export function formatLabStatus(s: LabStatus): string {
  const out: string[] = [];
  const st = s.state;
  out.push(
    s.up
      ? `lab: up since ${st?.startedAt} (took ${((st?.upMs ?? 0) / 1000).toFixed(1)} s)` +
          `${st?.options.rateMbit ? `, WAN capped at ${st.options.rateMbit} Mbit/s` : ""}` +
          `${st?.options.greedy ? ", greedy" : ""}`
      : s.namespaces.some((n) => n.exists) || s.procs.some((p) => p.running)
        ? "lab: partly up (run `sluice-lab up` to rebuild, `sluice-lab down` to remove)"
        : "lab: down",
  );
  for (const ns of s.namespaces) {
    if (!ns.exists) {
      out.push(`  ${ns.name}: absent`);
      continue;
    }
    out.push(`  ${ns.name}:`);
    for (const a of ns.addresses) out.push(`    ${a.ifname.padEnd(5)} ${a.address}/${a.prefixLen}`);
    for (const q of ns.qdiscs) out.push(`    ${q}`);
  }
  const line = (p: LabStatus["procs"][number]) =>
    `    ${p.kind.padEnd(11)} ${p.running ? "running" : "STOPPED"}  pid ${String(p.pid).padEnd(8)} ${p.log}`;
  const servers = s.procs.filter((p) => p.role === "server");
  const gens = s.procs.filter((p) => p.role === "generator");
  if (servers.length)
    out.push(`  servers (${LAB.ns.wan}, ${LAB.v4.server} / ${LAB.v6.server}):`, ...servers.map(line));
  if (gens.length) out.push(`  generators (${LAB.ns.lan}):`, ...gens.map(line));
  else if (st) out.push("  generators: none (--no-traffic)");
  return out.join("\n") + "\n";
}
