// Sluice's own pattern set (protocols/): it loads cleanly, every pattern carries its
// metadata, and every fixture of every protocol classifies as intended through the real
// engine (classifyPayloads: flow table, window, NUL stripping, priority). A fixture that
// lands on any other protocol is a cross-match and fails the test.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  classifyPayloads,
  loadPatternDirs,
  parseConfigFile,
  DIR_CONFIG_FILE,
  type PayloadPacket,
  type PatternSet,
  type Transport,
} from "../src/index.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PROTOCOLS = join(ROOT, "protocols");
const FIXTURES = join(PROTOCOLS, "fixtures");
const CLASSIC = resolve(ROOT, "../shared/l7-protocols/protocols");

interface FixturePacket {
  dir: "c2s" | "s2c";
  text?: string;
  hex?: string;
}

interface Fixture {
  description: string;
  l4: Transport;
  packets: FixturePacket[];
  expect?: string;
}

interface FixtureFile {
  positive: Fixture[];
  negative: Fixture[];
}

const set: PatternSet = loadPatternDirs([PROTOCOLS]);
const patNames = readdirSync(PROTOCOLS)
  .filter((n) => n.endsWith(".pat"))
  .map((n) => n.slice(0, -".pat".length))
  .sort();
const fixtureNames = existsSync(FIXTURES)
  ? readdirSync(FIXTURES)
      .filter((n) => n.endsWith(".json"))
      .map((n) => n.slice(0, -".json".length))
      .sort()
  : [];

function readFixtures(name: string): FixtureFile {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as FixtureFile;
}

function payloads(f: Fixture, where: string): PayloadPacket[] {
  assert.ok(f.l4 === "tcp" || f.l4 === "udp", `${where}: l4 must be "tcp" or "udp"`);
  assert.ok(Array.isArray(f.packets) && f.packets.length > 0, `${where}: no packets`);
  return f.packets.map((p, i) => {
    assert.ok(p.dir === "c2s" || p.dir === "s2c", `${where}: packet ${i + 1}: dir must be "c2s" or "s2c"`);
    assert.ok(
      (p.text === undefined) !== (p.hex === undefined),
      `${where}: packet ${i + 1}: give exactly one of text and hex`,
    );
    if (p.hex !== undefined) {
      assert.match(
        p.hex,
        /^([0-9a-f]{2})*$/i,
        `${where}: packet ${i + 1}: hex is not an even number of hex digits`,
      );
      return { dir: p.dir, payload: Buffer.from(p.hex, "hex") };
    }
    return { dir: p.dir, payload: Buffer.from(p.text!, "latin1") };
  });
}

test("protocols/ loads every pattern with no skips", () => {
  assert.equal(set.skipped.length, 0, set.report());
  assert.ok(set.size >= 50, `only ${set.size} patterns loaded`);
  assert.equal(set.size, patNames.length, "every .pat file should load exactly once");
  for (const w of set.patterns.flatMap((p) => p.warnings.map((x) => `${p.name}: ${x}`)))
    assert.fail(`warning ${w}`);
});

test("every pattern has quality, speed, groups, title, wiki and copyright metadata", () => {
  for (const p of set.patterns) {
    assert.ok(p.meta.title, `${p.name}: no title line`);
    assert.ok(p.meta.quality, `${p.name}: no quality in "Pattern attributes:"`);
    assert.ok(p.meta.speed, `${p.name}: no speed in "Pattern attributes:"`);
    assert.ok(p.meta.groups.length > 0, `${p.name}: no "Protocol groups:"`);
    assert.ok(p.meta.wiki, `${p.name}: no "Wiki:"`);
    assert.match(p.meta.copyright ?? "", /Sluice contributors/, `${p.name}: no Sluice copyright line`);
  }
});

test("aliases do not collide with other protocol names", () => {
  const owner = new Map<string, string>();
  for (const p of set.patterns) owner.set(p.name, p.name);
  for (const p of set.patterns) {
    for (const a of p.meta.aliases) {
      const prev = owner.get(a);
      assert.ok(prev === undefined, `alias "${a}" of ${p.name} is already taken by ${prev}`);
      owner.set(a, p.name);
    }
  }
});

test("l7-filter.conf lists every protocol once, and only existing ones", () => {
  const conf = join(PROTOCOLS, DIR_CONFIG_FILE);
  const entries = parseConfigFile(readFileSync(conf, "utf8"), conf);
  const listed = entries.map((e) => e.protocol);
  for (const n of listed)
    assert.ok(patNames.includes(n), `l7-filter.conf lists "${n}" but there is no ${n}.pat`);
  for (const n of patNames)
    assert.ok(
      listed.includes(n),
      `${n}.pat is not listed in l7-filter.conf (its priority would be arbitrary)`,
    );
  assert.deepEqual(
    set.patterns.map((p) => p.name),
    listed,
    "loaded priority order should follow l7-filter.conf",
  );
});

