// Free text never becomes a script line. Random policies whose names, descriptions,
// comments, protocol and app names are hostile (newlines, "COMMIT", "*filter", quotes,
// Unicode separators…) are rendered past the schema (the renderer's own defence) and
// compared with the same policy with plain names: every non-comment line has a known command
// form, the lines are the ones the model produced, and no script grows a line.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { validatePolicy, defaultPolicy, type Policy, type TargetRule } from "@sluice/policy";
import { renderPolicy, scriptText } from "../src/render/scripts.ts";
import { FULL_CAPABILITIES, MINIMAL_CAPABILITIES } from "../src/kernel/capabilities.ts";
import type { AppIndex } from "../src/render/model.ts";

const INJECTIONS = [
  "\n",
  "\r",
  "\r\n",
  "\t",
  "\0",
  "\u0085",
  "\u2028",
  "\u2029",
  "\u202e",
  "\x1b[2J",
  "COMMIT",
  "*filter",
  "-I INPUT 1 -j DROP",
  "qdisc del dev eth0 root",
  "#",
  '"',
  "\\",
  " ",
  "é",
  "😀",
];

/** Free text an attacker would try: injection pieces mixed with arbitrary Unicode. */
const hostile = fc.oneof(
  fc.array(fc.constantFrom(...INJECTIONS), { minLength: 1, maxLength: 8 }).map((a) => a.join("")),
  fc.string({ unit: "binary", maxLength: 24 }),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...INJECTIONS), fc.string({ maxLength: 8 }))
    .map(([a, b, c]) => a + b + c),
);

/** "unset" and "unknown" are the special classifications, not pattern names. */
const protocolName = hostile.filter((s) => s !== "unset" && s !== "unknown");

const CLASSES = ["interactive", "web", "bulk", "p2p", "default"];
const GLOBS = ["*.example.com", "backup*.example.net", "www.example.org", "cdn*.example.*"];

const sample = fc.record({
  name: hostile,
  descriptions: fc.array(fc.option(hostile), { minLength: 10, maxLength: 10 }),
  protocols: fc.uniqueArray(protocolName, { minLength: 1, maxLength: 5 }),
  apps: fc.uniqueArray(fc.tuple(hostile, hostile), { maxLength: 4, selector: ([a]) => a }),
  rules: fc.array(
    fc.record({
      kind: fc.constantFrom("protocol", "app", "category", "hostname", "stray"),
      pick: fc.nat(),
      class: fc.constantFrom(...CLASSES),
      comment: fc.option(hostile),
      stray: protocolName,
    }),
    { maxLength: 10 },
  ),
  ifb: fc.boolean(),
});
type Sample = typeof sample extends fc.Arbitrary<infer T> ? T : never;

const base = (() => {
  const r = validatePolicy(defaultPolicy());
  if (!r.ok) throw new Error("the default policy does not validate");
  return r.policy;
})();

/** The policy, pattern marks and catalogue of a sample, every free text passed through `text`. */
function build(s: Sample, text: (t: string) => string) {
  const policy: Policy = structuredClone(base);
  policy.name = text(s.name);
  policy.download = s.ifb ? "ifb" : "lan";
  const all = [...policy.classes.upload, ...policy.classes.download];
  all.forEach((c, i) => {
    const d = s.descriptions[i];
    if (d === null || d === undefined) delete c.description;
    else c.description = text(d);
  });
  const marks = new Map(s.protocols.map((p, i) => [text(p), 3 + i]));
  const apps: AppIndex = {
    apps: s.apps.map(([name, category], i) => ({ id: i + 1, name: text(name), category: text(category) })),
  };
  const hostnames = new Set<string>();
  policy.rules = [];
  for (const r of s.rules) {
    const comment = r.comment === null ? {} : { comment: text(r.comment) };
    let rule: TargetRule | null = null;
    if (r.kind === "protocol")
      rule = { protocol: text(s.protocols[r.pick % s.protocols.length]!), class: r.class };
    else if (r.kind === "stray") rule = { protocol: text(r.stray), class: r.class };
    else if (r.kind === "app" && s.apps.length)
      rule = { app: text(s.apps[r.pick % s.apps.length]![0]), class: r.class };
    else if (r.kind === "category" && s.apps.length)
      rule = { category: text(s.apps[r.pick % s.apps.length]![1]), class: r.class };
    else if (r.kind === "hostname") {
      const glob = GLOBS[r.pick % GLOBS.length]!;
      if (!hostnames.has(glob)) rule = { hostname: glob, class: r.class };
      hostnames.add(glob);
    }
    if (rule) policy.rules.push({ ...rule, ...comment });
  }
  return { policy, marks, apps };
}

