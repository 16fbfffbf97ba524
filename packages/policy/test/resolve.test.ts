// The one rule resolver: hostname > app > category > protocol; the first matching hostname
// rule; a rule whose class is not usable lets the flow fall through; protocol aliases.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_MARKS,
  HostnameRules,
  MARK_UNKNOWN,
  MARK_UNSET,
  RuleResolver,
  controlProtocolOf,
  markFields,
  protocolMark,
  reservedProtocol,
} from "../src/index.ts";

const rules = [
  { protocol: "tls", class: "web" },
  { protocol: "ssh", class: "interactive" },
  { category: "video", class: "bulk" },
  { app: "youtube", class: "web" },
  { hostname: "*.example.com", class: "p2p" },
  { hostname: "cdn.example.com", class: "interactive" },
];
const r = new RuleResolver(rules, new Map([["tls", "ssl"]]));

test("the most specific kind wins, whatever the list order", () => {
  const flow = { protocol: "ssl", app: "youtube", category: "video", hostname: "www.example.com" };
  assert.equal(r.resolve(flow)?.kind, "hostname");
  assert.equal(r.resolve({ ...flow, hostname: "x.org" })?.className, "web");
  assert.deepEqual(r.resolve({ ...flow, hostname: null, app: "netflix" }), {
    kind: "category",
    value: "video",
    className: "bulk",
  });
  assert.deepEqual(r.resolve({ protocol: "ssl" }), { kind: "protocol", value: "tls", className: "web" });
  assert.equal(r.resolve({ protocol: "bittorrent" }), null);
});

test("among hostname rules the first in the list decides", () => {
  assert.equal(r.resolve({ hostname: "cdn.example.com" })?.value, "*.example.com");
  assert.equal(new HostnameRules(["a.example", "*.example"]).first("a.example"), 0);
  assert.equal(new HostnameRules(["a.example"]).first("b.example"), -1);
});

test("an unusable class (absent in a direction) falls through to the less specific rules", () => {
  const usable = (c: string) => c !== "web";
  assert.deepEqual(r.resolve({ app: "youtube", category: "video" }, { kinds: ["app", "category"], usable }), {
    kind: "category",
    value: "video",
    className: "bulk",
  });
  // a first hostname match that is unusable does not try the next hostname rule
  assert.equal(
    r.resolve({ hostname: "cdn.example.com", protocol: "ssh" }, { usable: (c) => c !== "p2p" })?.kind,
    "protocol",
  );
});

test("mark fields: the defaults and the reserved protocol values", () => {
  assert.deepEqual(markFields(), {
    protocol: { mask: 0xff00, shift: 8 },
    app: { mask: 0xff0000, shift: 16 },
    host: { mask: 0xff000000, shift: 24 },
  });
  assert.equal(DEFAULT_MARKS.hostMask, 0xff000000);
  assert.equal(protocolMark("unset", new Map()), MARK_UNSET);
  assert.equal(protocolMark("unknown", new Map()), MARK_UNKNOWN);
  assert.equal(protocolMark("ssh", new Map([["ssh", 4]])), 4);
  assert.equal(reservedProtocol(2), "unknown");
  assert.equal(reservedProtocol(3), undefined);
});

test("a related protocol without a rule follows its control protocol's rule; its own rule wins", () => {
  const rel = new RuleResolver([
    { protocol: "ftp", class: "bulk" },
    { protocol: "sip", class: "voice" },
    { protocol: "rtp", class: "media" },
    { hostname: "files.example.com", class: "p2p" },
  ]);
  assert.deepEqual(rel.resolve({ protocol: "ftp-data" }), {
    kind: "protocol",
    value: "ftp",
    className: "bulk",
  });
  assert.equal(rel.resolve({ protocol: "rtp" })?.className, "media");
  assert.equal(rel.resolve({ protocol: "ftp-data", hostname: "files.example.com" })?.kind, "hostname");
  assert.equal(rel.resolve({ protocol: "ftp-data" }, { usable: (c) => c !== "bulk" }), null);
  assert.equal(new RuleResolver([{ protocol: "ssh", class: "x" }]).resolve({ protocol: "ftp-data" }), null);
  assert.equal(controlProtocolOf("ftp-data"), "ftp");
  assert.equal(controlProtocolOf("constructor"), undefined);
  // rtp follows sip's rule, else rtsp's (RTSP media followed by the agent's own table)
  const rtsp = new RuleResolver([{ protocol: "rtsp", class: "video" }]);
  assert.equal(rtsp.resolve({ protocol: "rtp" })?.className, "video");
  const both = new RuleResolver([
    { protocol: "rtsp", class: "video" },
    { protocol: "sip", class: "voice" },
  ]);
  assert.equal(both.resolve({ protocol: "rtp" })?.className, "voice");
});
