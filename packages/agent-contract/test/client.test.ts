// The contract's client against a small server on a unix socket: JSON answers, refusals as
// AgentApiError with the body, an absent agent as AgentUnreachableError, and SSE frames split
// across chunks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AgentApiError,
  AgentClient,
  AgentUnreachableError,
  DEFAULT_SOCKET_PATH,
  ROUTES,
  socketFromEnv,
} from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-contract-"));

async function serve(handler: Parameters<typeof createServer>[1]) {
  const socket = join(dir, `s${Math.random().toString(36).slice(2)}.sock`);
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test("the default socket, and $SLUICE_SOCKET over it", () => {
  assert.equal(socketFromEnv({}), DEFAULT_SOCKET_PATH);
  assert.equal(socketFromEnv({ SLUICE_SOCKET: "/tmp/x.sock" }), "/tmp/x.sock");
  assert.equal(socketFromEnv({ SLUICE_SOCKET: "" }), DEFAULT_SOCKET_PATH);
});

test("typed calls send JSON to the route's path; refusals carry status and body", async () => {
  const seen: string[] = [];
  const s = await serve((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.url === ROUTES.apply.path) {
        res.writeHead(422, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: "invalid policy",
            step: "validate",
            issues: [{ path: "x", message: "y" }],
          }),
        );
      } else res.end(JSON.stringify({ id: 7, at: "now", user: "u", status: "applied", lastGood: true }));
    });
  });
  const c = new AgentClient(s.socket);
  assert.equal((await c.rollback({ id: 3, user: "u" })).id, 7);
  await assert.rejects(
    c.apply({ policy: {}, user: "u" }),
    (e: unknown) => e instanceof AgentApiError && e.status === 422 && e.message === "invalid policy",
  );
  assert.deepEqual(seen, [
    `POST /v1/rollback {"id":3,"user":"u"}`,
    `POST /v1/apply {"policy":{},"user":"u"}`,
  ]);
  await s.close();
  await assert.rejects(
    c.status(),
    (e: unknown) => e instanceof AgentUnreachableError && e.socket === s.socket,
  );
});

test("the stats stream: frames split across writes, then one error when it ends", async () => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write('data: {"t":1,');
    setTimeout(() => res.write('"x":2}\n\ndata: {"t":2}\n\n'), 20);
    setTimeout(() => res.end(), 60);
  });
  const got: unknown[] = [];
  const err = await new Promise<Error>((resolve) => {
    new AgentClient(s.socket).streamStats((x) => got.push(x), resolve);
  });
  assert.deepEqual(got, [{ t: 1, x: 2 }, { t: 2 }]);
  assert.match(err.message, /stream (ended|closed)/);
  await s.close();
});
