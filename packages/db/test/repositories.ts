// The repository tests, run against each backend (sqlite.test.ts, postgres.test.ts).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  PolicySchema,
  TargetRuleSchema,
  defaultPolicy,
  validatePolicy,
  type PolicyInput,
} from "@sluice/policy";
import {
  PolicyValidationError,
  UserExistsError,
  UserInputError,
  seed,
  rollUp,
  type Db,
  type SampleLike,
} from "../src/index.ts";
import { MIN, T0, at, type TestBackend } from "./helpers.ts";

/** A policy that uses every field: a nested tree, string rates, ifb, a string mask. */
function fullPolicy(): PolicyInput {
  return {
    version: 1,
    name: "office",
    interfaces: {
      wan: { device: "eth0", rate: "100mbit" },
      lan: { device: "eth1", rate: "1gbit", networks: ["192.168.1.0/24"] },
    },
    download: "ifb",
    inspection: { packets: 8, bytes: 4096, queues: 4, queueBase: 10 },
    marks: { mask: "0xff0000", appMask: "0xff00" },
    classes: {
      upload: [
        { name: "voice", rate: "10mbit", ceil: "100mbit", priority: 0, leaf: "pfifo", description: "VoIP" },
        { name: "rest", rate: "50mbit", ceil: "100mbit" },
        {
          name: "web",
          parent: "rest",
          rate: "30mbit",
          ceil: "100mbit",
          quantum: 1514,
          burst: 15000,
          cburst: 3000,
        },
        { name: "other", parent: "rest", rate: "20mbit", ceil: "90mbit", default: true, leaf: "fq_codel" },
      ],
      download: [
        { name: "voice", rate: "10mbit", ceil: "100mbit", priority: 0 },
        { name: "web", rate: "60mbit", ceil: "100mbit", priority: 2, fairness: "host" },
        { name: "other", rate: "30mbit", ceil: "100mbit", default: true, leaf: "cake" },
      ],
    },
    devices: [
      {
        name: "printer",
        hosts: ["192.168.1.9", "02:00:00:00:00:09"],
        upload: { rate: "5mbit", ceil: "20mbit" },
        comment: "office printer",
      },
    ],
    rules: [
      { protocol: "sip", class: "voice", comment: "phones" },
      { protocol: "http", class: "web" },
      { protocol: "unknown", class: "other" },
    ],
  };
}

const CATALOGUE = [
  {
    name: "http",
    mark: 3,
    priority: 2,
    title: "HTTP - HyperText Transfer Protocol",
    quality: "great",
    speed: "fast",
    groups: ["web", "document_retrieval"],
    aliases: ["www"],
    transports: ["tcp"],
    overmatch: false,
    undermatch: false,
    wiki: "http://www.wikipedia.org/wiki/HTTP",
    notes: ["port 80"],
    pattern: "http/(0\\.9|1\\.0|1\\.1) [1-5][0-9][0-9]",
  },
  {
    name: "ssl",
    mark: 4,
    priority: 1,
    title: "SSL and TLS",
    quality: "good",
    speed: "veryfast",
    groups: ["secure", "web"],
    aliases: ["tls", "https"],
    transports: ["tcp"],
    overmatch: false,
    undermatch: false,
    wiki: null,
    notes: [],
    pattern: "^(.?.?\\x16\\x03.*\\x16\\x03|.?.?\\x01\\x03\\x01?.*\\x0b)",
  },
  {
    name: "bittorrent",
    mark: 5,
    priority: 0,
    title: "Bittorrent - P2P filesharing",
    quality: "ok",
    speed: "notsofast",
    groups: ["p2p", "file"],
    aliases: [],
    transports: ["tcp", "udp"],
    overmatch: true,
    undermatch: false,
    wiki: null,
    notes: [],
    pattern: "^(\\x13bittorrent protocol|d1:ad2:id20:)",
  },
];

