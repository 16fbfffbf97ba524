// The applier against the real kernel, inside a namespace made for the test.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy } from "@sluice/policy";
import { NetnsExecutor, type Executor, type RunOptions, type CommandResult } from "../src/kernel/executor.ts";
import { createBoxNamespace, deleteBoxNamespace, testNamespace } from "./support/box-namespace.ts";
import { probeCapabilities } from "../src/kernel/probe.ts";
import { readInstalled } from "../src/kernel/installed.ts";
import { Applier, ApplyError } from "../src/apply/applier.ts";
import { TEST_CATALOGUE, withUpload } from "./support/policy-fixture.ts";
import { APPLY_STEPS, restoredAfterInjectedFailure } from "./support/injected-failures.ts";
import { HistoryStore } from "../src/apply/store.ts";
import type { Capabilities } from "../src/kernel/capabilities.ts";
import { loadAppCatalogue, DEFAULT_CATALOGUE_PATH } from "@sluice/classifier";

const NS = testNamespace("apply");
const root = process.getuid?.() === 0;
const ns = new NetnsExecutor(NS);
const DEVICES = ["wan0", "lan0"];
const catalogue = TEST_CATALOGUE;

/** Fails the first command whose argv matches, once. */
class FailingExecutor implements Executor {
  private armed: ((argv: string[]) => boolean) | null = null;
  readonly inner: Executor;
  constructor(inner: Executor) {
    this.inner = inner;
  }
  failNext(match: (argv: string[]) => boolean) {
    this.armed = match;
  }
  run(argv: string[], opts?: RunOptions): Promise<CommandResult> {
    if (this.armed && this.armed(argv)) {
      this.armed = null;
      return Promise.resolve({ argv, code: 2, stdout: "", stderr: "injected failure" });
    }
    return this.inner.run(argv, opts);
  }
}

let caps: Capabilities;
const exec = new FailingExecutor(ns);
let applier: Applier;
let store: HistoryStore;

async function state() {
  return readInstalled(ns, DEVICES, true);
}

before(async () => {
  if (!root) return;
  await createBoxNamespace(NS);
  caps = await probeCapabilities(ns);
  store = new HistoryStore(mkdtempSync(join(tmpdir(), "sluice-store-")));
  const apps = loadAppCatalogue(DEFAULT_CATALOGUE_PATH);
  applier = new Applier({ exec, store, caps, protocols: () => catalogue, apps: () => apps });
});

after(async () => {
  if (root) await deleteBoxNamespace(NS);
});

const opts = { skip: root ? false : "needs root (network namespaces)" };

test("the probe finds what this kernel has, and the renderer follows it", opts, () => {
  assert.equal(caps.qdiscs.htb, true);
  assert.equal(caps.qdiscs.pfifo, true);
  assert.equal(caps.iptables.NFQUEUE, true);
  assert.equal(caps.iptables.connbytes, true);
  const r = applier.render(applier.validate(defaultPolicy()));
  assert.equal(r.model.variant.filter, caps.nftables ? "nft" : caps.classifiers.fw ? "fw" : "CLASSIFY");
  assert.equal(r.model.variant.accounting, caps.nftables ? "nft" : "iptables");
  assert.equal(r.model.variant.leaf, caps.qdiscs.sfq ? "sfq" : caps.qdiscs.fq_codel ? "fq_codel" : "pfifo");
  console.log(`probe: ${r.header.slice(1, 6).join(" | ")}`);
});

