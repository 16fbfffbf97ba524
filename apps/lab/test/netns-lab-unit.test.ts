// The netns lab's own rule text and conntrack parser (no root needed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConntrack, sluiceMangleRules } from "../src/netns-lab.ts";

test("sluiceMangleRules produces the documented layout", () => {
  const text = sluiceMangleRules({
    firstQueue: 0,
    lastQueue: 1,
    mask: 0xff00,
    unset: 0x100,
    windowPackets: 10,
  });
  assert.match(text, /^\*mangle\n/);
  assert.match(text, /-A SLUICE_PRE -j CONNMARK --restore-mark --nfmask 0xff00 --ctmask 0xff00/);
  assert.match(
    text,
    /-A SLUICE_PRE -m mark --mark 0x100\/0xff00 -m connbytes --connbytes 0:10 --connbytes-dir both --connbytes-mode packets -j NFQUEUE --queue-balance 0:1 --queue-bypass/,
  );
  assert.match(text, /-A SLUICE_POST -m mark ! --mark 0x0\/0xff00 -j CONNMARK --save-mark/);
  assert.match(text, /COMMIT\n$/);
  assert.match(
    sluiceMangleRules({ firstQueue: 4, lastQueue: 4, mask: 0xff, unset: 1, windowPackets: 10 }),
    /--queue-num 4 --queue-bypass/,
  );
});

test("parseConntrack reads the original tuple, mark and packets", () => {
  const text = [
    "tcp      6 119 TIME_WAIT src=10.199.1.2 dst=10.199.2.2 sport=40108 dport=7000 packets=13 bytes=692 src=10.199.2.2 dst=10.199.1.2 sport=7000 dport=40108 packets=11 bytes=620 [ASSURED] mark=512 use=1",
    "udp      17 29 src=fd99:20::2 dst=fd99:21::2 sport=5000 dport=7001 src=fd99:21::2 dst=fd99:20::2 sport=7001 dport=5000 mark=1280 use=1",
    "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.",
  ].join("\n");
  const e = parseConntrack(text);
  assert.equal(e.length, 2);
  assert.deepEqual(
    e.map((x) => [x.l4, x.src, x.sport, x.dport, x.mark, x.packets]),
    [
      ["tcp", "10.199.1.2", 40108, 7000, 512, 13],
      ["udp", "fd99:20::2", 5000, 7001, 1280, null],
    ],
  );
});
