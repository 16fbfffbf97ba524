// The data-plane tests' rules are the agent's own rendering (no root needed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { renderedRules } from "../src/rendered-rules.ts";

test("renderedRules: the agent's mangle layout for the router's queues and window", () => {
  const two = renderedRules({ queues: 2, packets: 10, protocolMarks: new Map([["hello", 3]]) });
  for (const text of [two.v4, two.v6]) {
    assert.match(text, /^\*mangle$/m);
    assert.match(text, /^-I FORWARD 1 -m mark --mark 0x0\/0xfe00 -j SLUICE_FWD$/m);
    assert.match(text, /^-I FORWARD 2 -p udp -m udp --sport 53 -j SLUICE_FWD$/m);
    assert.match(
      text,
      /^-A SLUICE_FWD -m connbytes --connbytes 0:10 --connbytes-mode packets --connbytes-dir both -j NFQUEUE --queue-balance 0:1 --queue-bypass/m,
    );
    assert.match(text, /COMMIT\n$/);
  }
  const one = renderedRules({ queues: 1, queueBase: 4, packets: 6 }).v4;
  assert.match(one, /--connbytes 0:6 .* -j NFQUEUE --queue-num 4 --queue-bypass/);
  assert.doesNotMatch(one, /--queue-balance/);
});
