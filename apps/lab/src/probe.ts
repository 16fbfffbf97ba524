// One-shot checks run from inside a lab namespace (by default sluice-lan), for tests and
// the start script:  node probe.ts '{"kind":"http","addr":"10.77.2.2","path":"/whoami"}'
// prints one JSON result. From outside, call `labProbe(request)`.

import { connect as tlsConnect } from "node:tls";
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { fileURLToPath } from "node:url";
import { isIPv6 } from "node:net";
import { LAB, isLabAddress } from "./constants.ts";
import { execInNs } from "./exec.ts";
import { dnsQuery } from "./generators.ts";
import { tlsFiles } from "./servers.ts";
import { DNS_TYPE, recordAddress } from "./wire.ts";

export type ProbeRequest =
  | {
      kind: "http";
      /** Server address (default: the lab server of the family of `local`, else IPv4). */
      addr?: string;
      /** Host header, and the SNI for https. */
      name?: string;
      path: string;
      tls?: boolean;
      /** Source address (a LAN client address). */
      local?: string;
      timeoutMs?: number;
    }
  | { kind: "dns"; name: string; type: "A" | "AAAA"; local?: string }
  | { kind: "tls"; addr?: string; servername: string; local?: string; timeoutMs?: number };

export interface HttpProbeResult {
  kind: "http";
  status: number;
  bytes: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body when it is at most 64 KB. */
  body: string | null;
}

export interface DnsProbeResult {
  kind: "dns";
  rcode: number;
  authoritative: boolean;
  addresses: string[];
}

export interface TlsProbeResult {
  kind: "tls";
  authorized: boolean;
  authorizationError: string | null;
  protocol: string | null;
  alpn: string | null;
  subject: Record<string, string>;
  subjectAltName: string | null;
  fingerprint256: string;
  /** What the server says it saw, from GET /whoami over the same connection. */
  whoami: { remoteAddress: string; servername: string | null; tls: boolean } | null;
}

export type ProbeResult = HttpProbeResult | DnsProbeResult | TlsProbeResult;

const stateDir = () => process.env.SLUICE_LAB_STATE ?? LAB.stateDir;

function defaultAddr(local: string | undefined): string {
  return local && isIPv6(local) ? LAB.v6.server : LAB.v4.server;
}

function check(...addrs: (string | undefined)[]) {
  for (const a of addrs) if (a !== undefined && !isLabAddress(a)) throw new Error(`not a lab address: ${a}`);
}

function readBody(res: IncomingMessage): Promise<HttpProbeResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on("data", (d: Buffer) => {
      bytes += d.length;
      if (bytes <= 65536) chunks.push(d);
    });
    res.on("end", () =>
      resolve({
        kind: "http",
        status: res.statusCode ?? 0,
        bytes,
        headers: res.headers,
        body: bytes <= 65536 ? Buffer.concat(chunks).toString("utf8") : null,
      }),
    );
    res.on("error", reject);
  });
}

/** Runs a probe in the current namespace. */
export async function runProbe(req: ProbeRequest): Promise<ProbeResult> {
  if (req.kind === "dns") {
    const local = req.local ?? LAB.v4.clients[0];
    check(local);
    const m = await dnsQuery(req.name, DNS_TYPE[req.type], local, 3_000);
    return {
      kind: "dns",
      rcode: m.rcode,
      authoritative: Boolean(m.flags & 0x0400),
      addresses: m.answers.map(recordAddress).filter((a): a is string => a !== null),
    };
  }
  const addr = req.addr ?? defaultAddr(req.local);
  check(addr, req.local);
  const ca = readFileSync(tlsFiles(stateDir()).cert);
  if (req.kind === "http") {
    return new Promise((resolve, reject) => {
      const opts = {
        host: addr,
        port: req.tls ? LAB.ports.https : LAB.ports.http,
        path: req.path,
        agent: false as const,
        ...(req.local ? { localAddress: req.local } : {}),
        headers: { Host: req.name ?? addr, "User-Agent": "sluice-lab-probe" },
      };
      const r = req.tls
        ? httpsRequest({ ...opts, ca, ...(req.name ? { servername: req.name } : {}) }, (res) =>
            readBody(res).then(resolve, reject),
          )
        : httpRequest(opts, (res) => readBody(res).then(resolve, reject));
      r.setTimeout(req.timeoutMs ?? 10_000, () => r.destroy(new Error("timed out")));
      r.on("error", reject);
      r.end();
    });
  }
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({
      host: addr,
      port: LAB.ports.https,
      servername: req.servername,
      ca,
      rejectUnauthorized: false, // report the verdict instead of failing
      ALPNProtocols: ["http/1.1"],
      ...(req.local ? { localAddress: req.local } : {}),
    });
    sock.setTimeout(req.timeoutMs ?? 10_000, () => sock.destroy(new Error("timed out")));
    sock.on("error", reject);
    sock.once("secureConnect", () => {
      const cert = sock.getPeerCertificate();
      const base: TlsProbeResult = {
        kind: "tls",
        authorized: sock.authorized,
        authorizationError: sock.authorizationError ? String(sock.authorizationError) : null,
        protocol: sock.getProtocol(),
        alpn: sock.alpnProtocol || null,
        subject: { ...(cert.subject as unknown as Record<string, string>) },
        subjectAltName: cert.subjectaltname ?? null,
        fingerprint256: cert.fingerprint256,
        whoami: null,
      };
      const chunks: Buffer[] = [];
      sock.on("data", (d: Buffer) => chunks.push(d));
      sock.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const json = text.slice(text.indexOf("\r\n\r\n") + 4);
        try {
          base.whoami = JSON.parse(json) as TlsProbeResult["whoami"];
        } catch {
          base.whoami = null;
        }
        resolve(base);
      });
      sock.write(`GET /whoami HTTP/1.1\r\nHost: ${req.servername}\r\nConnection: close\r\n\r\n`);
    });
  });
}

const PROBE_SCRIPT = fileURLToPath(import.meta.url);

/** Runs a probe inside `ns` (default sluice-lan) and returns its result. */
export async function labProbe<R extends ProbeResult = ProbeResult>(
  req: ProbeRequest,
  opts: { ns?: string; stateDir?: string } = {},
): Promise<R> {
  const r = await execInNs(
    opts.ns ?? LAB.ns.lan,
    [
      "env",
      `SLUICE_LAB_STATE=${opts.stateDir ?? LAB.stateDir}`,
      process.execPath,
      "--disable-warning=ExperimentalWarning",
      PROBE_SCRIPT,
      JSON.stringify(req),
    ],
    { timeoutMs: 30_000 },
  );
  return JSON.parse(r.stdout) as R;
}

if (process.argv[1] === PROBE_SCRIPT) {
  try {
    const result = await runProbe(JSON.parse(process.argv[2] ?? "{}") as ProbeRequest);
    process.stdout.write(JSON.stringify(result) + "\n");
  } catch (e) {
    process.stderr.write(`probe: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
