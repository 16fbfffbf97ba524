// Client of the agent's control API over its unix socket (used by the CLI and the dashboard).

import { request } from "node:http";

export const DEFAULT_SOCKET = process.env.SLUICE_SOCKET ?? "/run/sluice/agent.sock";

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
  constructor(socket: string, cause: Error) {
    super(
      `the agent is not reachable at ${socket} (${(cause as NodeJS.ErrnoException).code ?? cause.message}): is it running?`,
    );
    this.name = "AgentUnreachableError";
  }
}

export class AgentClient {
  readonly socket: string;
  readonly timeoutMs: number;
  constructor(socket = DEFAULT_SOCKET, timeoutMs = 30_000) {
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

  /** Server-Sent Events from /v1/stats/stream; returns a function that stops the stream. */
  stream(path: string, onEvent: (data: unknown) => void, onError: (e: Error) => void): () => void {
    const req = request({ socketPath: this.socket, method: "GET", path }, (res) => {
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
          if (data) onEvent(JSON.parse(data));
        }
      });
      res.on("end", () => onError(new Error("stream ended")));
    });
    req.on("error", (e) => onError(new AgentUnreachableError(this.socket, e)));
    req.end();
    return () => req.destroy();
  }
}
