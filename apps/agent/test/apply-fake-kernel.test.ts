// The applier's apply / try / confirm / rollback and its restore-on-failure, without root:
// against FakeKernel, which keeps what tc, iptables-restore and nft installed and answers
// the read-backs from it. Runs for the renderer's variants: nftables maps (this CI kernel's:
// no cls_fw, no sfq), fw filters and the CLASSIFY target (kernels without nftables).
// apply-kernel.test.ts runs the same paths against the real kernel as root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy } from "@sluice/policy";
import { loadAppCatalogue, DEFAULT_CATALOGUE_PATH } from "@sluice/classifier";
import { readInstalled } from "../src/kernel/installed.ts";
import { Applier, ApplyError } from "../src/apply/applier.ts";
import { TEST_CATALOGUE, withUpload } from "./support/policy-fixture.ts";
import { APPLY_STEPS, restoredAfterInjectedFailure } from "./support/injected-failures.ts";
import { HistoryStore } from "../src/apply/store.ts";
import {
  FULL_CAPABILITIES as FULL_WITH_NFT,
  MINIMAL_CAPABILITIES as MINIMAL_WITH_NFT,
  type Capabilities,
} from "../src/kernel/capabilities.ts";
import { FakeKernel } from "../src/testing/fake-kernel.ts";

// The variants without nftables (fw filters, CLASSIFY).
const FULL_CAPABILITIES: Capabilities = { ...FULL_WITH_NFT, nftables: false };
const MINIMAL_CAPABILITIES: Capabilities = { ...MINIMAL_WITH_NFT, nftables: false };

const DEVICES = ["wan0", "lan0"];
const catalogue = TEST_CATALOGUE;
const apps = loadAppCatalogue(DEFAULT_CATALOGUE_PATH);

function setup(caps: Capabilities) {
  const kernel = new FakeKernel();
  const store = new HistoryStore(mkdtempSync(join(tmpdir(), "sluice-fake-store-")));
  const applier = new Applier({ exec: kernel, store, caps, protocols: () => catalogue, apps: () => apps });
  const state = () => readInstalled(kernel, DEVICES, true);
  return { kernel, store, applier, state };
}

test("an iptables-only layout becomes the nftables one: the old jumps and chains go in the same restore", async () => {
  const { kernel, store, state } = setup(MINIMAL_CAPABILITIES);
  const legacy = new Applier({
    exec: kernel,
    store,
    caps: MINIMAL_CAPABILITIES,
    protocols: () => catalogue,
    apps: () => apps,
  });
  await legacy.apply(defaultPolicy(), { user: "test" });
  const before = await state();
  assert.deepEqual(before.v4.hooks, { PREROUTING: 1, FORWARD: 2, OUTPUT: 1, POSTROUTING: 1 });
  assert.ok(before.v4.chains.includes("SLUICE_PRE") && before.v4.chains.includes("SLUICE_ACCT"));
  const nft = new Applier({
    exec: kernel,
    store,
    caps: MINIMAL_WITH_NFT,
    protocols: () => catalogue,
    apps: () => apps,
  });
  const { entry } = await nft.apply(defaultPolicy(), { user: "test" });
  assert.equal(entry.status, "applied");
  const after = await state();
  assert.deepEqual(after.v4.hooks, { PREROUTING: 0, FORWARD: 2, OUTPUT: 1, POSTROUTING: 0 });
  assert.deepEqual(after.v4.chains, ["SLUICE_FWD", "SLUICE_OUT"]);
  assert.deepEqual(after.v6!.chains, ["SLUICE_FWD", "SLUICE_OUT"]);
  assert.ok(after.nft!.chains.some((c) => c.name === "restore"));
});

