// Robustness (issue 16): every procedure of the router, called by a signed-in admin with
// random and mutated inputs, either answers or refuses with a TRPCError that carries a
// message and a code other than INTERNAL_SERVER_ERROR (a 500 means the input reached
// something that did not expect it). The procedure list comes from the router, so a
// procedure added later is fuzzed too.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import { appRouter } from "../src/index.ts";
import { harness, adminBrowser, type Harness, type Browser } from "./harness.ts";
import { pcapFile, ethernetFrame, tcpConversation } from "../../classifier/test/helpers/frames.ts";

let h: Harness;
let admin: Browser;

before(async () => {
  h = await harness({ captureMaxBytes: 64 * 1024 });
  admin = await adminBrowser(h);
});
after(() => h.close());

const procedures = Object.keys(appRouter._def.procedures).sort();

const capture = pcapFile(
  tcpConversation(
    ["10.0.0.2", 40000],
    ["10.0.0.1", 80],
    [{ dir: "c2s", data: "GET / HTTP/1.1\r\nHost: x\r\n\r\n" }],
  ).map((f) => ethernetFrame(f)),
).toString("base64");

/** A valid input per procedure, the seed of the mutations (none: {}). */
const seeds: Record<string, unknown> = {
  "auth.login": { username: "someone", password: "wrong password" },
  "auth.setupAdmin": { username: "second", password: "12345678" },
  "users.changePassword": { current: "wrong", next: "another password" },
  "users.createUser": { username: "viewer1", password: "12345678", role: "viewer" },
  "users.setPassword": { id: 2, password: "12345678" },
  "users.removeUser": { id: 99 },
  "stats.getHistory": { hours: 6 },
  "stats.getLive": { since: 0 },
  "policy.loadVersion": { versionId: 1 },
  "audit.listAudit": { limit: 10, offset: 0 },
  "deploy.tryPolicy": { seconds: 60 },
  "deploy.rollbackPolicy": { agentEntryId: 1 },
  "settings.saveInterfaces": {
    wan: { device: "wan0", rate: "20mbit" },
    lan: { device: "lan0", rate: "100mbit" },
  },
  "devices.saveDevices": {
    networks: ["192.168.77.0/24"],
    devices: [{ name: "tv", hosts: ["192.168.77.20", "02:00:00:00:00:20"], download: { rate: "2mbit" } }],
  },
  "settings.saveMetrics": { enabled: true, address: "127.0.0.1", port: 9712, token: "generate" },
  "protocols.testPattern": { l4: "tcp", dir: "c2s", text: "GET / HTTP/1.1" },
  "protocols.classifyCapture": { name: "x.pcap", dataBase64: capture },
};

const leaf = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom("", "viewer1", "\n", "x".repeat(5000), "*.example.com", "-1", "ff:00", "\\x00"),
  fc.integer(),
  fc.constantFrom(0, -1, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 53, 0.5),
);

/** The seed with a few values replaced, added or removed (deep). */
function mutate(seed: unknown): fc.Arbitrary<unknown> {
  return fc
    .array(
      fc.tuple(
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.option(leaf),
        fc.string({ maxLength: 8 }),
      ),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    .map((edits) => {
      const doc = structuredClone(seed) as Record<string, unknown>;
      if (doc === null || typeof doc !== "object") return doc;
      for (const [path, v, newKey] of edits) {
        let node: Record<string, unknown> = doc;
        for (let i = 0; i < path.length; i++) {
          const keys = Object.keys(node);
          const k = keys.length && path[i]! % 3 !== 0 ? keys[path[i]! % keys.length]! : newKey;
          const child = node[k];
          if (i === path.length - 1 || child === null || typeof child !== "object") {
            if (v === null) Reflect.deleteProperty(node, k);
            else node[k] = v;
            break;
          }
          node = child as Record<string, unknown>;
        }
      }
      return doc;
    });
}

function call(caller: unknown, path: string, input: unknown): Promise<unknown> {
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller);
  return (fn as (i: unknown) => Promise<unknown>)(input);
}

