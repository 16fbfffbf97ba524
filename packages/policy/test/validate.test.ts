import { test } from "node:test";
import assert from "node:assert/strict";
import {
  validatePolicy,
  validateTargetRules,
  ruleLabel,
  ruleTarget,
  isHostnameGlob,
  hostnameGlobMatcher,
  defaultPolicy,
  defaultPolicyProtocols,
  parseRate,
  formatRate,
  type PolicyInput,
} from "../src/index.ts";

/** The protocols the default policy names (ssh, dns, …, edonkey). */
const PROTOCOLS = new Set(defaultPolicyProtocols());

test("defaultPolicyProtocols: what the default rules name, reserved names aside; the default needs all of them", () => {
  const names = defaultPolicyProtocols();
  assert.ok(names.length > 0 && !names.includes("unset") && !names.includes("unknown"));
  assert.equal(new Set(names).size, names.length);
  assert.ok(validatePolicy(defaultPolicy(), { protocols: new Set(names) }).ok);
  const short = new Set(names.slice(1));
  const r = validatePolicy(defaultPolicy(), { protocols: short });
  assert.ok(!r.ok && r.issues.some((i) => i.message.includes(`"${names[0]}"`)));
});

function issues(p: unknown) {
  const r = validatePolicy(p, { protocols: PROTOCOLS });
  return r.ok ? [] : r.issues;
}

function mutate(
  f: (p: PolicyInput & { classes: { upload: Record<string, unknown>[] } }) => void,
): PolicyInput {
  const p = structuredClone(defaultPolicy()) as PolicyInput & {
    classes: { upload: Record<string, unknown>[] };
  };
  f(p);
  return p;
}

test("rates parse like tc reads them", () => {
  assert.equal(parseRate("20mbit"), 20_000_000);
  assert.equal(parseRate("512kbit"), 512_000);
  assert.equal(parseRate("1.5Gbit"), 1_500_000_000);
  assert.equal(parseRate("1mbps"), 8_000_000);
  assert.equal(parseRate(1000), 1000);
  assert.equal(parseRate("fast"), null);
  assert.equal(formatRate(20_000_000), "20Mbit");
  assert.equal(formatRate(512_000), "512Kbit");
});

test("the default policy is valid and normalised to bit/s", () => {
  const r = validatePolicy(defaultPolicy(), { protocols: PROTOCOLS });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  assert.equal(r.policy.interfaces.wan.rate, 20_000_000);
  assert.equal(r.policy.classes.upload[0]!.rate, 4_000_000);
  assert.equal(r.policy.marks.mask, 0xff00);
  assert.equal(r.policy.inspection.packets, 10);
});

test("errors name the field and say why", () => {
  const cases: [PolicyInput, string, RegExp][] = [
    [
      mutate((p) => (p.classes.upload[0]!.ceil = "30mbit")),
      "classes.upload[0].ceil",
      /above the link rate 20Mbit/,
    ],
    [mutate((p) => (p.classes.upload[0]!.ceil = "1mbit")), "classes.upload[0].ceil", /below the rate 4Mbit/],
    [
      mutate((p) => (p.classes.upload[1]!.rate = "15mbit")),
      "classes.upload[4].rate",
      /add up to 28Mbit, above the link rate 20Mbit/,
    ],
    [mutate((p) => (p.classes.upload[0]!.rate = "fast")), "classes.upload[0].rate", /not a rate/],
    [
      mutate((p) => (p.classes.upload[0]!.parent = "nope")),
      "classes.upload[0].parent",
      /no class named "nope"/,
    ],
    [
      mutate((p) => {
        p.classes.upload[0]!.parent = "web";
        p.classes.upload[1]!.parent = "interactive";
      }),
      "classes.upload[0].parent",
      /loop in the class tree: interactive → web → interactive/,
    ],
    [
      mutate((p) => (p.classes.upload[4]!.default = false)),
      "classes.upload",
      /one class must be the default/,
    ],
    [
      mutate((p) => (p.classes.upload[1]!.name = "interactive")),
      "classes.upload[1].name",
      /duplicate class name/,
    ],
    [mutate((p) => (p.rules![0]!.protocol = "telnetx")), "rules[0].protocol", /unknown protocol "telnetx"/],
    [mutate((p) => (p.rules![1]!.protocol = "ssh")), "rules[1].protocol", /already mapped by rules\[0\]/],
    [mutate((p) => (p.rules![0]!.class = "vip")), "rules[0].class", /no class named "vip"/],
    [mutate((p) => ((p as { marks?: unknown }).marks = { mask: "0xf0f0" })), "marks.mask", /contiguous/],
    [mutate((p) => (p.interfaces.lan.device = "wan0")), "interfaces.lan.device", /must differ/],
    [mutate((p) => ((p as Record<string, unknown>).extra = 1)), "", /Unrecognized key/],
  ];
  for (const [p, path, re] of cases) {
    const found = issues(p);
    assert.ok(
      found.some((i) => i.path === path && re.test(i.message)),
      `expected ${path} ~ ${re}, got ${JSON.stringify(found)}`,
    );
  }
});

