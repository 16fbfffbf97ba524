// Password guessing: attempts are counted before the password is checked (batched, concurrent
// or not), the guessing client is limited and never the account, the client address is the
// socket's unless a trusted proxy forwards it, and X-Forwarded-Proto only counts from one.
// HTTP-level cases go through handleTrpcWith with real fetch Requests (the route handler's path).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { handleTrpcWith, type ApiDeps } from "../src/index.ts";
import { PEER_HEADER, peerStamp, parseTrustedProxies } from "../src/http/client-address.ts";
import { limitKey } from "../src/auth/password-guard.ts";
import { adminBrowser, harness, trpcError, type Harness } from "./harness.ts";

let h: Harness;
let checks = 0;
before(async () => {
  h = await harness({ login: { maxFailuresPerIp: 12, maxFailuresPerUser: 5, windowMs: 15 * 60_000 } });
  await adminBrowser(h);
  await h.db.users.create({ username: "viewer", password: "viewer password", role: "viewer" });
  // count the real password checks (argon2 verifications)
  const verify = h.db.users.verify.bind(h.db.users);
  h.db.users.verify = (u, p) => {
    checks++;
    return verify(u, p);
  };
});
after(() => h.close());

/** One HTTP request to /api/trpc as a client at `peer` (the socket address the server stamps). */
async function http(
  deps: ApiDeps,
  path: string,
  opts: { peer: string; body?: unknown; headers?: Record<string, string>; batch?: boolean; cookie?: string },
): Promise<Response> {
  const url = `http://sluice.test/api/trpc/${path}${opts.batch ? "?batch=1" : ""}`;
  const headers = new Headers({
    [PEER_HEADER]: peerStamp(opts.peer),
    host: "sluice.test",
    origin: "http://sluice.test",
    ...(opts.cookie ? { cookie: opts.cookie } : {}),
    ...opts.headers,
  });
  if (opts.body === undefined) return handleTrpcWith(deps, new Request(url, { headers }));
  headers.set("content-type", "application/json");
  return handleTrpcWith(deps, new Request(url, { method: "POST", headers, body: JSON.stringify(opts.body) }));
}

/** A client at `peer` with the CSRF cookie the session probe hands out. */
async function client(peer: string, headers: Record<string, string> = {}) {
  const res = await http(h.deps, "auth.getSession", { peer, headers });
  const csrf = /sluice_csrf=([^;]+)/.exec(res.headers.getSetCookie().join("\n"))![1]!;
  const cookie = `sluice_csrf=${csrf}`;
  return {
    cookie,
    login: (username: string, password: string, extra: Record<string, string> = {}) =>
      http(h.deps, "auth.login", {
        peer,
        cookie,
        body: { username, password },
        headers: { "x-csrf-token": decodeURIComponent(csrf), ...headers, ...extra },
      }),
  };
}

const codeOf = async (r: Response) =>
  ((await r.json()) as { error?: { data?: { code?: string } } }).error?.data?.code ?? "OK";

test("a batch of 100 sign-ins in one request: refused whole, no password checked", async () => {
  const c = await client("192.0.2.50");
  const before = checks;
  const n = 100;
  const body = Object.fromEntries(
    Array.from({ length: n }, (_, i) => [String(i), { username: "admin", password: `guess${i}` }]),
  );
  const csrf = decodeURIComponent(/sluice_csrf=(.*)/.exec(c.cookie)![1]!);
  const res = await http(h.deps, Array(n).fill("auth.login").join(","), {
    peer: "192.0.2.50",
    batch: true,
    cookie: c.cookie,
    body,
    headers: { "x-csrf-token": csrf },
  });
  const out = (await res.json()) as { error?: { message: string; data: { code: string } } }[];
  assert.equal(out.length, n);
  assert.ok(out.every((r) => r.error?.data.code === "BAD_REQUEST"));
  assert.match(out[0]!.error!.message, /auth\.login cannot be batched/);
  assert.ok(!res.headers.getSetCookie().some((s) => s.startsWith("sluice_session=")), "no session");
  assert.ok(checks - before <= 5, `${checks - before} password checks`);
  assert.equal(checks - before, 0);
  // a sign-in hidden among harmless calls is refused too; a batch of queries still works
  const mixed = await http(h.deps, "auth.getSession,auth.login", {
    peer: "192.0.2.50",
    batch: true,
    cookie: c.cookie,
    body: { 0: {}, 1: { username: "admin", password: "x" } },
    headers: { "x-csrf-token": csrf },
  });
  assert.equal(mixed.status, 400);
  const queries = await http(h.deps, "auth.getSession,auth.getSession", {
    peer: "192.0.2.50",
    batch: true,
    cookie: c.cookie,
  });
  assert.equal(queries.status, 200);
});