export function repositoryTests(backend: TestBackend, extra?: () => void): void {
  describe(`@sluice/db on ${backend.provider}`, { skip: backend.skip }, () => {
    before(() => backend.setup());
    after(() => backend.teardown());
    extra?.();

    describe("users, sessions, login attempts", () => {
      let db: Db;
      before(async () => {
        db = await backend.open();
      });

      it("creates users with argon2id hashes and checks passwords", async () => {
        const u = await db.users.create({ username: " Alice ", password: "correct horse", role: "admin" });
        assert.equal(u.username, "alice");
        assert.equal(u.role, "admin");
        assert.equal(u.lastLoginAt, null);
        assert.ok(!("passwordHash" in u));
        const row = await db.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
        assert.match(row.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

        assert.equal(await db.users.verify("alice", "wrong password"), null);
        assert.equal(await db.users.verify("nobody", "correct horse"), null);
        const ok = await db.users.verify("ALICE", "correct horse");
        assert.equal(ok?.id, u.id);
        assert.ok(ok?.lastLoginAt instanceof Date);

        await assert.rejects(
          db.users.create({ username: "alice", password: "another one" }),
          UserExistsError,
        );
        await assert.rejects(db.users.create({ username: "bob", password: "short" }), UserInputError);
        await assert.rejects(
          db.users.create({ username: "bad name!", password: "long enough" }),
          UserInputError,
        );

        const bob = await db.users.create({ username: "bob", password: "bob's password" });
        assert.equal(bob.role, "viewer");
        assert.equal(await db.users.count(), 2);
        assert.equal(await db.users.count({ role: "admin" }), 1);
        assert.deepEqual(
          (await db.users.list()).map((x) => x.username),
          ["alice", "bob"],
        );
        assert.equal((await db.users.setRole(bob.id, "admin")).role, "admin");
        assert.equal((await db.users.findByUsername("Bob"))?.id, bob.id);
      });

      it("stores only the sha256 of session tokens; validates, touches, expires and revokes", async () => {
        const u = (await db.users.findByUsername("alice"))!;
        const s = await db.sessions.create(u.id, {
          ip: "192.0.2.1",
          userAgent: "test",
          now: T0,
          ttlMs: 60 * MIN,
        });
        assert.ok(s.token.length >= 40);
        assert.equal(s.id, createHash("sha256").update(s.token).digest("hex"));
        const rows = await db.prisma.session.findMany();
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.id, s.id);
        assert.ok(!JSON.stringify(rows).includes(s.token), "the token itself is not stored");

        const v = await db.sessions.validate(s.token, { now: at(10_000) });
        assert.equal(v?.user.username, "alice");
        assert.equal(v?.session.csrfToken, s.csrfToken);
        assert.equal(v?.session.lastSeenAt.getTime(), T0.getTime(), "not touched within a minute");
        const later = await db.sessions.validate(s.token, { now: at(5 * MIN), slidingTtlMs: 60 * MIN });
        assert.equal(later?.session.lastSeenAt.getTime(), at(5 * MIN).getTime());
        assert.equal(later?.session.expiresAt.getTime(), at(65 * MIN).getTime());
        assert.equal(
          (await db.prisma.session.findUniqueOrThrow({ where: { id: s.id } })).lastSeenAt.getTime(),
          at(5 * MIN).getTime(),
        );

        assert.equal(await db.sessions.validate("not-a-token", { now: at(MIN) }), null);
        assert.equal(
          await db.sessions.validate(s.token, { now: at(20 * MIN), idleTimeoutMs: 10 * MIN }),
          null,
        );
        assert.equal(await db.prisma.session.count(), 0, "an idle session is deleted");

        const a = await db.sessions.create(u.id, { now: T0, ttlMs: MIN });
        const b = await db.sessions.create(u.id, { now: T0, ttlMs: 60 * MIN });
        const c = await db.sessions.create(u.id, { now: T0, ttlMs: 60 * MIN });
        assert.equal(await db.sessions.validate(a.token, { now: at(2 * MIN) }), null, "expired");
        assert.equal(await db.sessions.expire(at(2 * MIN)), 0, "validate already deleted it");
        await db.sessions.create(u.id, { now: T0, ttlMs: MIN });
        assert.equal(await db.sessions.expire(at(2 * MIN)), 1);
        assert.equal((await db.sessions.listForUser(u.id)).length, 2);
        assert.equal(await db.sessions.revoke(b.token), true);
        assert.equal(await db.sessions.revoke(b.token), false);
        const d = await db.sessions.create(u.id, { now: T0 });
        assert.equal(await db.sessions.revokeAllForUser(u.id, { exceptToken: d.token }), 1);
        assert.equal(await db.sessions.validate(c.token, { now: at(MIN) }), null);
        assert.ok(await db.sessions.validate(d.token, { now: at(MIN) }));
      });

      it("setPassword changes the password and signs the user out; remove cascades sessions", async () => {
        const u = (await db.users.findByUsername("alice"))!;
        const s = await db.sessions.create(u.id);
        await db.users.setPassword(u.id, "a new password");
        assert.equal(await db.users.verify("alice", "correct horse"), null);
        assert.equal((await db.users.verify("alice", "a new password"))?.id, u.id);
        assert.equal(await db.sessions.validate(s.token), null);

        const bob = (await db.users.findByUsername("bob"))!;
        await db.sessions.create(bob.id);
        await db.audit.write({ user: bob, action: "login", ip: "192.0.2.9" });
        assert.equal(await db.users.remove(bob.id), true);
        assert.equal(await db.users.remove(bob.id), false);
        assert.equal(await db.prisma.session.count({ where: { userId: bob.id } }), 0);
        const audit = await db.audit.list({ action: "login" });
        assert.equal(audit.items[0]?.userId, null, "the audit row outlives the user");
        assert.equal(audit.items[0]?.username, "bob");
      });

      it("counts recent login failures per IP and per username", async () => {
        for (let i = 0; i < 3; i++)
          await db.loginAttempts.record({
            ip: "198.51.100.7",
            username: "alice",
            ok: false,
            at: at(i * MIN),
          });
        await db.loginAttempts.record({ ip: "198.51.100.8", username: "Alice", ok: false, at: at(3 * MIN) });
        await db.loginAttempts.record({ ip: "198.51.100.7", username: "alice", ok: true, at: at(4 * MIN) });
        await db.loginAttempts.record({
          ip: "198.51.100.7",
          username: "carol",
          ok: false,
          at: at(-60 * MIN),
        });
        const now = at(5 * MIN);
        assert.deepEqual(
          await db.loginAttempts.recentFailures({ ip: "198.51.100.7", username: "alice", now }),
          { ip: 3, username: 4, pair: 3 },
        );
        assert.deepEqual(
          await db.loginAttempts.recentFailures({ ip: "198.51.100.7", windowMs: 3 * MIN, now }),
          { ip: 1, username: 0, pair: 0 },
        );
        assert.equal((await db.loginAttempts.latest(2)).length, 2);
        assert.equal(await db.loginAttempts.prune(at(0)), 1);
      });

      it("begin records an attempt before counting: of 40 at once, at most 5 see ≤ 5", async () => {
        const attempts = await Promise.all(
          Array.from({ length: 40 }, () => db.loginAttempts.begin({ ip: "192.0.2.77", username: "Dave" })),
        );
        const passed = attempts.filter((a) => a.failures.pair <= 5);
        assert.ok(passed.length <= 5, `${passed.length} passed`);
        for (const a of attempts) if (!passed.includes(a)) await db.loginAttempts.forget(a.id);
        assert.deepEqual(await db.loginAttempts.recentFailures({ ip: "192.0.2.77", username: "dave" }), {
          ip: passed.length,
          username: passed.length,
          pair: passed.length,
        });
        // sequentially, exactly the limit pass; a success no longer counts as a failure
        const next = await db.loginAttempts.begin({ ip: "192.0.2.78", username: "erin" });
        assert.equal(next.failures.pair, 1);
        await db.loginAttempts.succeeded(next.id);
        assert.equal((await db.loginAttempts.recentFailures({ ip: "192.0.2.78", username: "erin" })).pair, 0);
      });
    });

    describe("settings and the policy", () => {
      let db: Db;
      before(async () => {
        db = await backend.open();
      });

      it("keeps JSON settings", async () => {
        assert.equal(await db.settings.get("agent.socket"), undefined);
        await db.settings.set("agent.socket", "/run/x.sock");
        await db.settings.set("custom", { a: [1, "two", { three: null }], b: true });
        assert.equal(await db.settings.get("agent.socket"), "/run/x.sock");
        assert.deepEqual(await db.settings.get("custom"), { a: [1, "two", { three: null }], b: true });
        await db.settings.setMany({ "agent.socket": "/run/y.sock", other: 5 });
        assert.deepEqual(await db.settings.all(), {
          "agent.socket": "/run/y.sock",
          custom: { a: [1, "two", { three: null }], b: true },
          other: 5,
        });
        assert.equal(await db.settings.delete("other"), true);
        assert.equal(await db.settings.delete("other"), false);
      });

      it("seeds the default policy once, and it reads back valid and equal", async () => {
        assert.equal(await db.policy.read(), null);
        const first = await seed(db);
        assert.deepEqual(first, { policy: true, settings: ["retention"] }, "agent.socket was already set");
        const p = await db.policy.read();
        assert.ok(p);
        const v = validatePolicy(p);
        assert.ok(v.ok, JSON.stringify(v));
        assert.deepEqual(p, PolicySchema.parse(defaultPolicy()));
        assert.deepEqual(v.policy, p, "read() gives the parsed form");
        assert.equal(p.classes.upload.length, 5);
        assert.equal(p.rules.length, 16);
        assert.deepEqual(await seed(db), { policy: false, settings: [] }, "idempotent");
        assert.equal(await db.settings.get("agent.socket"), "/run/y.sock", "seed keeps existing settings");
      });

      it("round-trips a policy that uses every field", async () => {
        const input = fullPolicy();
        const saved = await db.policy.save(input);
        const read = await db.policy.read();
        assert.deepEqual(read, saved);
        assert.deepEqual(read, PolicySchema.parse(input));
        const v = validatePolicy(read);
        assert.ok(v.ok, JSON.stringify(v));
        assert.equal(read!.marks.mask, 0xff0000);
        assert.equal(read!.classes.upload[2]!.parent, "rest");
        assert.equal(read!.interfaces.lan.rate, 1_000_000_000);
        assert.deepEqual(read!.interfaces.lan.networks, ["192.168.1.0/24"]);
        assert.equal(read!.classes.download[1]!.fairness, "host");
        assert.equal(read!.classes.download[0]!.fairness, undefined);
        assert.deepEqual(read!.devices![0]!.upload, { rate: 5e6, ceil: 20e6 });
        // saving what was read changes nothing
        await db.policy.save(read!);
        assert.deepEqual(await db.policy.read(), read);
        assert.equal(await db.settings.get("download"), "ifb");
        assert.equal(await db.settings.get("policy.name"), "office");
      });

      it("round-trips the time zone, schedule windows and quotas", async () => {
        const input = {
          ...defaultPolicy(),
          timeZone: "Europe/Berlin",
          schedules: [
            {
              name: "work-hours",
              days: ["mon", "tue", "wed", "thu", "fri"],
              start: "08:00",
              end: "18:00",
              classes: [{ class: "p2p", ceil: "2mbit" }],
              rules: [{ protocol: "http", class: "bulk" }],
            },
          ],
          quotas: [{ name: "kid", address: "10.1.0.23", allowance: "2GB", period: "day", demoteTo: "bulk" }],
        } as PolicyInput;
        const saved = await db.policy.save(input);
        const read = await db.policy.read();
        assert.deepEqual(read, saved);
        assert.deepEqual(read, PolicySchema.parse(input));
        assert.equal(read!.schedules[0]!.classes[0]!.ceil, 2_000_000);
        assert.equal(read!.quotas[0]!.allowance, 2e9);
        assert.equal(read!.timeZone, "Europe/Berlin");
      });

      it("keeps disabled rules out of read() but in readEditable()", async () => {
        const input = fullPolicy();
        const rules = [
          { protocol: "ssh", class: "voice", enabled: false, comment: "later" },
          ...input.rules!.map((r) => ({ ...r, enabled: true })),
          { protocol: "ftp", class: "no-such-class", enabled: false },
        ];
        await db.policy.save({ ...input, rules });
        const editable = await db.policy.readEditable();
        assert.deepEqual(editable?.rules, rules);
        const agent = await db.policy.read();
        assert.deepEqual(
          agent?.rules,
          input.rules!.map((r) => TargetRuleSchema.parse(r)),
        );
        assert.ok(validatePolicy(agent).ok);
        await db.policy.save(editable!);
        assert.deepEqual(await db.policy.readEditable(), editable, "editable round trip");
      });

      it("rejects an invalid policy with field paths and leaves the stored one alone", async () => {
        const before = await db.policy.readEditable();
        const input = fullPolicy();
        const bad = {
          ...input,
          rules: [
            { protocol: "ssh", class: "voice", enabled: false },
            { protocol: "http", class: "missing" },
          ],
        };
        await assert.rejects(db.policy.save(bad), (e: unknown) => {
          assert.ok(e instanceof PolicyValidationError);
          assert.ok(
            e.issues.some((i) => i.path === "rules[1].class"),
            `the index counts disabled rules too: ${JSON.stringify(e.issues)}`,
          );
          return true;
        });
        await assert.rejects(
          db.policy.save({
            ...input,
            interfaces: { ...input.interfaces, wan: { device: "eth0", rate: "fast" } },
          }),
          (e: unknown) => e instanceof PolicyValidationError && e.issues[0]!.path === "interfaces.wan.rate",
        );
        const orphan = structuredClone(input);
        orphan.classes.upload[2]!.parent = "nowhere";
        await assert.rejects(db.policy.save(orphan, { semantic: false }), (e: unknown) => {
          assert.ok(e instanceof PolicyValidationError);
          assert.deepEqual(e.issues[0]?.path, "classes.upload[2].parent");
          return true;
        });
        await assert.rejects(
          db.policy.save(input, { protocols: new Set(["sip"]) }),
          (e: unknown) => e instanceof PolicyValidationError && e.issues[0]!.path === "rules[1].protocol",
        );
        assert.deepEqual(await db.policy.readEditable(), before);
      });

      it("round-trips rules that target an app, a category and a hostname glob", async () => {
        const input = fullPolicy();
        const rules = [
          { hostname: "*.example.com", class: "web", comment: "intranet" },
          { app: "youtube", class: "other" },
          { category: "video", class: "web", enabled: false },
          ...input.rules!,
        ];
        const marks = { mask: 0xff00, appMask: 0xff0000, hostMask: 0x7f000000 };
        const opts = { apps: new Set(["youtube", "netflix"]), categories: new Set(["video", "gaming"]) };
        const saved = await db.policy.save({ ...input, marks, rules }, opts);
        assert.deepEqual(saved.marks, marks);
        assert.deepEqual(
          (await db.policy.readEditable())!.rules.slice(0, 3),
          rules.slice(0, 3).map((r) => ({ enabled: true, ...r })),
        );
        const read = await db.policy.read();
        assert.deepEqual(read, saved);
        assert.deepEqual(
          read!.rules.slice(0, 2),
          rules.slice(0, 2),
          "the disabled category rule is left out",
        );
        assert.deepEqual(read!.marks, marks);
        const rows = await db.prisma.policyRule.findMany({ orderBy: { position: "asc" }, take: 3 });
        assert.deepEqual(
          rows.map((r) => [r.protocol, r.app, r.category, r.hostname]),
          [
            [null, null, null, "*.example.com"],
            [null, "youtube", null, null],
            [null, null, "video", null],
          ],
          "one target column per row",
        );
        await assert.rejects(
          db.policy.save({ ...input, rules: [{ app: "tiktok", class: "web" }] }, opts),
          (e) => {
            assert.ok(e instanceof PolicyValidationError);
            assert.equal(e.issues[0]?.path, "rules[0].app");
            return true;
          },
        );
        await assert.rejects(
          db.policy.save({ ...input, rules: [{ app: "youtube", hostname: "a.b", class: "web" }] }),
          (e) => e instanceof PolicyValidationError && e.issues[0]!.path === "rules[0]",
        );
      });

      it("loads a policy stored before targeted rules (protocol rows, marks without appMask)", async () => {
        await db.policy.save(fullPolicy());
        await db.settings.set("marks", { mask: 0xff00 });
        await db.prisma.policyRule.deleteMany({});
        await db.prisma.policyRule.create({ data: { position: 0, protocol: "sip", className: "voice" } });
        const read = await db.policy.read();
        assert.deepEqual(read!.rules, [{ protocol: "sip", class: "voice" }]);
        assert.deepEqual(read!.marks, { mask: 0xff00, appMask: 0xff0000, hostMask: 0xff000000 });
        assert.ok(validatePolicy(read).ok);
      });
    });

    describe("versions, audit, protocols", () => {
      let db: Db;
      before(async () => {
        db = await backend.open();
      });

      it("records apply results, pages them and keeps one last good version", async () => {
        const admin = await db.users.create({ username: "admin", password: "admin password", role: "admin" });
        const policy = defaultPolicy();
        const scripts = {
          tc: "qdisc add ...",
          iptables: "*mangle\nCOMMIT\n",
          ip6tables: "*mangle\nCOMMIT\n",
        };
        const v1 = await db.versions.record({
          policy,
          scripts,
          user: "first boot",
          result: "applied",
          lastGood: true,
        });
        assert.equal(v1.isLastGood, true);
        assert.equal(v1.appliedBy, "first boot");
        const v2 = await db.versions.record({
          policy,
          scripts,
          user: admin,
          result: "trying",
          agentEntryId: 7,
          tryUntil: at(MIN),
        });
        const v3 = await db.versions.record({
          policy,
          user: admin,
          result: "failed",
          error: { step: "tc", message: "RTNETLINK answers: Invalid argument", command: "tc qdisc add" },
        });
        assert.deepEqual(v3.error, {
          step: "tc",
          message: "RTNETLINK answers: Invalid argument",
          command: "tc qdisc add",
        });
        assert.equal(v3.scripts, null);
        assert.deepEqual(v2.policy, policy);
        assert.deepEqual(v2.scripts, scripts);

        assert.equal((await db.versions.findByAgentEntry(7))?.id, v2.id);
        const confirmed = await db.versions.update(v2.id, { result: "confirmed", tryUntil: null });
        assert.equal(confirmed.result, "confirmed");
        assert.equal(confirmed.tryUntil, null);
        await db.versions.markLastGood(v2.id);
        assert.equal((await db.versions.lastGood())?.id, v2.id);
        assert.equal((await db.versions.get(v1.id))?.isLastGood, false);
        assert.equal(await db.prisma.policyVersion.count({ where: { isLastGood: true } }), 1);

        const page = await db.versions.list({ limit: 2 });
        assert.equal(page.total, 3);
        assert.deepEqual(
          page.items.map((v) => v.id),
          [v3.id, v2.id],
        );
        assert.deepEqual(
          (await db.versions.list({ limit: 2, offset: 2 })).items.map((v) => v.id),
          [v1.id],
        );
        assert.deepEqual(
          (await db.versions.list({ result: "failed" })).items.map((v) => v.id),
          [v3.id],
        );
        assert.equal(await db.versions.prune(0), 2, "everything but the last good one");
        assert.deepEqual(
          (await db.versions.list()).items.map((v) => v.id),
          [v2.id],
        );
        await db.users.remove(admin.id);
        const kept = await db.versions.get(v2.id);
        assert.equal(kept?.appliedById, null);
        assert.equal(kept?.appliedBy, "admin");
      });

      it("writes the audit log and lists it with paging and filters", async () => {
        const u = await db.users.create({ username: "auditor", password: "auditor password" });
        for (let i = 0; i < 25; i++)
          await db.audit.write({
            user: u,
            action: i % 2 ? "policy.save" : "policy.apply",
            target: `policy:${i}`,
            details: { i, rules: [i] },
            ip: "203.0.113.5",
            at: at(i * MIN),
          });
        await db.audit.write({ user: "agent", action: "login.failed", at: at(30 * MIN) });
        const first = await db.audit.list({ limit: 10 });
        assert.equal(first.total, 26);
        assert.equal(first.items.length, 10);
        assert.equal(first.items[0]?.action, "login.failed");
        assert.equal(first.items[0]?.username, "agent");
        assert.equal(first.items[1]?.target, "policy:24");
        assert.deepEqual(first.items[1]?.details, { i: 24, rules: [24] });
        const third = await db.audit.list({ limit: 10, offset: 20 });
        assert.equal(third.items.length, 6);
        assert.equal(third.items.at(-1)?.target, "policy:0");
        assert.equal((await db.audit.list({ action: "policy." })).total, 25);
        assert.equal((await db.audit.list({ action: "policy.save" })).total, 12);
        assert.equal((await db.audit.list({ userId: u.id, from: at(10 * MIN), to: at(20 * MIN) })).total, 10);
        assert.equal(await db.audit.prune(at(5 * MIN)), 5);
        assert.equal((await db.audit.list()).total, 21);
      });

      it("syncs the agent's protocol catalogue and searches it", async () => {
        assert.deepEqual(await db.protocols.sync(CATALOGUE), { added: 3, updated: 0, removed: 0 });
        const list = await db.protocols.list();
        assert.deepEqual(
          list.map((p) => p.name),
          ["bittorrent", "http", "ssl"],
        );
        const ssl = list.find((p) => p.name === "ssl")!;
        assert.deepEqual(ssl.aliases, ["tls", "https"]);
        assert.deepEqual(ssl.groups, ["secure", "web"]);
        assert.equal(ssl.pattern, CATALOGUE[1]!.pattern);
        assert.deepEqual(
          (await db.protocols.search("TLS")).map((p) => p.name),
          ["ssl"],
        );
        assert.deepEqual(
          (await db.protocols.search("web")).map((p) => p.name),
          ["http", "ssl"],
        );
        assert.deepEqual(
          (await db.protocols.search("", { group: "p2p" })).map((p) => p.name),
          ["bittorrent"],
        );
        assert.equal((await db.protocols.get("https"))?.name, "ssl");
        assert.equal(await db.protocols.get("nope"), null);
        const names = await db.protocols.names();
        for (const n of ["http", "www", "ssl", "tls", "https", "bittorrent"]) assert.ok(names.has(n), n);

        // the same catalogue again (every start of the dashboard): nothing written
        const stamp = (await db.protocols.get("ssl"))!.updatedAt;
        assert.deepEqual(await db.protocols.sync(CATALOGUE), { added: 0, updated: 0, removed: 0 });
        assert.deepEqual((await db.protocols.get("ssl"))!.updatedAt, stamp);
        assert.deepEqual(
          (await db.protocols.list()).map((p) => p.name),
          ["bittorrent", "http", "ssl"],
        );

        const next = [
          { ...CATALOGUE[0]!, mark: 9, title: "HTTP (new)" },
          { name: "dns", mark: 6 },
        ];
        assert.deepEqual(await db.protocols.sync(next), { added: 1, updated: 1, removed: 2 });
        assert.equal((await db.protocols.get("http"))?.mark, 9);
        const dns = await db.protocols.get("dns");
        assert.deepEqual(dns?.transports, ["tcp", "udp"]);
        assert.equal(dns?.title, null);
        assert.equal(await db.protocols.count(), 2);
        await assert.rejects(db.protocols.sync([{ name: "x" }]));
      });
    });

    describe("accounting and retention", () => {
      let db: Db;
      before(async () => {
        db = await backend.open();
      });

      const sample = (t: number, up: number, proto: number, conns: number, rate = 1000): SampleLike => ({
        t: T0.getTime() + t,
        classes: [
          {
            direction: "upload",
            name: "web",
            bytes: up,
            packets: Math.floor(up / 100),
            drops: 0,
            rateBps: rate,
          },
          {
            direction: "download",
            name: "web",
            bytes: up * 2,
            packets: up / 50,
            drops: 1,
            rateBps: rate * 2,
          },
        ],
        protocols: [{ protocol: "http", bytes: proto, connections: conns }],
        apps: [{ app: "youtube", category: "video", bytes: proto * 2, connections: conns }],
      });

      it("rolls per-second samples up into minutes", () => {
        const samples = [
          sample(0, 1000, 500, 2, 800),
          sample(30_000, 4000, 900, 5, 1200),
          sample(59_000, 6000, 1000, 3, 1000),
          sample(60_000, 7000, 1500, 1, 500),
          sample(61_000, 100, 1600, 1, 700), // the counters restarted (policy re-applied)
        ];
        const r = rollUp(samples);
        const up = r.classes.filter((c) => c.direction === "upload");
        assert.deepEqual(
          up.map((c) => [c.minute.toISOString(), c.bytes, c.maxRateBps, c.avgRateBps]),
          [
            [T0.toISOString(), 5000, 1200, 1000],
            [at(MIN).toISOString(), 1000 + 100, 700, 600],
          ],
        );
        assert.deepEqual(
          r.protocols.map((p) => [p.minute.toISOString(), p.bytes, p.connections]),
          [
            [T0.toISOString(), 500, 5],
            [at(MIN).toISOString(), 600, 1],
          ],
        );
        assert.deepEqual(
          r.apps.map((a) => [a.minute.toISOString(), a.app, a.category, a.bytes, a.connections]),
          [
            [T0.toISOString(), "youtube", "video", 1000, 5],
            [at(MIN).toISOString(), "youtube", "video", 1200, 1],
          ],
        );
        assert.deepEqual(rollUp([{ ...samples[0]!, apps: undefined }]).apps, [], "older agents send no apps");
        const withPrev = rollUp(samples.slice(3), samples[2]);
        assert.equal(withPrev.apps[0]?.bytes, 1200);
        assert.equal(withPrev.classes.find((c) => c.direction === "upload")?.bytes, 1100);
      });

      it("inserts minute rows idempotently and queries ranges, buckets and totals", async () => {
        const classes = [];
        const protocols = [];
        for (let m = 0; m < 10; m++) {
          classes.push({
            minute: at(m * MIN + 5000),
            direction: "upload" as const,
            className: "web",
            bytes: 6_000_000_000 + m, // more than 32 bits
            packets: 1000 * m,
            drops: m,
            maxRateBps: 1000 * m,
            avgRateBps: 100 * m,
          });
          classes.push({
            minute: at(m * MIN),
            direction: "download" as const,
            className: "bulk",
            bytes: 10,
            packets: 1,
            drops: 0,
            maxRateBps: 5,
            avgRateBps: 1,
          });
          protocols.push({
            minute: at(m * MIN),
            protocol: m % 2 ? "http" : "ssl",
            bytes: 100 * m,
            connections: m,
          });
        }
        await db.accounting.insert({ classes, protocols });
        await db.accounting.insert({ classes: classes.slice(0, 2), protocols: protocols.slice(0, 1) });
        assert.equal(await db.prisma.classMinute.count(), 20, "re-inserting a minute replaces it");
        assert.equal(
          (await db.prisma.classMinute.findFirstOrThrow({ where: { direction: "upload" } })).minute.getTime(),
          T0.getTime(),
          "minutes are floored",
        );

        const series = await db.accounting.classSeries({
          from: at(2 * MIN),
          to: at(6 * MIN),
          direction: "upload",
        });
        assert.deepEqual(
          series.map((p) => [p.minute.getTime() - T0.getTime(), p.bytes, p.drops]),
          [2, 3, 4, 5].map((m) => [m * MIN, 6_000_000_000 + m, m]),
        );
        const buckets = await db.accounting.classSeries({
          from: T0,
          to: at(10 * MIN),
          className: "web",
          bucketSeconds: 300,
        });
        assert.deepEqual(
          buckets.map((b) => [
            b.minute.getTime() - T0.getTime(),
            b.bytes,
            b.packets,
            b.maxRateBps,
            b.avgRateBps,
          ]),
          [
            [0, 5 * 6_000_000_000 + 10, 10_000, 4000, 200],
            [5 * MIN, 5 * 6_000_000_000 + 35, 35_000, 9000, 700],
          ],
        );
        const protos = await db.accounting.protocolSeries({ from: T0, to: at(10 * MIN), bucketSeconds: 600 });
        assert.deepEqual(
          protos.map((p) => [p.protocol, p.bytes, p.connections]),
          [
            ["http", 2500, 9],
            ["ssl", 2000, 8],
          ],
        );
        assert.deepEqual(
          (await db.accounting.protocolSeries({ from: T0, to: at(2 * MIN), protocol: "http" })).map(
            (p) => p.bytes,
          ),
          [100],
        );
        const totals = await db.accounting.classTotals({ from: T0, to: at(10 * MIN) });
        assert.deepEqual(totals[0], {
          direction: "upload",
          className: "web",
          bytes: 60_000_000_045,
          packets: 45_000,
          drops: 45,
          maxRateBps: 9000,
        });
        assert.equal(totals[1]?.bytes, 100);
        assert.deepEqual(await db.accounting.protocolTotals({ from: T0, to: at(10 * MIN) }), [
          { protocol: "http", bytes: 2500, maxConnections: 9 },
          { protocol: "ssl", bytes: 2000, maxConnections: 8 },
        ]);
        assert.deepEqual(await db.accounting.prune(at(3 * MIN)), { classes: 6, protocols: 3, apps: 0 });
      });

      it("stores per-app minutes and queries series and totals per app and per category", async () => {
        const apps = [];
        for (let m = 0; m < 4; m++) {
          apps.push({
            minute: at(m * MIN + 1000),
            app: "youtube",
            category: "video",
            bytes: 1000 * (m + 1),
            connections: m,
          });
          apps.push({
            minute: at(m * MIN),
            app: "steam",
            category: "gaming",
            bytes: 5_000_000_000,
            connections: 1,
          });
          apps.push({ minute: at(m * MIN), app: "netflix", category: "video", bytes: 10, connections: 2 });
        }
        await db.accounting.insert({ apps });
        await db.accounting.insert({ apps: apps.slice(0, 1) });
        assert.equal(await db.prisma.appMinute.count(), 12, "re-inserting a minute replaces it");
        assert.deepEqual(
          (await db.accounting.appSeries({ from: T0, to: at(4 * MIN), app: "youtube" })).map((p) => [
            p.minute.getTime() - T0.getTime(),
            p.category,
            p.bytes,
            p.connections,
          ]),
          [0, 1, 2, 3].map((m) => [m * MIN, "video", 1000 * (m + 1), m]),
        );
        const wide = await db.accounting.appSeries({
          from: T0,
          to: at(4 * MIN),
          category: "video",
          bucketSeconds: 240,
        });
        assert.deepEqual(
          wide.map((p) => [p.app, p.bytes, p.connections]),
          [
            ["netflix", 40, 2],
            ["youtube", 10_000, 3],
          ],
        );
        assert.deepEqual(await db.accounting.appTotals({ from: T0, to: at(4 * MIN), limit: 2 }), [
          { app: "steam", category: "gaming", bytes: 20_000_000_000, maxConnections: 1 },
          { app: "youtube", category: "video", bytes: 10_000, maxConnections: 3 },
        ]);
        assert.deepEqual(await db.accounting.categoryTotals({ from: T0, to: at(4 * MIN) }), [
          { category: "gaming", bytes: 20_000_000_000 },
          { category: "video", bytes: 10_040 },
        ]);
      });

      it("retention prunes old rows and expired sessions", async () => {
        const now = at(40 * 86_400_000);
        const u = await db.users.create({ username: "old", password: "old password" });
        await db.sessions.create(u.id, { now: T0, ttlMs: MIN });
        const live = await db.sessions.create(u.id, { now, ttlMs: MIN });
        await db.loginAttempts.record({ ip: "192.0.2.1", username: "old", ok: false, at: T0 });
        await db.loginAttempts.record({ ip: "192.0.2.1", username: "old", ok: false, at: now });
        await db.audit.write({ action: "old", at: T0 });
        await db.settings.set("retention", {
          accountingDays: 30,
          loginAttemptDays: 30,
          auditDays: 10,
          versionsKeep: 100,
        });
        const r = await db.retention({ now, auditDays: null });
        assert.deepEqual(r, {
          accounting: { classes: 14, protocols: 7, apps: 12 },
          loginAttempts: 1,
          sessions: 1,
          audit: 0,
          versions: 0,
        });
        assert.ok(await db.sessions.validate(live.token, { now }));
        assert.equal((await db.retention({ now })).audit, 1, "the setting's auditDays applies");
        assert.equal(await db.prisma.classMinute.count(), 0);
        assert.equal(await db.prisma.appMinute.count(), 0);
      });
    });
  });
}