test("a child's rate above its parent's and a ceil above the parent's ceil", () => {
  const p = mutate((p) => {
    p.classes.upload.push({ name: "ssh", parent: "interactive", rate: "5mbit", ceil: "20mbit" });
    p.classes.upload[0]!.ceil = "10mbit";
  });
  const found = issues(p);
  assert.ok(
    found.some(
      (i) =>
        i.path === "classes.upload[5].rate" && /above its parent "interactive"'s rate 4Mbit/.test(i.message),
    ),
  );
  assert.ok(
    found.some(
      (i) =>
        i.path === "classes.upload[5].ceil" && /above its parent "interactive"'s ceil 10Mbit/.test(i.message),
    ),
  );
  // A rule may not target a class with children.
  assert.ok(found.some((i) => i.path === "rules[0].class" && /leaf/.test(i.message)));
});

test("targeted rules: a protocol, an app, a category or a host name glob, exactly one", () => {
  const policy = validatePolicy(defaultPolicy(), { protocols: PROTOCOLS });
  assert.ok(policy.ok);
  const classes = policy.policy.classes;
  const ctx = {
    protocols: PROTOCOLS,
    apps: new Set(["youtube", "zoom", "steam"]),
    categories: new Set(["video-streaming", "gaming"]),
  };
  const good = [
    { protocol: "ssh", class: "interactive" },
    { app: "zoom", class: "interactive" },
    { category: "video-streaming", class: "bulk" },
    { hostname: "*.googlevideo.com", class: "bulk" },
    { hostname: "cdn*.example.*", class: "bulk", comment: "a glob" },
  ];
  const ok = validateTargetRules(good, classes, ctx);
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.issues));
  assert.deepEqual(ok.rules.map(ruleLabel), [
    "ssh",
    "app zoom",
    "category video-streaming",
    "hostname *.googlevideo.com",
    "hostname cdn*.example.*",
  ]);
  assert.deepEqual(ruleTarget(ok.rules[1]!), { kind: "app", value: "zoom" });
  // Every rule of an existing policy is a valid targeted rule.
  assert.ok(validateTargetRules(defaultPolicy().rules, classes, ctx).ok);

  const bad = (rules: unknown[], path: string, re: RegExp) => {
    const r = validateTargetRules(rules, classes, ctx);
    assert.ok(!r.ok, `expected an issue at ${path}`);
    assert.ok(
      r.issues.some((i) => i.path === path && re.test(i.message)),
      `expected ${path} ~ ${re}, got ${JSON.stringify(r.issues)}`,
    );
  };
  bad(
    [{ app: "tiktok", class: "bulk" }],
    "rules[0].app",
    /unknown application "tiktok" \(not in the catalogue\)/,
  );
  bad([{ category: "news", class: "bulk" }], "rules[0].category", /unknown category "news"/);
  bad([{ protocol: "telnetx", class: "bulk" }], "rules[0].protocol", /unknown protocol "telnetx"/);
  bad([{ hostname: "bad host", class: "bulk" }], "rules[0].hostname", /not a host name or glob/);
  bad([{ hostname: "**.example.com", class: "bulk" }], "rules[0].hostname", /not a host name or glob/);
  bad(
    [{ app: "zoom", protocol: "stun", class: "bulk" }],
    "rules[0]",
    /exactly one of .* \(this one has protocol and app\)/,
  );
  bad([{ class: "bulk" }], "rules[0]", /needs one of protocol, app, category or hostname/);
  bad(
    [
      { app: "steam", class: "bulk" },
      { app: "steam", class: "interactive" },
    ],
    "rules[1].app",
    /app "steam" is already mapped by rules\[0\]/,
  );
  bad(
    [
      { hostname: "*.Example.com", class: "bulk" },
      { hostname: "*.example.com", class: "bulk" },
    ],
    "rules[1].hostname",
    /already mapped by rules\[0\]/,
  );
  bad([{ category: "gaming", class: "vip" }], "rules[0].class", /no class named "vip"/);
  assert.ok(isHostnameGlob("www.example.com") && isHostnameGlob("*.example.com") && !isHostnameGlob("a..b"));
});

