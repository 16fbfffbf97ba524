// The metrics endpoint: a TCP listener of its own, only while policy.metrics is on, on the
// address the policy names (loopback or a LAN address; the control API stays on its unix
// socket). GET /metrics only; with a bearer token configured, every request must carry it
// (compared as SHA-256 digests, in constant time). An address that is not up yet (the LAN
// coming up after the agent at boot) is retried every few seconds and reported in the status.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import { canonicalAddress } from "@sluice/policy";
import type * as Exposition from "./exposition.ts";
import type { MetricsSnapshot } from "./exposition.ts";

// node:http through getBuiltinModule, not an ESM import: importing it as a module evaluates
// every export, and its lazy WebSocket/fetch ones load Node's bundled undici (~760 KB of
// source held in the heap, ~6 MB of heap and ~14 MB resident per process).
const { createServer } = process.getBuiltinModule("node:http");

// prom-client (and the OpenTelemetry API it pulls in: a quarter of the agent's modules) is
// loaded at the first scrape, not at start: the endpoint is off by default.
let exposition: Promise<typeof Exposition> | null = null;

export interface EndpointConfig {
  address: string;
  port: number;
  bearerTokenSha256?: string | undefined;
  /** The interface of a link-local IPv6 address (fe80::…%lan0). */
  scope?: string | undefined;
}

export interface EndpointState {
  enabled: boolean;
  listen: string | null;
  listening: boolean;
  auth: "none" | "bearer";
  error: string | null;
}

const RETRY_MS = 5000;

export const listenLabel = (c: EndpointConfig) =>
  c.address.includes(":") ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`;

const sameConfig = (a: EndpointConfig | null, b: EndpointConfig | null) =>
  JSON.stringify(a) === JSON.stringify(b);

export class MetricsEndpoint {
  private server: Server | null = null;
  private config: EndpointConfig | null = null;
  private error: string | null = null;
  private retry: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly snapshot: () => MetricsSnapshot;
  private readonly log: (level: "info" | "warn", msg: string) => void;

  constructor(
    snapshot: () => MetricsSnapshot,
    log: (level: "info" | "warn", msg: string) => void = () => {},
  ) {
    this.snapshot = snapshot;
    this.log = log;
  }

  /** Listens as configured (null: off); a listener with another address, port or token is replaced. */
  configure(cfg: EndpointConfig | null): Promise<void> {
    const run = this.chain.then(async () => {
      if (sameConfig(cfg, this.config) && (this.server || !cfg)) return;
      await this.close();
      this.config = cfg;
      this.error = null;
      if (cfg) await this.open();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  state(): EndpointState {
    const c = this.config;
    return {
      enabled: c !== null,
      listen: c ? listenLabel(c) : null,
      listening: this.server !== null,
      auth: c?.bearerTokenSha256 ? "bearer" : "none",
      error: this.error,
    };
  }

  /** The port actually bound (port 0 in tests picks a free one). */
  port(): number | null {
    const a = this.server?.address();
    return a && typeof a === "object" ? a.port : null;
  }

  stop(): Promise<void> {
    return this.configure(null);
  }

  private async open(): Promise<void> {
    const cfg = this.config!;
    const server = createServer((req, res) => void this.handle(req, res, cfg));
    server.maxConnections = 32;
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    const host = cfg.scope && /^fe80:/i.test(cfg.address) ? `${cfg.address}%${cfg.scope}` : cfg.address;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port: cfg.port, exclusive: true }, () => {
          server.off("error", reject);
          resolve();
        });
      });
      this.server = server;
      this.error = null;
      this.log("info", `metrics served on http://${listenLabel(cfg)}/metrics`);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.error = `cannot listen on ${listenLabel(cfg)}: ${err.code ?? err.message}${
        err.code === "EADDRNOTAVAIL" ? " (the address is not on this box, or not up yet)" : ""
      }${err.code === "EADDRINUSE" ? " (another program holds that port)" : ""}`;
      this.log("warn", `${this.error}; retrying every ${RETRY_MS / 1000}s`);
      this.retry = setTimeout(() => {
        this.retry = null;
        this.chain = this.chain.then(() => (this.config === cfg && !this.server ? this.open() : undefined));
      }, RETRY_MS);
      this.retry.unref?.();
    }
  }

  private async close(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, cfg: EndpointConfig): Promise<void> {
    const reply = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
        ...headers,
      });
      res.end(text);
    };
    if (cfg.bearerTokenSha256 && !authorized(req.headers.authorization, cfg.bearerTokenSha256)) {
      reply(401, "a bearer token is required\n", { "www-authenticate": 'Bearer realm="sluice metrics"' });
      return;
    }
    const path = new URL(req.url ?? "/", "http://metrics").pathname;
    if (path !== "/metrics") {
      reply(404, "Sluice serves its metrics at /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(405, "GET only\n", { allow: "GET, HEAD" });
      return;
    }
    try {
      const { negotiate, renderMetrics } = await (exposition ??= import("./exposition.ts"));
      const { contentType, body } = await renderMetrics(this.snapshot(), negotiate(req.headers.accept));
      res.writeHead(200, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      reply(500, `metrics failed: ${(e as Error).message}\n`);
    }
  }
}

function authorized(header: string | undefined, sha256: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const given = createHash("sha256").update(m[1]!).digest();
  return timingSafeEqual(given, Buffer.from(sha256, "hex"));
}

/** The endpoint's configuration from a validated policy's metrics section (null: off). */
export function endpointConfig(
  m: { enabled: boolean; address: string; port: number; bearerTokenSha256?: string | undefined } | undefined,
  lanDevice?: string,
): EndpointConfig | null {
  if (!m?.enabled) return null;
  return {
    address: canonicalAddress(m.address) ?? m.address,
    port: m.port,
    ...(m.bearerTokenSha256 ? { bearerTokenSha256: m.bearerTokenSha256 } : {}),
    ...(lanDevice ? { scope: lanDevice } : {}),
  };
}
