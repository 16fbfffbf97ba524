import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ethernetFrame,
  pcapFile,
  pcapngFile,
  tcpConversation,
} from "../../../packages/classifier/test/helpers/frames.ts";
import { buildClientHello, tlsRecords } from "@sluice/classifier";

const SLUICE = fileURLToPath(new URL("../bin/sluice", import.meta.url));
const SHARED = fileURLToPath(new URL("../../../../shared", import.meta.url));
const CORPUS = join(SHARED, "corpus/ndpi/pcap");

function sluice(...args: string[]) {
  const r = spawnSync(SLUICE, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function patternDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-pat-"));
  writeFileSync(
    join(dir, "http.pat"),
    "# Pattern attributes: good fast\nhttp\n^(get|post) [\\x09-\\x0d -~]* http/1\\.[01]\n",
  );
  writeFileSync(join(dir, "bad.pat"), "bad\n^(a)\\1\n");
  return dir;
}

const conv = tcpConversation(
  ["10.0.0.1", 40000],
  ["10.0.0.2", 80],
  [
    { dir: "c2s", data: "GET / HTTP/1.1\r\nHost: example\r\n\r\n" },
    { dir: "s2c", data: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
  ],
);

// Five packets of 40 header bytes, plus the request's 33 and the response's 38 payload bytes.
const CONV_BYTES = 5 * 40 + 33 + 38;

test("sluice classify --json prints one object per connection with the contract's fields", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
  const file = join(dir, "name.pcap");
  const udp = ethernetFrame({
    src: "10.0.0.1",
    dst: "10.0.0.3",
    sport: 5000,
    dport: 6000,
    l4: "udp",
    payload: "zzz",
  });
  writeFileSync(file, pcapFile([...conv.map((s) => ethernetFrame(s)), udp]));
  const r = sluice("classify", "--protocols", patternDir(), "--json", file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /1 patterns loaded, 1 skipped/);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]), [
    "pcap",
    "l4",
    "client",
    "server",
    "protocol",
    "packets",
    "bytes",
    "hostname",
    "app",
    "category",
  ]);
  assert.deepEqual(lines[0], {
    pcap: "name.pcap",
    l4: "tcp",
    client: "10.0.0.1:40000",
    server: "10.0.0.2:80",
    protocol: "http",
    packets: 5,
    bytes: CONV_BYTES,
    hostname: "example", // the request's Host header
    app: null, // no catalogue beside this protocols directory
    category: null,
  });
  assert.deepEqual(Object.keys(lines[1]), Object.keys(lines[0]));
  assert.equal(lines[1].hostname, null);
  assert.equal(lines[1].protocol, "unset"); // one UDP packet: the capture ended inside the window
  const wide = sluice("classify", "--protocols", patternDir(), "--packets", "1", "--json", file);
  assert.equal(JSON.parse(wide.stdout.split("\n")[1]!).protocol, "unknown");
});

test("sluice classify prints a table and a per-protocol summary; --patterns explains skips", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
  const file = join(dir, "t.pcap");
  writeFileSync(file, pcapFile(conv.map((s) => ethernetFrame(s))));
  const r = sluice("classify", "--protocols", patternDir(), "--patterns", file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /== t\.pcap \(pcap\): 5 frames, 1 connections/);
  assert.match(r.stdout, /tcp\s+10\.0\.0\.1:40000\s+10\.0\.0\.2:80\s+http\s+5\s+271/);
  assert.match(r.stdout, /protocol\s+connections\s+packets\s+bytes\s+share\nhttp\s+1\s+5\s+271 B\s+100\.0%/);
  assert.match(r.stderr, /skipped bad \(.*bad\.pat:2\): kernel pattern at column 5: backreference/);
});