test("hostname globs: * within a label, a leading *. also matches the domain itself", () => {
  const m = hostnameGlobMatcher("*.googlevideo.com");
  assert.ok(m("rr3---sn-4g5e6nze.googlevideo.com") && m("googlevideo.com") && m("A.B.GoogleVideo.com."));
  assert.ok(!m("googlevideo.com.evil.net") && !m("notgooglevideo.com"));
  const n = hostnameGlobMatcher("cdn*.example.*");
  assert.ok(
    n("cdn.example.org") && n("cdn42.example.net") && !n("cdn.x.example.org") && !n("xcdn.example.org"),
  );
  assert.ok(
    hostnameGlobMatcher("www.example.com")("WWW.example.com") &&
      !hostnameGlobMatcher("www.example.com")("wwwxexample.com"),
  );
});

test("policy rules may target apps, categories and host names; mark fields must not overlap", () => {
  const p = defaultPolicy();
  p.rules = [
    ...p.rules!,
    { app: "youtube", class: "bulk" },
    { category: "gaming", class: "interactive" },
    { hostname: "*.example.com", class: "p2p" },
  ];
  const ok = validatePolicy(p, {
    protocols: PROTOCOLS,
    apps: new Set(["youtube"]),
    categories: new Set(["gaming"]),
  });
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.issues));
  assert.deepEqual(ok.policy.marks, { mask: 0xff00, appMask: 0xff0000, hostMask: 0xff000000 });
  const clash = validatePolicy({ ...p, marks: { mask: "0xff00", appMask: "0xfff000" } });
  assert.ok(
    !clash.ok &&
      clash.issues.some((i) => i.path === "marks.appMask" && /overlaps marks.mask/.test(i.message)),
  );
  const narrow = validatePolicy({ ...p, marks: { hostMask: 0 } });
  assert.ok(!narrow.ok && narrow.issues.some((i) => i.path === "marks.hostMask"));
  const tooFewApps = validatePolicy(
    { ...p, marks: { appMask: "0x30000" } },
    { apps: new Set(["a", "b", "c", "d"]) },
  );
  assert.ok(
    !tooFewApps.ok &&
      tooFewApps.issues.some((i) => i.path === "marks.appMask" && /4 catalogue/.test(i.message)),
  );
  // Marks carry app ids, which may be sparse: the highest id must fit.
  const ids = validatePolicy({ ...p, marks: { appMask: "0x7f0000" } }, { maxAppId: 150 });
  assert.ok(!ids.ok && ids.issues.some((i) => i.path === "marks.appMask" && /up to 150/.test(i.message)));
});
