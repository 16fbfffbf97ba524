// The agent's local control API: HTTP over a unix socket (file mode 0660, so only root
// and the dashboard's group can reach it). JSON in and out; stats also as a Server-Sent
// Events stream. The routes, their requests and answers are @sluice/agent-contract's; the
// dashboard and the `sluice` CLI use its client.

import type { IncomingMessage, ServerResponse, Server } from "node:http";
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { z } from "zod";
import type { Logger } from "pino";
import {
  ApplyRequest,
  RenderRequest,
  RollbackRequest,
  TestPatternRequest,
  type AgentStatus,
  type AppCatalogue,
  type ApplyErrorBody,
  type ApplyResponse,
  type FlowsResponse,
  type DevicesResponse,
  type HistoryEntry,
  type HistorySummary,
  type ProtocolsResponse,
  type RenderResponse,
  type StatsResponse,
  type StatsSample,
  type TestPatternResponse,
} from "@sluice/agent-contract";
import { ApplyError } from "../apply/applier.ts";

// node:http through getBuiltinModule, not an ESM import: importing it as a module evaluates
// every export, and its lazy WebSocket/fetch ones load Node's bundled undici (~760 KB of
// source held in the heap, ~6 MB of heap and ~14 MB resident per process).
const { createServer } = process.getBuiltinModule("node:http");

/**
 * What the API serves: the agent (daemon/agent.ts) implements it. Declared here so the
 * server does not import the daemon that starts it.
 */
export interface ControlTarget {
  readonly log: Logger;
  status(): AgentStatus;
  protocolCatalogue(): ProtocolsResponse;
  appCatalogue(): AppCatalogue;
  render(policy: unknown): Promise<RenderResponse>;
  apply(policy: unknown, opts: { user?: string; trySeconds?: number }): Promise<ApplyResponse>;
  confirm(): Promise<HistorySummary>;
  rollback(id: number | undefined, user: string): Promise<HistorySummary>;
  history(): HistorySummary[];
  /** One history entry in full, undefined when there is none with that id. */
  historyEntry(id: number): HistoryEntry | undefined;
  stats(): StatsResponse;
  flows(): FlowsResponse;
  devices(): DevicesResponse;
  testPattern(input: TestPatternRequest): TestPatternResponse;
  /** The latest stats sample (null before the first), and a subscription to the next ones. */
  latestSample(): StatsSample | null;
  onSample(fn: (sample: StatsSample) => void): () => void;
}

const MAX_BODY = 1 << 20;

export class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, message: string, body: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, "request body too large");
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

function parse<T extends z.ZodType>(schema: T, v: unknown): z.output<T> {
  const r = schema.safeParse(v);
  if (!r.success)
    throw new HttpError(
      400,
      `bad request: ${r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`,
    );
  return r.data;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<unknown>;

export function createApi(agent: ControlTarget): Server {
  const routes: [string, RegExp, Handler][] = [
    ["GET", /^\/v1\/status$/, async () => agent.status()],
    ["GET", /^\/v1\/protocols$/, async () => agent.protocolCatalogue()],
    ["GET", /^\/v1\/apps$/, async () => agent.appCatalogue()],
    ["POST", /^\/v1\/render$/, async (req) => agent.render(parse(RenderRequest, await readJson(req)).policy)],
    [
      "POST",
      /^\/v1\/apply$/,
      async (req) => {
        const b = parse(ApplyRequest, await readJson(req));
        return agent.apply(b.policy, {
          ...(b.user ? { user: b.user } : {}),
          ...(b.trySeconds ? { trySeconds: b.trySeconds } : {}),
        });
      },
    ],
    ["POST", /^\/v1\/confirm$/, async () => agent.confirm()],
    [
      "POST",
      /^\/v1\/rollback$/,
      async (req) => {
        const b = parse(RollbackRequest, await readJson(req));
        return agent.rollback(b.id, b.user ?? "api");
      },
    ],
    ["GET", /^\/v1\/history$/, async () => agent.history()],
    [
      "GET",
      /^\/v1\/history\/(\d+)$/,
      async (_q, _s, [id]) => {
        const e = agent.historyEntry(Number(id));
        if (!e) throw new HttpError(404, `no history entry ${id}`);
        return e;
      },
    ],
    ["GET", /^\/v1\/stats$/, async () => agent.stats()],
    ["GET", /^\/v1\/stats\/latest$/, async () => agent.latestSample()],
    ["GET", /^\/v1\/flows$/, async () => agent.flows()],
    ["GET", /^\/v1\/devices$/, async () => agent.devices()],
    [
      "POST",
      /^\/v1\/test-pattern$/,
      async (req) => agent.testPattern(parse(TestPatternRequest, await readJson(req))),
    ],
  ];

  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    if (req.method === "GET" && url.pathname === "/v1/stats/stream") {
      streamStats(agent, req, res);
      return;
    }
    const route = routes.find(([m, re]) => m === req.method && re.test(url.pathname));
    if (!route) {
      send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      return;
    }
    const params = route[1].exec(url.pathname)!.slice(1);
    route[2](req, res, params).then(
      // null is an answer (no stats sample yet); a handler that returns nothing says ok
      (body) => send(res, 200, body === undefined ? { ok: true } : body),
      (e: unknown) => {
        if (e instanceof HttpError) send(res, e.status, { error: e.message, ...e.body });
        else if (e instanceof ApplyError) {
          const body: ApplyErrorBody = {
            error: e.message,
            step: e.step,
            issues: e.issues,
            ...(e.command ? { command: e.command.join(" ") } : {}),
            ...(e.stderr !== undefined ? { stderr: e.stderr } : {}),
            restored: e.restored,
            ...(e.entry ? { entry: e.entry.id } : {}),
          };
          send(res, e.step === "validate" ? 422 : 500, body);
        } else {
          agent.log.error({ err: e }, "api error");
          send(res, 500, { error: (e as Error).message });
        }
      },
    );
  });
}

function streamStats(agent: ControlTarget, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  const latest = agent.latestSample();
  if (latest) res.write(`data: ${JSON.stringify(latest)}\n\n`);
  const off = agent.onSample((s) => res.write(`data: ${JSON.stringify(s)}\n\n`));
  req.on("close", off);
}

export function listenUnix(server: Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  if (existsSync(path)) unlinkSync(path);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      chmodSync(path, 0o660);
      resolve();
    });
  });
}
