// First-run setup, sign-in and sign-out, cookies, CSRF, and login rate limiting.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { harness, trpcError, type Harness } from "./harness.ts";

let h: Harness;
before(async () => {
  h = await harness({
    login: { maxFailuresPerIp: 8, maxFailuresPerUser: 5, windowMs: 15 * 60_000 },
  });
});
after(() => h.close());

test("first run: the setup creates the admin, signs in with http-only SameSite=Lax cookies", async () => {
  const b = h.browser();
  const s = await (await b.api()).auth.getSession();
  assert.equal(s.needsSetup, true);
  assert.equal(s.user, null);
  const csrf = b.lastSetCookies.find((c) => c.startsWith("sluice_csrf="));
  assert.ok(csrf, "the session probe hands out a CSRF cookie");
  assert.match(csrf!, /SameSite=Lax/);
  assert.doesNotMatch(csrf!, /HttpOnly/, "the dashboard's script must read the CSRF cookie");

  const short = await trpcError(async () =>
    (await b.api()).auth.setupAdmin({ username: "admin", password: "short" }),
  );
  assert.equal(short.code, "BAD_REQUEST");

  await (await b.api()).auth.setupAdmin({ username: "Admin", password: "correct horse" });
  const session = b.lastSetCookies.find((c) => c.startsWith("sluice_session="));
  assert.ok(session);
  assert.match(session!, /HttpOnly/);
  assert.match(session!, /SameSite=Lax/);
  assert.doesNotMatch(session!, /Secure/, "plain http here: no Secure flag");
  const me = await (await b.api()).auth.getSession();
  assert.deepEqual(me.user && { username: me.user.username, role: me.user.role }, {
    username: "admin",
    role: "admin",
  });
  const stored = await h.db.users.findByUsername("admin");
  assert.ok(stored);
  const audit = await h.db.audit.list({ action: "user.setup" });
  assert.equal(audit.items[0]?.username, "admin");
  // the policy was seeded from what the agent has installed
  assert.ok(await h.db.policy.exists());
});

test("over https the cookies are Secure", async () => {
  const b = h.browser();
  (b as unknown as { origin: string }).origin = "https://sluice.test";
  const { createContext } = await import("../src/index.ts");
  const cookies: string[] = [];
  const ctx = await createContext(
    h.deps,
    {
      ip: "192.0.2.9",
      userAgent: null,
      origin: null,
      host: "sluice.test",
      secure: true,
      cookies: {},
      csrfHeader: null,
    },
    { setCookie: (c) => cookies.push(c) },
  );
  const { appRouter, createCallerFactory } = await import("../src/index.ts");
  await createCallerFactory(appRouter)(ctx).auth.getSession();
  assert.match(cookies[0]!, /; Secure/);
});

test("sign in, then sign out: the session is gone server-side", async () => {
  const b = h.browser({ ip: "192.0.2.20" });
  await b.signIn("admin", "correct horse");
  const token = b.jar.get("sluice_session")!;
  assert.ok(token);
  assert.ok(await h.db.sessions.validate(token));
  await (await b.api()).auth.logout();
  assert.equal(b.jar.get("sluice_session"), undefined);
  assert.equal(await h.db.sessions.validate(token), null);
  b.jar.set("sluice_session", token); // replaying the old cookie does not work
  const e = await trpcError(async () => (await b.api()).policy.getPolicy());
  assert.equal(e.code, "UNAUTHORIZED");
});

test("CSRF: a mutation without the token header, with a wrong one, or from another origin is refused", async () => {
  const b = h.browser({ ip: "192.0.2.21" });
  await b.signIn("admin", "correct horse");
  const policy = (await (await b.api()).policy.getPolicy()).policy;
  for (const [what, opts] of [
    ["no header", { csrf: false }],
    ["wrong header", { csrf: "not-the-token" }],
    ["other origin", { origin: "http://evil.example" }],
  ] as const) {
    const e = await trpcError(async () => (await b.api(opts)).policy.savePolicy({ policy }));
    assert.equal(e.code, "FORBIDDEN", what);
  }
  // a token that matches a planted cookie but is not the session's is refused too
  b.jar.set("sluice_csrf", "planted");
  const e = await trpcError(async () => (await b.api({ csrf: "planted" })).policy.savePolicy({ policy }));
  assert.equal(e.code, "FORBIDDEN");
  assert.match(e.message, /session/);
  // queries need no token; the session probe puts the right cookie back
  await (await b.api({ csrf: false })).auth.getSession();
  assert.notEqual(b.jar.get("sluice_csrf"), "planted");
  await (await b.api()).policy.savePolicy({ policy });
  // login is a mutation too
  const anon = h.browser({ ip: "192.0.2.22" });
  const e2 = await trpcError(async () =>
    (await anon.api()).auth.login({ username: "admin", password: "correct horse" }),
  );
  assert.equal(e2.code, "FORBIDDEN", "no CSRF cookie yet");
});

test("login rate limiting: per client and username, then per client (never the account)", async () => {
  await (await h.browser().api()).auth.getSession();
  const b = h.browser({ ip: "198.51.100.7" });
  await (await b.api()).auth.getSession();
  for (let i = 0; i < 5; i++) {
    const e = await trpcError(async () =>
      (await b.api()).auth.login({ username: "admin", password: `wrong${i}` }),
    );
    assert.equal(e.code, "UNAUTHORIZED");
  }
  // the guessing client is refused for this username, even with the right password
  const blocked = await trpcError(async () =>
    (await b.api()).auth.login({ username: "ADMIN", password: "correct horse" }),
  );
  assert.equal(blocked.code, "TOO_MANY_REQUESTS", "the username limit is case-insensitive");
  // the account is not locked: from another address the right password works
  const other = h.browser({ ip: "198.51.100.99" });
  await other.signIn("admin", "correct horse");
  assert.equal((await (await other.api()).auth.getSession()).user?.username, "admin");
  assert.equal((await h.db.audit.list({ action: "login.blocked" })).total >= 1, true);

  // per IP: failures for many usernames from one address
  const c = h.browser({ ip: "203.0.113.5" });
  await (await c.api()).auth.getSession();
  for (let i = 0; i < 8; i++) {
    const e1 = await trpcError(async () =>
      (await c.api()).auth.login({ username: `nobody${i}`, password: "x" }),
    );
    assert.equal(e1.code, "UNAUTHORIZED");
  }
  const e3 = await trpcError(async () => (await c.api()).auth.login({ username: "someone", password: "x" }));
  assert.equal(e3.code, "TOO_MANY_REQUESTS");
  const failures = await h.db.loginAttempts.recentFailures({ ip: "203.0.113.5" });
  assert.equal(failures.ip, 8, "blocked attempts are not counted again");
});