test("100 concurrent sign-ins for one user from one client: at most 5 password checks", async () => {
  const b = h.browser({ ip: "192.0.2.60" });
  await (await b.api()).auth.getSession();
  const before = checks;
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, async (_, i) =>
      (await b.api()).auth.login({ username: "admin", password: `guess${i}` }),
    ),
  );
  const codes = results.map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "OK"));
  assert.ok(checks - before <= 5, `${checks - before} password checks`);
  assert.equal(codes.filter((c) => c === "UNAUTHORIZED").length, checks - before);
  assert.equal(codes.filter((c) => c === "TOO_MANY_REQUESTS").length, 100 - (checks - before));
  // refused attempts are not recorded: the client's count is the checked ones
  const f = await h.db.loginAttempts.recentFailures({ ip: "192.0.2.60", username: "admin" });
  assert.equal(f.pair, checks - before);
});

test("no account lockout: the guessing client is refused, the right password from elsewhere works", async () => {
  const guesser = h.browser({ ip: "198.51.100.7" });
  await (await guesser.api()).auth.getSession();
  for (let i = 0; i < 5; i++) {
    const e = await trpcError(async () =>
      (await guesser.api()).auth.login({ username: "viewer", password: `wrong${i}` }),
    );
    assert.equal(e.code, "UNAUTHORIZED");
  }
  const before = checks;
  const blocked = await trpcError(async () =>
    (await guesser.api()).auth.login({ username: "viewer", password: "viewer password" }),
  );
  assert.equal(blocked.code, "TOO_MANY_REQUESTS", "the guessing client, even with the right password");
  assert.equal(checks, before, "refused before any password check");
  // the owner of the account, from another address, signs in as usual
  const owner = h.browser({ ip: "203.0.113.40" });
  await owner.signIn("VIEWER", "viewer password");
  assert.equal((await (await owner.api()).auth.getSession()).user?.username, "viewer");
  // the per-user count is kept, and the audit log says someone is guessing
  assert.equal((await h.db.loginAttempts.recentFailures({ username: "viewer" })).username, 5);
  const alert = await h.db.audit.list({ action: "login.alert" });
  assert.equal(alert.items[0]?.target, "viewer");
  assert.ok((await h.db.audit.list({ action: "login.blocked" })).total >= 1);
});