test("apply installs the tree and the rules, verified by reading back", opts, async () => {
  const { entry } = await applier.apply(defaultPolicy(), { user: "test" });
  assert.equal(entry.status, "applied");
  assert.equal(entry.lastGood, true);
  const s = await state();
  // With nftables the connection mark is restored and saved in its table (no SLUICE_PRE,
  // SLUICE_POST); without, iptables does it all.
  assert.deepEqual(
    s.v4.chains.sort(),
    caps.nftables
      ? ["SLUICE_FWD", "SLUICE_OUT"]
      : ["SLUICE_ACCT", "SLUICE_APPS", "SLUICE_FWD", "SLUICE_OUT", "SLUICE_POST", "SLUICE_PRE"],
  );
  // With nftables: one table counts per protocol and app and maps marks to classes.
  if (caps.nftables) {
    assert.ok(s.nft);
    assert.ok(s.nft.counters.includes("proto_1") && s.nft.counters.includes("proto_2"));
    assert.ok(s.nft.maps.find((m) => m.name === "dev0_protocol")!.elements.includes(`${4 << 8} : 1:10`));
    assert.equal(s.nft.chains.find((c) => c.name === "post")!.hook, "postrouting -150");
  } else assert.equal(s.nft, null);
  const pre = caps.nftables ? 0 : 1;
  assert.deepEqual(s.v4.hooks, { PREROUTING: pre, FORWARD: 2, OUTPUT: 1, POSTROUTING: pre });
  if (caps.nftables) assert.equal(s.nft!.chains.find((c) => c.name === "pre")!.hook, "prerouting -160");
  assert.ok(s.v4.rules.some((l) => l.includes("NFQUEUE --queue-balance 0:1 --queue-bypass")));
  assert.ok(
    s.tc.wan0!.classes.some(
      (l) => l.startsWith("class htb 1:11 parent 1:1") && l.includes("rate 7Mbit ceil 20Mbit"),
    ),
  );
  assert.ok(s.tc.lan0!.qdiscs.some((l) => l.startsWith("qdisc htb 1: root")));
  // Applying again is idempotent: hooks are not duplicated.
  await applier.apply(defaultPolicy(), { user: "test" });
  assert.deepEqual((await state()).v4.hooks, { PREROUTING: pre, FORWARD: 2, OUTPUT: 1, POSTROUTING: pre });
});

test("app, category and hostname rules install as routes on their own mark fields", opts, async () => {
  const p = defaultPolicy();
  p.rules!.push(
    { app: "youtube", class: "bulk" },
    { category: "gaming", class: "interactive" },
    { hostname: "*.example.com", class: "p2p" },
  );
  const { entry } = await applier.apply(p, { user: "test" });
  assert.equal(entry.status, "applied"); // verified by reading back, filters or CLASSIFY rules included
  const s = await state();
  const yt = loadAppCatalogue(DEFAULT_CATALOGUE_PATH).app("youtube")!.id;
  const ytMark = `0x${(yt << 16).toString(16)}/0xff0000`;
  if (caps.nftables) {
    const map = (name: string) => s.nft!.maps.find((m) => m.name === name)!.elements;
    assert.ok(map("apps").includes(`${yt << 16} : app_${yt}`));
    assert.ok(s.nft!.counters.includes(`app_${yt}`));
    assert.ok(map("dev0_app").includes(`${yt << 16} : 1:12`));
    assert.ok(map("dev1_host").includes(`${1 << 24} : 1:13`));
  } else {
    assert.ok(
      s.v4.rules.some((l) => l.includes(`--mark ${ytMark} -m comment --comment "sluice-app:youtube"`)),
    );
  }
  if (caps.nftables) {
    // Classes come from the nft maps (checked above), not from fw filters or CLASSIFY rules.
    assert.ok(!s.v4.rules.some((l) => l.includes("CLASSIFY")));
  } else if (caps.classifiers.fw) {
    assert.ok(s.tc.wan0!.filters.some((l) => l.includes(`handle ${ytMark}`) && l.includes("classid 1:12")));
    assert.ok(
      s.tc.wan0!.filters.some((l) => l.includes("handle 0x1000000/0xff000000") && l.includes("1:13")),
    );
  } else {
    assert.ok(
      s.v4.rules.some((l) =>
        l.includes(`-o wan0 -m mark --mark ${ytMark} -j CLASSIFY --set-class 0001:0012`),
      ),
    );
    assert.ok(
      s.v4.rules.some((l) =>
        l.includes(`-o lan0 -m mark --mark 0x1000000/0xff000000 -j CLASSIFY --set-class 0001:0013`),
      ),
    );
  }
  // A bad app name is refused with its field.
  await assert.rejects(
    applier.apply({ ...p, rules: [{ app: "youtubez", class: "bulk" }] }),
    (e: unknown) => e instanceof ApplyError && e.issues.some((i) => i.path === "rules[0].app"),
  );
});