for (const [variant, caps] of [
  ["nftables maps", MINIMAL_WITH_NFT],
  ["fw filters", FULL_CAPABILITIES],
  ["CLASSIFY target", MINIMAL_CAPABILITIES],
] as const) {
  test(`${variant}: apply installs, verifies by reading back, and is idempotent`, async () => {
    const { kernel, applier, state } = setup(caps);
    const { entry, diff } = await applier.apply(defaultPolicy(), { user: "test" });
    assert.equal(entry.status, "applied");
    assert.deepEqual(diff.policy.changes, ["first policy on this box"]);
    const s = await state();
    // With nftables the connection mark is restored and saved there: no PREROUTING or
    // POSTROUTING jump (render/nft-connmark.ts).
    const hooks = caps.nftables
      ? { PREROUTING: 0, FORWARD: 2, OUTPUT: 1, POSTROUTING: 0 }
      : { PREROUTING: 1, FORWARD: 2, OUTPUT: 1, POSTROUTING: 1 };
    assert.deepEqual(s.v4.hooks, hooks);
    assert.ok(
      s.tc.wan0!.classes.some((l) => l.startsWith("class htb 1:11 parent 1:1") && l.includes("rate 7Mbit")),
    );
    assert.equal(kernel.ran("tc", "-batch").length, 1);
    if (caps.nftables) {
      // one `nft -f` transaction: the rendered script, read back as nft's JSON
      const scripts = kernel.ran("nft", "-f", "-");
      assert.equal(scripts.length, 1);
      assert.equal(scripts[0]!.input, (entry.scripts.nft ?? "").replace(/^#.*\n/gm, ""));
      const nftHooks = Object.fromEntries(s.nft!.chains.map((c) => [c.name, c.hook]));
      assert.equal(nftHooks.post, "postrouting -150");
      assert.equal(nftHooks.dev0, null);
      assert.equal(nftHooks.restore, null);
      assert.equal(nftHooks.save, null);
      // related connections: the conntrack helpers and the prerouting chain that assigns them
      assert.equal(nftHooks.pre, "prerouting -160");
      assert.ok(s.nft!.helpers.includes("ftp ftp tcp"), JSON.stringify(s.nft!.helpers));
      assert.ok(s.nft!.counters.includes("proto_2"));
    } else assert.equal(s.nft, null);
    const again = await applier.apply(defaultPolicy(), { user: "test" });
    assert.deepEqual(again.diff.tc, []);
    assert.deepEqual((await state()).v4.hooks, hooks);
  });

  test(`${variant}: app, category and hostname rules become routes the read-back verifies`, async () => {
    const { applier, state } = setup(caps);
    const p = defaultPolicy();
    p.rules!.push(
      { app: "youtube", class: "bulk" },
      { category: "gaming", class: "interactive" },
      { hostname: "*.example.com", class: "p2p" },
    );
    assert.equal((await applier.apply(p, { user: "test" })).entry.status, "applied");
    const ytMark = `0x${(apps.app("youtube")!.id << 16).toString(16)}/0xff0000`;
    const s = await state();
    if (caps.nftables) {
      const appMap = s.nft!.maps.find((m) => m.name === "dev0_app");
      assert.ok(appMap?.elements.includes(`${apps.app("youtube")!.id << 16} : 1:12`), JSON.stringify(appMap));
      assert.ok(s.nft!.maps.some((m) => m.name === "dev0_host" && m.elements.length === 1));
    } else if (caps.classifiers.fw)
      assert.ok(s.tc.wan0!.filters.some((l) => l.includes(`handle ${ytMark}`) && l.includes("classid 1:12")));
    else assert.ok(s.v4.rules.some((l) => l.includes(`-o wan0 -m mark --mark ${ytMark} -j CLASSIFY`)));
  });

  for (const [what, match] of APPLY_STEPS) {
    if (what.startsWith("nft") && !caps.nftables) continue;
    test(`${variant}: a ${what} failure restores the last good state exactly`, async () => {
      const { kernel, store, applier, state } = setup(caps);
      await applier.apply(defaultPolicy(), { user: "test" });
      const before = await state();
      kernel.failWhen((argv, input) => match(argv) && !(input ?? "").includes("-D "));
      await assert.rejects(
        applier.apply(withUpload("6mbit"), { user: "test" }),
        restoredAfterInjectedFailure,
      );
      assert.deepEqual(await state(), before);
      assert.equal(store.lastGood()!.policy.classes.upload[1]!.rate, "7000kbit");
    });
  }
}

test("a refused tc batch (a leaf this kernel lacks) is reported with tc's stderr and rolled back", async () => {
  const { kernel, applier, state } = setup(MINIMAL_CAPABILITIES);
  await applier.apply(defaultPolicy(), { user: "test" });
  const before = await state();
  // tc refuses the batch (as it does a leaf qdisc this kernel lacks)
  kernel.failWhen(
    (argv) => argv.includes("-batch") && !argv.includes("-force"), // the install's batch
    "Error: Specified qdisc kind is unknown.",
  );
  await assert.rejects(
    applier.apply(withUpload("5mbit")),
    (e: unknown) =>
      e instanceof ApplyError && e.step === "tc" && /unknown/.test(e.stderr ?? "") && e.restored === true,
  );
  assert.deepEqual(await state(), before);
});

test("a bad policy is refused before any command runs", async () => {
  const { kernel, applier } = setup(FULL_CAPABILITIES);
  await assert.rejects(
    applier.apply(withUpload("25mbit")),
    (e: unknown) =>
      e instanceof ApplyError &&
      e.step === "validate" &&
      e.issues.some((i) => i.path.startsWith("classes.upload")),
  );
  assert.equal(kernel.log.length, 0);
});

test("an iptables-only layout becomes the nftables one: the old jumps and chains go in the same restore", async () => {
  const { kernel, store, state } = setup(MINIMAL_CAPABILITIES);
  const legacy = new Applier({
    exec: kernel,
    store,
    caps: MINIMAL_CAPABILITIES,
    protocols: () => catalogue,
    apps: () => apps,
  });
  await legacy.apply(defaultPolicy(), { user: "test" });
  const before = await state();
  assert.deepEqual(before.v4.hooks, { PREROUTING: 1, FORWARD: 2, OUTPUT: 1, POSTROUTING: 1 });
  assert.ok(before.v4.chains.includes("SLUICE_PRE") && before.v4.chains.includes("SLUICE_ACCT"));
  const nft = new Applier({
    exec: kernel,
    store,
    caps: MINIMAL_WITH_NFT,
    protocols: () => catalogue,
    apps: () => apps,
  });
  const { entry } = await nft.apply(defaultPolicy(), { user: "test" });
  assert.equal(entry.status, "applied");
  const after = await state();
  assert.deepEqual(after.v4.hooks, { PREROUTING: 0, FORWARD: 2, OUTPUT: 1, POSTROUTING: 0 });
  assert.deepEqual(after.v4.chains, ["SLUICE_FWD", "SLUICE_OUT"]);
  assert.deepEqual(after.v6!.chains, ["SLUICE_FWD", "SLUICE_OUT"]);
  assert.ok(after.nft!.chains.some((c) => c.name === "restore"));
});

test("the single FORWARD jump of the layout before becomes the conditional jumps in one restore", async () => {
  const { kernel, applier, state } = setup(MINIMAL_WITH_NFT);
  await applier.apply(defaultPolicy(), { user: "test" });
  const now = (await state()).v4.hookLines;
  // As an agent before this layout left it: one unconditional jump into SLUICE_FWD.
  const old = [
    "*mangle",
    ...now.filter((l) => l.startsWith("-A FORWARD ")).map((l) => l.replace("-A", "-D")),
  ];
  old.push("-I FORWARD 1 -j SLUICE_FWD", "COMMIT", "");
  const r = await kernel.run(["iptables-restore", "-w", "--noflush"], { input: old.join("\n") });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await state()).v4.hookLines, ["-A FORWARD -j SLUICE_FWD", "-A OUTPUT -j SLUICE_OUT"]);
  const { entry } = await applier.apply(withUpload("5mbit"), { user: "test" });
  assert.equal(entry.status, "applied");
  assert.deepEqual((await state()).v4.hookLines, now);
  // And applying again leaves them as they are: each once.
  await applier.apply(withUpload("6mbit"), { user: "test" });
  assert.deepEqual((await state()).v4.hookLines, now);
});

