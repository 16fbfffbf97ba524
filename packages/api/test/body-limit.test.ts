// Body size limits on /api/trpc (issue 17.2): an oversized body is refused with 413 after
// reading at most the cap (chunked) or nothing at all (Content-Length), through the same
// fetch handler the Next route calls. The memory bound on the real server process is in
// apps/web/test/body-limit.test.ts.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { handleTrpcWith, BODY_LIMIT_BYTES } from "../src/index.ts";
import { harness, adminBrowser, type Harness, type Browser } from "./harness.ts";
import { pcapFile, ethernetFrame, tcpConversation } from "../../classifier/test/helpers/frames.ts";

const CAPTURE_MAX = 1024 * 1024; // a small capture cap keeps the test quick
let h: Harness;
let admin: Browser;

before(async () => {
  h = await harness({ captureMaxBytes: CAPTURE_MAX });
  admin = await adminBrowser(h);
});
after(() => h.close());

/** A body of `total` bytes made on demand, counting what the server pulled. */
function lazyBody(total: number, prefix = "") {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const state = { pulled: 0 };
  const head = new TextEncoder().encode(prefix);
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (state.pulled >= total) return c.close();
      const part =
        state.pulled === 0 && head.length
          ? head
          : chunk.subarray(0, Math.min(chunk.length, total - state.pulled));
      state.pulled += part.length;
      c.enqueue(part);
    },
  });
  return { stream, state };
}

function post(
  path: string,
  body: string | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
  who?: Browser,
): Promise<Response> {
  const csrf = who?.jar.get("sluice_csrf") ?? "anon-token";
  const session = who?.jar.get("sluice_session");
  return handleTrpcWith(
    h.deps,
    new Request(`http://sluice.test/api/trpc/${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: `sluice_csrf=${csrf}${session ? `; sluice_session=${session}` : ""}`,
        "x-csrf-token": csrf,
        host: "sluice.test",
        ...headers,
      },
      body,
      duplex: "half",
    } as RequestInit),
  );
}

async function errorCode(res: Response): Promise<string> {
  const j = (await res.json()) as
    { error?: { data?: { code?: string } } } | { error?: { data?: { code?: string } } }[];
  const one = Array.isArray(j) ? j[0] : j;
  return one?.error?.data?.code ?? "";
}

test("a 100 MB anonymous sign-in (chunked) is refused with 413 after reading at most the cap", async () => {
  const { stream, state } = lazyBody(100 * 1024 * 1024, '{"username":"admin","password":"');
  const res = await post("auth.login", stream);
  assert.equal(res.status, 413);
  assert.equal(await errorCode(res), "PAYLOAD_TOO_LARGE");
  assert.ok(state.pulled <= BODY_LIMIT_BYTES + 2 * 64 * 1024, `pulled ${state.pulled} bytes`);
});

test("a declared Content-Length over the cap is refused without reading the body", async () => {
  const { stream, state } = lazyBody(100 * 1024 * 1024);
  const res = await post("auth.login", stream, { "content-length": String(100 * 1024 * 1024) });
  assert.equal(res.status, 413);
  assert.equal(await errorCode(res), "PAYLOAD_TOO_LARGE");
  assert.ok(state.pulled <= 2 * 64 * 1024, `pulled ${state.pulled} bytes`);
});

test("a batch refuses past the small cap; a normal sign-in body still passes", async () => {
  const { stream, state } = lazyBody(BODY_LIMIT_BYTES + 1);
  const res = await post("auth.login,auth.login?batch=1", stream);
  // sign-ins are never batched (http/batch-guard.ts): refused before the body is read
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), "BAD_REQUEST");
  assert.ok(state.pulled <= BODY_LIMIT_BYTES + 2 * 64 * 1024, `pulled ${state.pulled} bytes`);
  const ok = await post("auth.login", JSON.stringify({ username: "admin", password: "wrong password" }));
  assert.equal(ok.status, 401);
});

test("the capture upload has the capture cap: over it 413 unread, under it classified", async () => {
  const big = lazyBody(100 * 1024 * 1024, '{"name":"big.pcap","dataBase64":"');
  const res = await post("protocols.classifyCapture", big.stream, {}, admin);
  assert.equal(res.status, 413);
  const cap = Math.ceil(CAPTURE_MAX / 3) * 4 + 64 * 1024;
  assert.ok(big.state.pulled <= cap + 2 * 64 * 1024, `pulled ${big.state.pulled} bytes`);
  // A body above the small cap but within the capture cap reaches the procedure.
  const frames = tcpConversation(
    ["10.0.0.2", 40000],
    ["10.0.0.1", 80],
    [
      { dir: "c2s", data: "GET / HTTP/1.1\r\nHost: x\r\n\r\n" },
      { dir: "s2c", data: "HTTP/1.1 200 OK\r\n\r\n" },
    ],
  ).map((f) => ethernetFrame(f));
  const pcap = pcapFile(frames);
  const padded = Buffer.concat([pcap, Buffer.alloc(400 * 1024)]); // trailing junk: a damaged capture
  const body = JSON.stringify({ name: "ok.pcap", dataBase64: padded.toString("base64") });
  assert.ok(body.length > BODY_LIMIT_BYTES);
  const good = await post("protocols.classifyCapture", body, {}, admin);
  assert.equal(good.status, 200, await good.clone().text());
  const j = (await good.json()) as { result: { data: { frames: number } } };
  assert.ok(j.result.data.frames >= 2);
  // The upload cap is for the upload alone: the same body to another procedure is refused.
  const other = await post("policy.savePolicy", body, {}, admin);
  assert.equal(other.status, 413);
});