test("per client address: failures over many user names lock that address out only", async () => {
  const c = h.browser({ ip: "203.0.113.5" });
  await (await c.api()).auth.getSession();
  for (let i = 0; i < 12; i++) {
    const e = await trpcError(async () =>
      (await c.api()).auth.login({ username: `nobody${i}`, password: "x" }),
    );
    assert.equal(e.code, "UNAUTHORIZED");
  }
  const e = await trpcError(async () => (await c.api()).auth.login({ username: "someone", password: "x" }));
  assert.equal(e.code, "TOO_MANY_REQUESTS");
  assert.equal((await h.db.loginAttempts.recentFailures({ ip: "203.0.113.5" })).ip, 12);
  // IPv6: one host's /64 is one client
  assert.equal(limitKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(limitKey("2001:db8:1:2::ffff"), limitKey("2001:0db8:0001:0002:ffff:0:0:1"));
  assert.equal(limitKey("192.0.2.1"), "192.0.2.1");
});

test("X-Forwarded-For from a client is ignored: rotating it gives no fresh address bucket", async () => {
  const peer = "198.51.100.200";
  const c = await client(peer);
  for (let i = 0; i < 12; i++) {
    const r = await c.login(`spray${i}`, "Winter2026!", { "x-forwarded-for": `10.9.${i}.${i + 1}` });
    assert.equal(await codeOf(r), "UNAUTHORIZED");
  }
  const r = await c.login("spray99", "Winter2026!", {
    "x-forwarded-for": "10.200.0.1",
    "x-real-ip": "10.0.0.9",
  });
  assert.equal(await codeOf(r), "TOO_MANY_REQUESTS");
  assert.equal((await h.db.loginAttempts.recentFailures({ ip: peer })).ip, 12);
  assert.equal((await h.db.loginAttempts.recentFailures({ ip: "10.9.0.1" })).ip, 0);
  // a forged stamp counts for nothing: the address is "unknown"
  const forged = await http(h.deps, "auth.getSession", {
    peer,
    headers: { [PEER_HEADER]: "not-the-secret 10.1.1.1" },
  });
  assert.equal(forged.status, 200);
});

test("SLUICE_TRUSTED_PROXIES: through a listed proxy, its X-Forwarded-For names the client", async () => {
  const deps: ApiDeps = {
    ...h.deps,
    config: { ...h.deps.config, trustedProxies: ["127.0.0.1", "10.0.0.0/8"] },
  };
  const res = await http(deps, "auth.getSession", {
    peer: "127.0.0.1",
    headers: { "x-forwarded-for": "6.6.6.6, 192.0.2.77, 10.1.2.3", "x-forwarded-proto": "https" },
  });
  assert.equal(res.status, 200);
  // the right-most address that is not a trusted proxy is the client (6.6.6.6 is its own claim)
  const audit = async () => {
    const csrf = /sluice_csrf=([^;]+)/.exec(res.headers.getSetCookie().join("\n"))![1]!;
    await http(deps, "auth.login", {
      peer: "127.0.0.1",
      cookie: `sluice_csrf=${csrf}`,
      body: { username: "ghost", password: "x" },
      headers: {
        "x-csrf-token": decodeURIComponent(csrf),
        "x-forwarded-for": "6.6.6.6, 192.0.2.77, 10.1.2.3",
        "x-forwarded-proto": "https",
      },
    });
    return (await h.db.audit.list({ action: "login.failed" })).items[0]?.ip;
  };
  assert.equal(await audit(), "192.0.2.77");
  // X-Forwarded-Proto from the trusted proxy: Secure cookies
  assert.ok(res.headers.getSetCookie().every((s) => /; Secure/.test(s)));
  // the same headers from a client that is not a listed proxy: neither counts
  const direct = await http(deps, "auth.getSession", {
    peer: "192.0.2.99",
    headers: { "x-forwarded-for": "10.1.2.3", "x-forwarded-proto": "https" },
  });
  assert.ok(
    direct.headers.getSetCookie().every((s) => !/Secure/.test(s)),
    "no Secure from a client's header",
  );
  // a typo in the list stops the server instead of trusting nobody (or everybody) silently
  assert.throws(() => parseTrustedProxies(["10.0.0.0/33"]), /not an address or a CIDR range/);
  assert.throws(() => parseTrustedProxies(["proxy.lan"]), /SLUICE_TRUSTED_PROXIES/);
});

test("X-Forwarded-Proto: https from any client does not make cookies Secure", async () => {
  const res = await http(h.deps, "auth.getSession", {
    peer: "192.0.2.123",
    headers: { "x-forwarded-proto": "https" },
  });
  const cookies = res.headers.getSetCookie();
  assert.ok(cookies.length > 0);
  assert.ok(
    cookies.every((s) => !/Secure/.test(s)),
    cookies.join("\n"),
  );
});

test("users.changePassword: guesses of the current password are limited", async () => {
  const b = h.browser({ ip: "192.0.2.201" });
  await b.signIn("admin", "correct horse");
  for (let i = 0; i < 5; i++) {
    const e = await trpcError(async () =>
      (await b.api()).users.changePassword({ current: `guess${i}`, next: "a new password" }),
    );
    assert.equal(e.code, "BAD_REQUEST");
  }
  const before = checks;
  const e = await trpcError(async () =>
    (await b.api()).users.changePassword({ current: "correct horse", next: "a new password" }),
  );
  assert.equal(e.code, "TOO_MANY_REQUESTS");
  assert.equal(checks, before, "no password check once limited");
  // the admin still signs in from elsewhere, with the unchanged password
  await h.browser({ ip: "192.0.2.202" }).signIn("admin", "correct horse");
});

test("control characters in user names and other free text are refused with the field named", async () => {
  const c = await client("192.0.2.210");
  const r = await c.login("admin\nCOMMIT", "correct horse");
  const body = (await r.json()) as { error: { message: string; data: { code: string; issues: unknown } } };
  assert.equal(body.error.data.code, "BAD_REQUEST");
  assert.match(
    body.error.message,
    /^username: control characters .* not allowed: found U\+000A at character 6$/,
  );
  assert.deepEqual(body.error.data.issues, [{ path: "username", message: body.error.message.slice(10) }]);
  const admin = h.browser({ ip: "192.0.2.211" });
  await admin.signIn("admin", "correct horse");
  const e2 = await trpcError(async () =>
    (await admin.api()).users.createUser({ username: "eve\u2028", password: "long enough", role: "viewer" }),
  );
  assert.match(e2.message, /"username"/);
  assert.match(e2.message, /control characters .* not allowed: found U\+2028/);
  const e4 = await trpcError(async () =>
    (await admin.api()).settings.saveInterfaces({
      wan: { device: "wan0", rate: "20mbit" },
      lan: { device: "lan0", rate: "20mbit\r\n" },
    }),
  );
  assert.equal(e4.code, "BAD_REQUEST");
  assert.match(e4.message, /"lan",\s*"rate"/);
  const policy = (await (await admin.api()).policy.getPolicy()).policy;
  const e3 = await trpcError(async () =>
    (await admin.api()).policy.savePolicy({ policy: { ...policy, name: "lab\nCOMMIT\n*filter" } }),
  );
  assert.equal(e3.code, "BAD_REQUEST");
  assert.match(e3.message, /control characters/);
});
