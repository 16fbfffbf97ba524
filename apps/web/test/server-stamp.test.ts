// apps/web/server.ts in front of Next: every request carries the socket's address under the
// stamp only this process can make, and a client's own X-Forwarded-* headers are dropped
// unless the client is a listed proxy. (The e2e test checks the same through Next.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { PEER_HEADER, clientOf } from "@sluice/api/peer";
import { stampRequest } from "../server.ts";

/** One request through a server that stamps like server.ts; returns the headers Next would see. */
async function seen(trusted: string[], headers: Record<string, string>): Promise<Headers> {
  const server = createServer((req, res) => {
    stampRequest(req, trusted);
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, headers }, (res) => {
        let s = "";
        res.on("data", (c: Buffer) => (s += c.toString()));
        res.on("end", () => resolve(s));
      });
      req.on("error", reject);
      req.end();
    });
    return new Headers(JSON.parse(body) as Record<string, string>);
  } finally {
    server.close();
  }
}

test("a client's forged stamp and X-Forwarded-* are replaced by the socket's address", async () => {
  const h = await seen([], {
    [PEER_HEADER]: "guess 10.0.0.1",
    "x-forwarded-for": "10.0.0.2",
    "x-forwarded-proto": "https",
    "x-real-ip": "10.0.0.3",
  });
  assert.equal(h.get("x-forwarded-for"), null);
  assert.equal(h.get("x-forwarded-proto"), null);
  assert.equal(h.get("x-real-ip"), null);
  assert.deepEqual(clientOf(h, []), { ip: "127.0.0.1", viaTrustedProxy: false });
});

test("from a listed proxy, X-Forwarded-* pass and name the client", async () => {
  const h = await seen(["127.0.0.1"], { "x-forwarded-for": "192.0.2.8", "x-forwarded-proto": "https" });
  assert.equal(h.get("x-forwarded-proto"), "https");
  assert.deepEqual(clientOf(h, ["127.0.0.1"]), { ip: "192.0.2.8", viaTrustedProxy: true });
});