test("hostname, app and category: a ClientHello split over two segments, the catalogue, --no-dissect", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
  const pats = patternDir();
  writeFileSync(join(pats, "ssl.pat"), "ssl\n^\\x16\\x03[\\x01-\\x03]\n");
  const records = tlsRecords(
    buildClientHello({ sni: "r4---sn-abc.googlevideo.com", alpn: ["h2"], padding: 600 }),
  );
  const file = join(dir, "tls.pcap");
  const hello = tcpConversation(
    ["10.0.0.1", 40001],
    ["10.0.0.9", 443],
    [
      { dir: "c2s", data: records.subarray(0, 300) },
      { dir: "c2s", data: records.subarray(300) },
    ],
  );
  writeFileSync(file, pcapFile(hello.map((s) => ethernetFrame(s))));
  const apps = join(dir, "catalogue.json");
  writeFileSync(
    apps,
    JSON.stringify({
      version: 1,
      categories: [{ id: 1, name: "video-streaming", title: "Video" }],
      apps: [
        { id: 7, name: "youtube", title: "YouTube", category: "video-streaming", hosts: ["googlevideo.com"] },
      ],
    }),
  );
  const r = sluice("classify", "--protocols", pats, "--apps", apps, "--json", file);
  assert.equal(r.code, 0, r.stderr);
  const row = JSON.parse(r.stdout);
  assert.equal(row.protocol, "ssl");
  assert.equal(row.hostname, "r4---sn-abc.googlevideo.com");
  assert.equal(row.app, "youtube");
  assert.equal(row.category, "video-streaming");
  const table = sluice("classify", "--protocols", pats, "--apps", apps, file);
  assert.match(table.stdout, /hostname\s+app\s+category\n/);
  assert.match(table.stdout, /ssl\s+5\s+\d+\s+r4---sn-abc\.googlevideo\.com\s+youtube\s+video-streaming/);
  const plain = JSON.parse(
    sluice("classify", "--protocols", pats, "--apps", apps, "--no-dissect", "--json", file).stdout,
  );
  assert.equal(plain.protocol, "ssl");
  assert.deepEqual([plain.hostname, plain.app, plain.category], [null, null, null]);
  const bad = sluice("classify", "--protocols", pats, "--apps", join(dir, "missing.json"), file);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /missing\.json: cannot read: ENOENT/);
});

test("a truncated capture: error with file and offset on stderr, the flows read so far, exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
  const file = join(dir, "cut.pcap");
  const full = pcapFile(conv.map((s) => ethernetFrame(s)));
  writeFileSync(file, full.subarray(0, full.length - 7));
  const r = sluice("classify", "--protocols", patternDir(), "--json", file);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /cut\.pcap: at byte \d+: truncated record: \d+ of \d+ captured bytes present \(showing the 1 connections read before it\)/,
  );
  assert.equal(JSON.parse(r.stdout).packets, 4);
});

test("a capture of an unsupported link type (999): a clear error naming the type, exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
  const frames = conv.map((s) => ethernetFrame(s));
  writeFileSync(join(dir, "odd.pcap"), pcapFile(frames, 999));
  writeFileSync(join(dir, "odd.pcapng"), pcapngFile(frames, 999));
  writeFileSync(join(dir, "empty.pcap"), pcapFile([], 999));
  for (const name of ["odd.pcap", "odd.pcapng", "empty.pcap"]) {
    for (const json of [[], ["--json"]]) {
      const r = sluice("classify", "--protocols", patternDir(), ...json, join(dir, name));
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `${name.replace(".", "\\.")}: at byte \\d+: unsupported link type 999 \\(Sluice reads .*1 ethernet`,
        ),
      );
      if (json.length) assert.equal(r.stdout, "");
    }
  }
});

test("usage errors exit 2 with a message", () => {
  const r = sluice("classify", "--packets", "0", "x.pcap");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /must be a positive integer/);
  const none = sluice("classify", "--protocols", "/nonexistent-dir", "x.pcap");
  assert.equal(none.code, 2);
  assert.match(none.stderr, /protocols directory not found/);
});

test(
  "sluice classify --json works on every capture of the nDPI corpus",
  { skip: existsSync(CORPUS) ? false : "../shared/corpus/ndpi not present" },
  () => {
    const files = readdirSync(CORPUS).map((f) => join(CORPUS, f));
    assert.equal(files.length, 199);
    const r = sluice("classify", "--json", ...files);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const seen = new Set(rows.map((x) => x.pcap));
    // Every capture that holds TCP or UDP yields connections (a few hold only ICMP/ARP/other).
    assert.ok(seen.size >= 190, `only ${seen.size} captures produced connections`);
    // The dissectors name flows and the repository's catalogue gives them applications.
    assert.ok(rows.filter((x) => x.hostname).length > 1000);
    assert.ok(rows.filter((x) => x.app === "youtube").length >= 30);
    for (const x of rows) {
      assert.ok(["tcp", "udp"].includes(x.l4));
      assert.ok(x.hostname === null || typeof x.hostname === "string");
      assert.ok(x.app === null || typeof x.category === "string");
      assert.match(x.client, /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\]):\d+$/);
      assert.ok(typeof x.protocol === "string" && x.protocol.length > 0);
      assert.ok(x.packets >= 1 && x.bytes >= 20);
    }
  },
);
