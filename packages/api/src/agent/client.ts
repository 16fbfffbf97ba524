// Client of the agent's control API over its unix socket. Copied from
// apps/agent/src/api/client.ts (the agent's own, used by its CLI) so the dashboard does not
// depend on the agent package; keep the two in step. Changes here: the socket is always
// passed in, and `stream` reports the open/close of the connection.

import { request } from "node:http";

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
  constructor(socket: string, timeoutMs = 30_000) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
  }

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

  /** Server-Sent Events from `path`; returns a function that stops the stream. */
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