/** Plain stand-ins: each distinct string becomes its own token, so the structure is the same. */
function plainNames(): (t: string) => string {
  const seen = new Map<string, string>();
  return (t) => {
    let v = seen.get(t);
    if (v === undefined) seen.set(t, (v = `t${seen.size}`));
    return v;
  };
}

const TC_FORMS = [
  /^qdisc add dev [\w.-]+ root handle 1: htb default [0-9a-f]+ r2q 10$/,
  /^class add dev [\w.-]+ parent 1: classid 1:1 htb rate \d+bit ceil \d+bit quantum 60000$/,
  /^class add dev [\w.-]+ parent 1:[0-9a-f]+ classid 1:[0-9a-f]+ htb rate \d+bit ceil \d+bit prio \d quantum \d+( burst \d+)?( cburst \d+)?$/,
  /^qdisc add dev [\w.-]+ parent 1:[0-9a-f]+ handle [0-9a-f]+: (sfq perturb 10|fq_codel|cake unlimited besteffort|pfifo limit 1000)$/,
  /^filter add dev [\w.-]+ parent 1: protocol all prio [123] handle 0x[0-9a-f]+\/0x[0-9a-f]+ fw classid 1:[0-9a-f]+$/,
  /^qdisc add dev [\w.-]+ handle ffff: ingress$/,
  /^filter add dev [\w.-]+ parent ffff: protocol all prio 1 matchall action connmark action mirred egress redirect dev [\w.-]+$/,
];
const CHAIN = "SLUICE_(PRE|FWD|OUT|POST|ACCT|APPS)";
const ARG = String.raw`(?:[A-Za-z0-9_.:/!+=-]+|--comment "(?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*")`;
const IPT_FORMS = [
  /^\*mangle$/,
  new RegExp(`^:${CHAIN} - \\[0:0\\]$`),
  new RegExp(`^-I (PREROUTING|FORWARD|OUTPUT|POSTROUTING) 1 -j ${CHAIN}$`),
  // FORWARD's conditional jumps (render/iptables.ts hooksOf).
  new RegExp(
    `^-I FORWARD [123] (?:-m mark --mark 0x[0-9a-f]+/0x[0-9a-f]+|-p udp -m udp --sport 53|-p tcp -m mark --mark 0x[0-9a-f]+/0x[0-9a-f]+) -j SLUICE_FWD$`,
  ),
  new RegExp(
    `^-A ${CHAIN}(?: ${ARG})* -j (NFQUEUE|CONNMARK|CLASSIFY|MARK|RETURN|SLUICE_APPS|SLUICE_ACCT)(?: ${ARG})*$`,
  ),
  /^COMMIT$/,
];

