// Sluice's own RTSP expectation table without root: the element script (bad input refused
// before a line is written), and the agent's MediaExpectations against FakeKernel holding a
// policy applied with the maps (read back and verified like the rest of the table).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPolicy, defaultPolicyProtocols } from "@sluice/policy";
import { Applier, type ProtocolCatalogue } from "../src/apply/applier.ts";
import { HistoryStore } from "../src/apply/store.ts";
import { readInstalled } from "../src/kernel/installed.ts";
import { FULL_CAPABILITIES } from "../src/kernel/capabilities.ts";
import { FakeKernel } from "../src/testing/fake-kernel.ts";
import { MediaExpectations } from "../src/daemon/rtsp-expectations.ts";
import { MEDIA_MAPS, MEDIA_MAX_ELEMENTS, renderMediaElements } from "../src/render/rtsp-media.ts";

const tuple = { client: "192.168.50.10", clientPort: 5000, server: "203.0.113.5", serverPort: 6970 };

test("element script: add, delete, add (a refresh), or delete and add (a replace)", () => {
  assert.equal(
    renderMediaElements([{ tuple, mark: 0x00071300 }], 60),
    [
      "add element inet sluice rtsp_media4 { 192.168.50.10 . 5000 . 203.0.113.5 . 6970 timeout 60s : 0x00071300 }",
      "delete element inet sluice rtsp_media4 { 192.168.50.10 . 5000 . 203.0.113.5 . 6970 }",
      "add element inet sluice rtsp_media4 { 192.168.50.10 . 5000 . 203.0.113.5 . 6970 timeout 60s : 0x00071300 }",
      "",
    ].join("\n"),
  );
  const v6 = { client: "FD00::10", clientPort: 40000, server: "2001:db8::5", serverPort: 50000 };
  assert.equal(
    renderMediaElements([{ tuple: v6, mark: 0x800 }], 30, "replace"),
    [
      "delete element inet sluice rtsp_media6 { fd00::10 . 40000 . 2001:db8::5 . 50000 }",
      "add element inet sluice rtsp_media6 { fd00::10 . 40000 . 2001:db8::5 . 50000 timeout 30s : 0x00000800 }",
      "",
    ].join("\n"),
  );
  assert.equal(renderMediaElements([]), "");
});

test("element script: bad addresses, ports, marks and timeouts are refused", () => {
  const bad: [Partial<typeof tuple>, RegExp][] = [
    [{ client: "192.168.50.10 }; flush ruleset; add element x { 1" }, /not an address/],
    [{ client: "fe80::1%eth0" }, /not an address/],
    [{ server: "example.com" }, /not an address/],
    [{ server: "2001:db8::5" }, /families differ/],
    [{ clientPort: 0 }, /not a port/],
    [{ serverPort: 65536 }, /not a port/],
    [{ serverPort: 1.5 }, /not a port/],
  ];
  for (const [over, why] of bad)
    assert.throws(() => renderMediaElements([{ tuple: { ...tuple, ...over }, mark: 0x800 }]), why);
  assert.throws(() => renderMediaElements([{ tuple, mark: 0 }]), /not a mark/);
  assert.throws(() => renderMediaElements([{ tuple, mark: 2 ** 32 }]), /not a mark/);
  assert.throws(() => renderMediaElements([{ tuple, mark: 0x800 }], 0), /timeout/);
  assert.throws(() => renderMediaElements([{ tuple, mark: 0x800 }], 86400), /timeout/);
});

function applied() {
  const names = [...defaultPolicyProtocols(), "rtsp", "rtp"];
  const catalogue: ProtocolCatalogue = {
    marks: new Map([...new Set(names)].map((p, i) => [p, i + 3])),
    names: new Set(names),
  };
  const kernel = new FakeKernel();
  const store = new HistoryStore(mkdtempSync(join(tmpdir(), "sluice-rtsp-")));
  const applier = new Applier({ exec: kernel, store, caps: FULL_CAPABILITIES, protocols: () => catalogue });
  return { kernel, applier, catalogue };
}