for (const [variant, caps] of [
  ["nftables maps", MINIMAL_WITH_NFT],
  ["fw filters", FULL_CAPABILITIES],
] as const)
  test(`${variant}: try reverts on its own unless confirmed; confirm keeps it; rollback and teardown`, async () => {
    const { store, applier, state } = setup(caps);
    await applier.apply(defaultPolicy(), { user: "test" });
    const before = await state();
    const { entry } = await applier.apply(withUpload("5mbit"), { user: "test", trySeconds: 1 });
    assert.equal(entry.status, "trying");
    assert.ok(
      (await state()).tc.wan0!.classes.some(
        (l) => l.startsWith("class htb 1:11") && l.includes("rate 5Mbit"),
      ),
    );
    for (let i = 0; i < 300 && store.get(entry.id)!.status !== "reverted"; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(store.get(entry.id)!.status, "reverted");
    assert.deepEqual(await state(), before);
    const t2 = await applier.apply(withUpload("5mbit"), { user: "test", trySeconds: 5 });
    await applier.confirm();
    assert.equal(store.get(t2.entry.id)!.lastGood, true);
    const first = store.list().find((e) => e.status === "applied")!;
    const rb = await applier.rollback(first.id, "test");
    assert.match(rb.user, /rollback to #/);
    assert.ok(
      (await state()).tc.wan0!.classes.some(
        (l) => l.startsWith("class htb 1:11") && l.includes("rate 7Mbit"),
      ),
    );
    await applier.teardown(DEVICES);
    const s = await state();
    assert.deepEqual(s.v4.chains, []);
    assert.deepEqual(s.v4.hooks, { PREROUTING: 0, FORWARD: 0, OUTPUT: 0, POSTROUTING: 0 });
    assert.ok(!s.tc.wan0!.qdiscs.some((l) => l.includes("htb")));
    assert.equal(s.nft, null);
  });