test("a bad policy is refused before touching the box, naming the field", opts, async () => {
  const before = await state();
  const bad = withUpload("25mbit");
  await assert.rejects(
    applier.apply(bad),
    (e: unknown) =>
      e instanceof ApplyError &&
      e.step === "validate" &&
      e.issues.some((i) => i.path.startsWith("classes.upload")),
  );
  assert.deepEqual(await state(), before);
});

for (const [what, match] of APPLY_STEPS) {
  test(`a ${what} failure half-way restores the last good state exactly`, opts, async () => {
    if (what.startsWith("nft") && !caps.nftables) return; // no nft step without nftables
    const before = await state();
    exec.failNext(match);
    await assert.rejects(applier.apply(withUpload("6mbit"), { user: "test" }), restoredAfterInjectedFailure);
    assert.deepEqual(await state(), before);
    assert.equal(store.lastGood()!.policy.classes.upload[1]!.rate, "7000kbit");
  });
}

test("a real tc error (bad leaf for this kernel) is reported with the command's stderr", opts, async () => {
  if (caps.qdiscs.cake) return; // the fallback only shows where cake is missing
  const before = await state();
  const exec2 = new FailingExecutor(ns);
  // Render as if the kernel had cake, so tc itself refuses the batch.
  const lying = new Applier({
    exec: exec2,
    store,
    caps: { ...caps, qdiscs: { ...caps.qdiscs, cake: true } },
    protocols: () => catalogue,
    apps: () => loadAppCatalogue(DEFAULT_CATALOGUE_PATH),
  });
  const p = defaultPolicy();
  (p.classes.upload[0] as { leaf?: string }).leaf = "cake";
  await assert.rejects(
    lying.apply(p),
    (e: unknown) =>
      e instanceof ApplyError &&
      e.step === "tc" &&
      /cake|unknown/i.test(e.stderr ?? "") &&
      e.restored === true,
  );
  assert.deepEqual(await state(), before);
});

test("try reverts on its own unless confirmed; confirm keeps it", opts, async () => {
  const before = await state();
  const { entry } = await applier.apply(withUpload("5mbit"), { user: "test", trySeconds: 1 });
  assert.equal(entry.status, "trying");
  assert.ok(
    (await state()).tc.wan0!.classes.some((l) => l.startsWith("class htb 1:11") && l.includes("rate 5Mbit")),
  );
  // The revert runs on its own once the second is up; wait for it (bounded, not timed).
  for (let i = 0; i < 300 && store.get(entry.id)!.status !== "reverted"; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(store.get(entry.id)!.status, "reverted");
  assert.deepEqual(await state(), before);
  const t2 = await applier.apply(withUpload("5mbit"), { user: "test", trySeconds: 5 });
  await applier.confirm();
  assert.equal(store.get(t2.entry.id)!.lastGood, true);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(
    (await state()).tc.wan0!.classes.some((l) => l.startsWith("class htb 1:11") && l.includes("rate 5Mbit")),
  );
});

test("rollback to a history entry, and teardown leaves a clean box", opts, async () => {
  const first = store.list().find((e) => e.status === "applied")!;
  const entry = await applier.rollback(first.id, "test");
  assert.match(entry.user, /rollback to #/);
  assert.ok(
    (await state()).tc.wan0!.classes.some((l) => l.startsWith("class htb 1:11") && l.includes("rate 7Mbit")),
  );
  await applier.teardown(DEVICES);
  const s = await state();
  assert.deepEqual(s.v4.chains, []);
  assert.equal(s.nft, null);
  assert.deepEqual(s.v4.hooks, { PREROUTING: 0, FORWARD: 0, OUTPUT: 0, POSTROUTING: 0 });
  assert.ok(!s.tc.wan0!.qdiscs.some((l) => l.includes("htb")));
});
