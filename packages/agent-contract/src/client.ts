// The one client of the agent's control API (the CLI's and the dashboard's): JSON over HTTP
// on the unix socket, and the stats stream as Server-Sent Events. Answers are typed by the
// contract's schemas; they are not re-parsed here (the agent's tests check them).

import { ROUTES, type ResponseOf } from "./routes.ts";
import type { ApplyRequest, RollbackRequest } from "./policy-ops.ts";
import type { StatsSample } from "./stats.ts";
import type { TestPatternInput } from "./test-pattern.ts";
import { socketFromEnv } from "./socket.ts";

// node:http through getBuiltinModule, not an ESM import: importing it as a module evaluates
// every export, and its lazy WebSocket/fetch ones load Node's bundled undici (~760 KB of
// source held in the heap, ~6 MB of heap and ~14 MB resident per process).
const { request } = process.getBuiltinModule("node:http");

/** The agent answered with an error status; `body` is its JSON ({ error, … }). */
export class AgentApiError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.error === "string" ? body.error : `agent answered ${status}`);
    this.name = "AgentApiError";
    this.status = status;
    this.body = body;
  }
}

/** Nobody answers on the socket (not running, wrong path, no permission). */
export class AgentUnreachableError extends Error {
  readonly socket: string;
  constructor(socket: string, cause: Error) {
    super(
      `the agent is not reachable at ${socket} (${(cause as NodeJS.ErrnoException).code ?? cause.message}): is it running?`,
    );
    this.name = "AgentUnreachableError";
    this.socket = socket;
  }
}

export class AgentClient {
  readonly socket: string;
  readonly timeoutMs: number;
  constructor(socket: string = socketFromEnv(), timeoutMs = 30_000) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
  }

  /** One request; rejects with AgentApiError (4xx/5xx) or AgentUnreachableError. */
  call<T = unknown>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socket,
          method,
          path,
          timeout: this.timeoutMs,
          headers: text
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(text) }
            : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            let parsed: Record<string, unknown>;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
            } catch {
              reject(new Error(`agent sent invalid JSON (${res.statusCode})`));
              return;
            }
            if ((res.statusCode ?? 500) >= 400) reject(new AgentApiError(res.statusCode ?? 500, parsed));
            else resolve(parsed as T);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`agent did not answer within ${this.timeoutMs} ms`)));
      req.on("error", (e) =>
        reject((e as NodeJS.ErrnoException).code ? new AgentUnreachableError(this.socket, e) : e),
      );
      req.end(text);
    });
  }

  status = () => this.call<ResponseOf<"status">>("GET", ROUTES.status.path);
  protocols = () => this.call<ResponseOf<"protocols">>("GET", ROUTES.protocols.path);
  apps = () => this.call<ResponseOf<"apps">>("GET", ROUTES.apps.path);
  render = (policy: unknown) => this.call<ResponseOf<"render">>("POST", ROUTES.render.path, { policy });
  apply = (body: ApplyRequest) => this.call<ResponseOf<"apply">>("POST", ROUTES.apply.path, body);
  confirm = () => this.call<ResponseOf<"confirm">>("POST", ROUTES.confirm.path);
  rollback = (body: RollbackRequest) => this.call<ResponseOf<"rollback">>("POST", ROUTES.rollback.path, body);
  history = () => this.call<ResponseOf<"history">>("GET", ROUTES.history.path);
  historyEntry = (id: number) =>
    this.call<ResponseOf<"historyEntry">>("GET", ROUTES.historyEntry.path.replace(":id", String(id)));
  stats = () => this.call<ResponseOf<"stats">>("GET", ROUTES.stats.path);
  statsLatest = () => this.call<ResponseOf<"statsLatest">>("GET", ROUTES.statsLatest.path);
  flows = () => this.call<ResponseOf<"flows">>("GET", ROUTES.flows.path);
  devices = () => this.call<ResponseOf<"devices">>("GET", ROUTES.devices.path);
  testPattern = (body: TestPatternInput) =>
    this.call<ResponseOf<"testPattern">>("POST", ROUTES.testPattern.path, body);

  /** The stats samples as they come (GET /v1/stats/stream); returns a function that stops. */
  streamStats(
    onSample: (s: StatsSample) => void,
    onError: (e: Error) => void,
    onOpen?: () => void,
  ): () => void {
    return this.stream(ROUTES.statsStream.path, (d) => onSample(d as StatsSample), onError, onOpen);
  }

  /**
   * Server-Sent Events from `path`; returns a function that stops the stream. `onError` is
   * called once, when the stream fails or ends (not after the caller stopped it).
   */
  stream(
    path: string,
    onEvent: (data: unknown) => void,
    onError: (e: Error) => void,
    onOpen?: () => void,
  ): () => void {
    let stopped = false;
    let failed = false;
    const fail = (e: Error) => {
      if (stopped || failed) return;
      failed = true;
      onError(e);
    };
    const req = request({ socketPath: this.socket, method: "GET", path }, (res) => {
      if ((res.statusCode ?? 500) >= 400) {
        res.resume();
        fail(new Error(`stream answered ${res.statusCode}`));
        return;
      }
      onOpen?.();
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame
            .split("\n")
            .filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6))
            .join("\n");
          if (!data) continue;
          try {
            onEvent(JSON.parse(data));
          } catch (e) {
            fail(e as Error);
          }
        }
      });
      // the agent going away ends the response one way or another
      res.on("end", () => fail(new Error("stream ended")));
      res.on("error", (e) => fail(e));
      res.on("close", () => fail(new Error("stream closed")));
    });
    req.on("error", (e) => fail(new AgentUnreachableError(this.socket, e)));
    req.end();
    return () => {
      stopped = true;
      req.destroy();
    };
  }
}