test("every .pat has a fixtures file and every fixtures file a .pat", () => {
  for (const n of patNames) assert.ok(fixtureNames.includes(n), `protocols/fixtures/${n}.json is missing`);
  for (const n of fixtureNames)
    assert.ok(patNames.includes(n), `protocols/fixtures/${n}.json has no ${n}.pat`);
});

for (const name of patNames) {
  test(`fixtures: ${name}`, { skip: fixtureNames.includes(name) ? false : "no fixtures file" }, () => {
    const file = readFixtures(name);
    // A related protocol (ftp-data) is decided by its control connection, never by its
    // payload: no positive can exist here (test/expectations.test.ts covers it), and its
    // negatives (file contents) must never classify as it.
    const related = set.get(name)?.meta.relatedTo ?? null;
    assert.ok(
      Array.isArray(file.positive) && (file.positive.length > 0 || related !== null),
      `${name}: needs at least one positive fixture`,
    );
    assert.ok(
      Array.isArray(file.negative) && file.negative.length > 0,
      `${name}: needs at least one negative fixture`,
    );
    const failures: string[] = [];
    const run = (kind: "positive" | "negative", f: Fixture, i: number) => {
      const where = `${name}.json ${kind} #${i + 1} "${f.description}"`;
      assert.ok(typeof f.description === "string" && f.description.length > 0, `${where}: no description`);
      if (f.expect !== undefined)
        assert.ok(set.get(f.expect), `${where}: expects unknown protocol "${f.expect}"`);
      const flow = classifyPayloads(set, f.l4, payloads(f, where));
      const got = flow.protocol;
      if (kind === "positive") {
        const want = f.expect ?? name;
        if (got !== want) failures.push(`${where} (${f.l4}): classified as "${got}", expected "${want}"`);
      } else if (got === name) {
        failures.push(`${where} (${f.l4}): a negative fixture classified as ${name} itself`);
      } else if (f.expect !== undefined ? got !== f.expect : got !== "unknown" && got !== "unset") {
        failures.push(
          `${where} (${f.l4}): cross-match: classified as "${got}", expected "${f.expect ?? "unknown or unset"}"`,
        );
      }
    };
    file.positive.forEach((f, i) => run("positive", f, i));
    file.negative.forEach((f, i) => run("negative", f, i));
    assert.deepEqual(failures, [], failures.join("\n"));
  });
}

test("random payloads are (almost) never classified", () => {
  // Encrypted and compressed traffic looks like noise: a pattern that matches noise
  // misclassifies it. 4000 deterministic random two-packet flows (half TCP, half UDP) may
  // reach only the patterns declared `overmatch`, and the others at most a handful of times.
  const counts = new Map<string, number>();
  let n = 0;
  const noise = (len: number) => {
    const parts: Buffer[] = [];
    for (let have = 0; have < len; have += 32)
      parts.push(createHash("sha256").update(`noise/${n++}`).digest());
    return Buffer.concat(parts).subarray(0, len);
  };
  const flows = 4000;
  for (let i = 0; i < flows; i++) {
    const l4: Transport = i % 2 ? "tcp" : "udp";
    const flow = classifyPayloads(set, l4, [
      { dir: "c2s", payload: noise(20 + (i % 300)) },
      { dir: "s2c", payload: noise(20 + ((i * 7) % 500)) },
    ]);
    if (flow.verdict === "matched") counts.set(flow.protocol, (counts.get(flow.protocol) ?? 0) + 1);
  }
  const strict = [...counts.entries()].filter(([name]) => !set.get(name)!.meta.overmatch);
  const strictTotal = strict.reduce((a, [, c]) => a + c, 0);
  const total = [...counts.values()].reduce((a, c) => a + c, 0);
  const summary = [...counts.entries()].map(([k, c]) => `${k} ${c}`).join(", ");
  assert.ok(
    strictTotal <= 4,
    `patterns without "overmatch" classified ${strictTotal} of ${flows} random flows: ${summary}`,
  );
  assert.ok(total <= flows / 100, `${total} of ${flows} random flows classified: ${summary}`);
});

test(
  "the classic l7-protocols set loads (informational)",
  { skip: existsSync(CLASSIC) ? false : "../shared/l7-protocols not present" },
  (t) => {
    const classic = loadPatternDirs([CLASSIC]);
    t.diagnostic(`classic set: ${classic.size} patterns loaded, ${classic.skipped.length} skipped`);
    for (const s of classic.skipped) t.diagnostic(`  skipped ${s.name ?? "?"}: ${s.reason}`);
    assert.ok(classic.size > 0, "no classic pattern loaded");
  },
);