test(
  "random and mutated inputs to every procedure: an answer or a clear TRPCError, never a 500",
  { timeout: 600_000 },
  async () => {
    assert.ok(procedures.length >= 25);
    // the saved policy is a seed too (savePolicy, the biggest input)
    seeds["policy.savePolicy"] = {
      policy: (await (await admin.api()).policy.getPolicy()).policy,
      what: "classes",
    };
    const outcomes = new Map<string, number>();
    for (const path of procedures) {
      const seed = seeds[path] ?? {};
      const input = fc.oneof(
        { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 4, arbitrary: mutate(seed) },
      );
      await fc.assert(
        fc.asyncProperty(input, async (i) => {
          let caller = await admin.api();
          // a call may have ended the session (logout): sign in again, from another address (random
          // sign-ins never use the name "admin", so it is never locked out)
          if (!(await caller.auth.getSession()).user) {
            admin = h.browser({ ip: `198.51.100.${Math.floor(Math.random() * 250)}` });
            await admin.signIn("admin", "correct horse");
            caller = await admin.api();
          }
          try {
            await call(caller, path, i);
            outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
          } catch (e) {
            assert.ok(
              e instanceof TRPCError,
              `${path}(${JSON.stringify(i)?.slice(0, 300)}) threw ${String(e)}`,
            );
            assert.notEqual(
              e.code,
              "INTERNAL_SERVER_ERROR",
              `${path}(${JSON.stringify(i)?.slice(0, 300)}): ${e.message} ${String(e.cause)}`,
            );
            assert.ok(e.message.length > 0, `${path}: an error without a message`);
            outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
          }
        }),
        // FC_SEED replays a failure's printed seed (every procedure's run takes it)
        { numRuns: 30, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
      );
    }
    console.log(
      `# tRPC fuzz over ${procedures.length} procedures: ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    assert.ok((outcomes.get("ok") ?? 0) > 0 && (outcomes.get("BAD_REQUEST") ?? 0) > 0);
  },
);

test("found by the fuzzer: a policy whose rules, classes or devices are not lists of objects is BAD_REQUEST, not a 500", async () => {
  const policy = (await (await admin.api()).policy.getPolicy()).policy;
  for (const rules of [0, "x", [null], [1, { protocol: "http", class: "web" }]]) {
    const e = await (async () => {
      try {
        await (await admin.api()).policy.savePolicy({ policy: { ...policy, rules } });
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(e instanceof TRPCError, `rules ${JSON.stringify(rules)}: ${String(e)}`);
    assert.equal(e.code, "BAD_REQUEST", `rules ${JSON.stringify(rules)}: ${e.message}`);
    assert.match(e.message, /rules/);
  }
  // the kernel check runs before the schema (once the agent has told its capabilities):
  // lists that are not lists reach it too
  assert.ok((await (await admin.api()).agent.getHealth()).status?.capabilities);
  for (const [field, value] of [
    ["classes", { ...(policy.classes as object), download: {} }],
    ["classes", { upload: "x", download: [null, 1] }],
    ["devices", { 0: { name: "tv" } }],
  ] as const) {
    const e = await (await admin.api()).policy.savePolicy({ policy: { ...policy, [field]: value } }).then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(e instanceof TRPCError, `${field} ${JSON.stringify(value)}: ${String(e)}`);
    assert.equal(e.code, "BAD_REQUEST", `${field} ${JSON.stringify(value)}: ${e.message}`);
    assert.match(e.message, new RegExp(field));
  }
});

test("random requests over HTTP (paths, batches, bodies): never a 500, always a tRPC error with a message", async () => {
  const { handleTrpcWith } = await import("../src/index.ts");
  if (!(await (await admin.api()).auth.getSession()).user) {
    admin = h.browser({ ip: "198.51.100.251" });
    await admin.signIn("admin", "correct horse");
  }
  const csrf = admin.jar.get("sluice_csrf")!;
  const cookie = `sluice_session=${admin.jar.get("sluice_session")}; sluice_csrf=${csrf}`;
  const path = fc.oneof(
    fc.constantFrom(...procedures),
    fc
      .array(fc.constantFrom(...procedures, "nope", ""), { minLength: 1, maxLength: 4 })
      .map((p) => p.join(",")),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
  );
  const body = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    fc.constantFrom("", "{", "[", "null", '{"0":', '{"0":{"json":1}}', "\u0000", "[".repeat(5000)),
  );
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      path,
      body,
      fc.boolean(),
      fc.constantFrom("GET", "POST"),
      fc.constantFrom("application/json", "application/json", "application/json", "text/plain", ""),
      async (p, b, batch, method, type) => {
        const url = `http://sluice.test/api/trpc/${p}${batch ? "?batch=1" : ""}${method === "GET" ? `${batch ? "&" : "?"}input=${encodeURIComponent(b)}` : ""}`;
        const res = await handleTrpcWith(
          h.deps,
          new Request(url, {
            method,
            headers: {
              cookie,
              "x-csrf-token": csrf,
              host: "sluice.test",
              ...(type ? { "content-type": type } : {}),
            },
            ...(method === "POST" ? { body: b } : {}),
          }),
        );
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const text = await res.text();
        assert.ok(
          res.status < 500,
          `${method} ${url} ${JSON.stringify(b).slice(0, 200)}: ${res.status} ${text.slice(0, 300)}`,
        );
        if (res.status >= 400)
          assert.match(text, /"message":"[^"]+/, `${method} ${url}: an error without a message`);
      },
    ),
    { numRuns: 600 },
  );
  console.log(`# HTTP fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
});