const NFT_ELEMENT = String.raw`0x[0-9a-f]{8} : (?:"(?:proto|app)_\d+"|\d+:[0-9a-f]+)`;
const NFT_FORMS = [
  /^(delete )?table inet sluice$/,
  /^table inet sluice \{$/,
  /^ {2}counter ((proto|app)_\d+|uninspected) \{$/,
  /^ {2}map (protocols|apps|decided|dev\d+_(protocol|app|host)) \{$/,
  /^ {4}type mark : (counter|classid)$/,
  /^ {4}counter$/,
  /^ {4}meta priority set ct mark & 0x[0-9a-f]{8} map @decided accept$/,
  new RegExp(`^    elements = \\{ ${NFT_ELEMENT}(, ${NFT_ELEMENT})* \\}$`),
  /^ {2}chain (pre|post|unmarked|restore|restore_bits|save|save_bits|dev\d+) \{$/,
  /^ {4}type filter hook postrouting priority mangle; policy accept;$/,
  /^ {4}type filter hook prerouting priority mangle - 10; policy accept;$/,
  // Conntrack helpers: fixed names and ports from the renderer's own table.
  /^ {2}ct helper (ftp|sip|sip-tcp|tftp) \{$/,
  /^ {4}type "(ftp|sip|tftp)" protocol (tcp|udp)$/,
  /^ {4}ct state new (tcp|udp) dport \d+ ct helper set "(ftp|sip|sip-tcp|tftp)"$/,
  /^ {4}ct status expected ct helper "(ftp|sip|sip-tcp|tftp)" ct mark & 0x[0-9a-f]{8} != 0x[0-9a-f]{8} ct mark set ct mark & 0x[0-9a-f]{8} \| 0x[0-9a-f]{8}$/,
  // The connection mark's restore and save (render/nft-connmark.ts).
  /^ {4}ct status & \(expected \| confirmed\) == confirmed (return|meta mark & 0x[0-9a-f]{8} == 0x0{8} meta mark set ct mark & 0x[0-9a-f]{8} accept)$/,
  /^ {4}meta mark & 0x[0-9a-f]{8} == 0x0{8} meta mark set ct mark & 0x[0-9a-f]{8} accept$/,
  /^ {4}goto (restore|save)$/,
  /^ {4}(meta|ct) mark & 0x[0-9a-f]{8} != 0x0{8} goto (restore|save)_bits$/,
  /^ {4}(meta|ct) mark set (ct|meta) mark & 0x[0-9a-f]{8}$/,
  /^ {4}(meta|ct) mark & 0x[0-9a-f]{8} != 0x0{8} (meta|ct) mark set \2 mark \| 0x[0-9a-f]{8}$/,
  /^ {4}ct mark & 0x[0-9a-f]{8} == 0x0{8} meta mark & 0x[0-9a-f]{8} != 0x0{8} jump save$/,
  /^ {4}(meta nfproto ipv4 )?meta l4proto \{ tcp, udp \} iifname \{ "[\w.-]+"(, "[\w.-]+")* \} counter name "uninspected"$/,
  // RTSP media maps (Sluice's own expectation table): fixed names and types.
  /^ {2}map rtsp_media[46] \{$/,
  /^ {4}type (ipv4_addr|ipv6_addr) \. inet_service \. \1 \. inet_service : mark$/,
  /^ {4}size \d+$/,
  /^ {4}flags timeout$/,
  /^ {4}ct state new ct mark set (ip6?) [sd]addr \. udp [sd]port \. \1 [sd]addr \. udp [sd]port map @rtsp_media[46]$/,
  /^ {4}meta mark & 0x[0-9a-f]{8} == 0x[0-9a-f]{8} (accept|return|goto unmarked)$/,
  /^ {4}meta mark & 0x[0-9a-f]{8} == 0x0{8} meta priority set meta mark & 0x[0-9a-f]{8} map @dev\d+_protocol return$/,
  /^ {4}meta mark & 0x[0-9a-f]{8} != 0x[0-9a-f]{8} counter name meta mark & 0x[0-9a-f]{8} map @apps$/,
  /^ {4}(counter name|meta priority set) meta mark & 0x[0-9a-f]{8} map @[a-z0-9_]+$/,
  /^ {4}oifname vmap \{ "[\w.-]+" : jump dev\d+(, "[\w.-]+" : jump dev\d+)* \}$/,
  // The decided packet's fast path: one lookup by its mark, a chain per protocol.
  /^ {4}meta mark & 0x[0-9a-f]{8} vmap \{ 0x[0-9a-f]{8} : goto (unmarked|fast_\d+)(, 0x[0-9a-f]{8} : goto fast_\d+)* \}$/,
  /^ {4}ct mark & 0x[0-9a-f]{8} vmap \{ 0x[0-9a-f]{8} : goto fast_\d+(, 0x[0-9a-f]{8} : goto fast_\d+)* \}$/,
  /^ {2}chain fast_\d+ \{$/,
  /^ {4}counter name "proto_\d+"( meta priority set oifname map \{ "[\w.-]+" : \d+:[0-9a-f]+(, "[\w.-]+" : \d+:[0-9a-f]+)* \}| meta priority set \d+:[0-9a-f]+)?$/,
  /^ {4}goto hosts_tail$/,
  /^( {2})?\}$/,
];

/** Lines of a script text: the final newline ends the last line, it does not start one. */
const linesOf = (text: string) => text.replace(/\n$/, "").split("\n");
const commands = (text: string) => linesOf(text).filter((l) => !l.startsWith("#"));
/** A command with its comment text blanked: what the model decided, not what it is called. */
const shape = (line: string) => line.replace(/--comment "(?:[^"\\]|\\.)*"/g, '--comment ""');

function check(s: Sample): void {
  for (const caps of [FULL_CAPABILITIES, MINIMAL_CAPABILITIES]) {
    const bad = build(s, (t) => t);
    const good = build(s, plainNames());
    const scripts = scriptText(renderPolicy(bad.policy, bad.marks, caps, bad.apps));
    const plain = scriptText(renderPolicy(good.policy, good.marks, caps, good.apps));
    for (const which of ["tc", "iptables", "ip6tables", "nft"] as const) {
      const text = scripts[which];
      assert.doesNotMatch(text, /[^\n\x20-\x7e]/, `${which}: only printable ASCII and newlines`);
      assert.equal(linesOf(text).length, linesOf(plain[which]).length, `${which}: no line from free text`);
      const forms = which === "tc" ? TC_FORMS : which === "nft" ? NFT_FORMS : IPT_FORMS;
      for (const line of commands(text))
        assert.ok(
          forms.some((f) => f.test(line)),
          `${which}: ${JSON.stringify(line)} is not a command the renderer makes`,
        );
      assert.deepEqual(commands(text).map(shape), commands(plain[which]).map(shape), which);
    }
  }
}

test("property: hostile free text never adds, removes or changes a script command", () => {
  fc.assert(fc.property(sample, check), { numRuns: 300 });
});

test("the schema refuses control characters in every free-text field, naming the field", () => {
  const fields: [string, (p: ReturnType<typeof defaultPolicy>, v: string) => void][] = [
    ["name", (p, v) => (p.name = v)],
    ["classes.upload[1].description", (p, v) => (p.classes.upload[1]!.description = v)],
    ["classes.download[0].parent", (p, v) => (p.classes.download[0]!.parent = v)],
    ["rules[2].comment", (p, v) => (p.rules![2]!.comment = v)],
    ["rules[3].protocol", (p, v) => ((p.rules![3] as { protocol: string }).protocol = v)],
    ["rules[4].class", (p, v) => (p.rules![4]!.class = v)],
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...fields),
      fc.string({ maxLength: 10 }),
      fc.constantFrom("\n", "\r", "\t", "\0", "\x7f", "\u0085", "\u2028", "\u202e"),
      fc.string({ maxLength: 10 }),
      ([path, set], a, ctl, b) => {
        const p = defaultPolicy();
        set(p, a + ctl + b);
        const r = validatePolicy(p);
        assert.equal(r.ok, false);
        const issue = !r.ok && r.issues.find((i) => i.path === path);
        assert.ok(issue, `an issue for ${path}: ${JSON.stringify(!r.ok && r.issues)}`);
        assert.match(issue.message, /control characters .* not allowed: found U\+[0-9A-F]{4}/);
      },
    ),
    { numRuns: 200 },
  );
  // The attack of the report, verbatim.
  const p = defaultPolicy();
  p.name = "lab\nCOMMIT\n*filter\n-I INPUT 1 -j DROP\nCOMMIT\n*mangle";
  const r = validatePolicy(p);
  assert.deepEqual(!r.ok && r.issues.map((i) => i.path), ["name"]);
  // Printable Unicode is still fine.
  p.name = "Büro – étage 2 😀";
  assert.ok(validatePolicy(p).ok);
});