test("the agent adds expectations through nft -f - (stdin), bounded, and read back", async () => {
  const { kernel, applier } = applied();
  const { entry } = await applier.apply(defaultPolicy(), { user: "test" });
  assert.equal(entry.status, "applied"); // the maps and rules were verified after the apply
  let now = 1_000_000;
  const errors: string[] = [];
  const media = new MediaExpectations(kernel, { now: () => now, onError: (m) => errors.push(m) });
  // Disabled (no maps in the policy in force): refused at once, nothing run.
  const runs = () => kernel.log.filter((l) => l.argv[0] === "nft" && l.argv[1] === "-f").length;
  const before = runs();
  await media.expect([{ tuple, mark: 0x1300 }]);
  assert.equal(runs(), before);
  assert.equal(media.stats().refused, 1);
  media.enabled = true;
  const rtcp = { ...tuple, clientPort: 5001, serverPort: 6971 };
  await media.expect([
    { tuple, mark: 0x1300 },
    { tuple: rtcp, mark: 0x1300 },
  ]);
  const last = kernel.log.at(-1)!;
  assert.deepEqual(last.argv, ["nft", "-f", "-"]);
  assert.match(last.input!, /^add element inet sluice rtsp_media4 \{ 192\.168\.50\.10 \. 5000 /);
  const state = await readInstalled(kernel, ["wan0", "lan0"], true);
  const map = state.nft!.maps.find((m) => m.name === MEDIA_MAPS[4])!;
  assert.deepEqual(map.elements, [
    "192.168.50.10 . 5000 . 203.0.113.5 . 6970 : 4864",
    "192.168.50.10 . 5001 . 203.0.113.5 . 6971 : 4864",
  ]);
  assert.equal(map.flags, JSON.stringify(["timeout"]));
  // The same tuples again refresh them; another mark replaces the element.
  await media.expect([{ tuple, mark: 0x1300 }]);
  await media.expect([{ tuple, mark: 0x051300 }]);
  const again = (await readInstalled(kernel, ["wan0", "lan0"], true)).nft!.maps.find(
    (m) => m.name === MEDIA_MAPS[4],
  )!;
  assert.ok(again.elements.includes(`192.168.50.10 . 5000 . 203.0.113.5 . 6970 : ${0x051300}`));
  assert.deepEqual(media.stats(), { added: 4, refused: 1, failed: 0, live: 2 });
  // Bad input never reaches nft; it is counted and said.
  const n = runs();
  await media.expect([{ tuple: { ...tuple, client: "10.0.0.1; flush ruleset" }, mark: 0x1300 }]);
  assert.equal(runs(), n);
  assert.match(errors.at(-1)!, /not an address/);
  // The cap: past MEDIA_MAX_ELEMENTS live IPv4 tuples new ones are refused, refreshes are not.
  const many = Array.from({ length: MEDIA_MAX_ELEMENTS }, (_, i) => ({
    tuple: { ...tuple, clientPort: 10000 + i },
    mark: 0x1300,
  }));
  await media.expect(many);
  assert.equal(media.stats().live, MEDIA_MAX_ELEMENTS);
  assert.ok(media.stats().refused >= 2);
  // They lapse: the book forgets them after their timeout (the kernel drops them itself).
  now += 61_000;
  assert.equal(media.stats().live, 0);
  // A failing nft is counted and said; the caller is released all the same.
  kernel.failWhen((argv) => argv[0] === "nft" && argv[1] === "-f");
  kernel.failWhen((argv) => argv[0] === "nft" && argv[1] === "-f");
  await media.expect([{ tuple: { ...tuple, clientPort: 7000 }, mark: 0x1300 }]);
  assert.equal(media.stats().failed, 1);
  assert.match(errors.at(-1)!, /not added/);
});

test("without nftables the policy has no maps and the variant says so", async () => {
  const { applier } = applied();
  const r = applier.render(applier.validate(defaultPolicy()));
  assert.ok(r.nft!.table.mediaMaps?.includes(4));
  const k = new FakeKernel();
  const store = new HistoryStore(mkdtempSync(join(tmpdir(), "sluice-rtsp-")));
  const legacy = new Applier({
    exec: k,
    store,
    caps: { ...FULL_CAPABILITIES, nftables: false },
    protocols: () => applied().catalogue,
  });
  const lr = legacy.render(legacy.validate(defaultPolicy()));
  assert.equal(lr.model.related.rtspMedia, null);
  assert.ok(lr.header.some((h) => /related connections \(FTP data, SIP and RTSP media/.test(h)));
  assert.ok(lr.header.some((h) => / related=none$/.test(h)));
});

test("after an apply replaced the table, the live expectations go back with the time they had left", async () => {
  const { kernel, applier } = applied();
  await applier.apply(defaultPolicy(), { user: "test" });
  let now = 2_000_000;
  const media = new MediaExpectations(kernel, { now: () => now });
  media.enabled = true;
  await media.expect([{ tuple, mark: 0x1300 }]);
  const elements = async () =>
    (await readInstalled(kernel, ["wan0", "lan0"], true)).nft!.maps.find((m) => m.name === MEDIA_MAPS[4])!
      .elements;
  assert.equal((await elements()).length, 1);
  const p = defaultPolicy();
  p.name = "another";
  await applier.apply(p, { user: "test" });
  assert.equal((await elements()).length, 0, "the apply replaced the table");
  now += 20_000;
  await media.tableReplaced(true);
  assert.equal((await elements()).length, 1, "back in");
  const added = kernel.log.filter((l) => l.argv[1] === "-f" && /add element/.test(l.input ?? "")).at(-1)!;
  assert.match(added.input!, /timeout 40s : 0x00001300/);
  // A policy without the maps: nothing to put back, and nothing is added any more.
  await media.tableReplaced(false);
  assert.equal(media.stats().live, 0);
  const runs = kernel.log.length;
  await media.expect([{ tuple, mark: 0x1300 }]);
  assert.equal(kernel.log.length, runs);
});

test("a kernel whose nftables lacks tuple maps with timeouts: no maps, and the summary says so", () => {
  const caps = { ...FULL_CAPABILITIES, rtspMaps: false };
  const { catalogue } = applied();
  const k = new FakeKernel();
  const store = new HistoryStore(mkdtempSync(join(tmpdir(), "sluice-rtsp-")));
  const a = new Applier({ exec: k, store, caps, protocols: () => catalogue });
  const r = a.render(a.validate(defaultPolicy()));
  assert.equal(r.model.related.rtspMedia, null);
  assert.equal(r.nft!.table.mediaMaps, undefined);
  assert.ok(r.header.some((h) => /RTSP media is not followed/.test(h)));
  assert.ok(r.header.some((h) => / related=ftp,sip,tftp$/.test(h)));
});
