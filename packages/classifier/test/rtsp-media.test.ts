// The live agent's RTSP media tuples: what a SETUP reply announces, and what it refuses.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rtspReplyMedia } from "../src/index.ts";

const reply = (transport: string, status = "RTSP/1.0 200 OK") =>
  `${status}\r\nCSeq: 3\r\nSession: 12345678;timeout=60\r\nTransport: ${transport}\r\n\r\n`;

test("a SETUP reply names RTP and RTCP on both ends", () => {
  const t = rtspReplyMedia(
    reply("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C4D"),
    "192.168.50.10",
    "203.0.113.5",
  );
  assert.deepEqual(t, [
    { client: "192.168.50.10", clientPort: 5000, server: "203.0.113.5", serverPort: 6970 },
    { client: "192.168.50.10", clientPort: 5001, server: "203.0.113.5", serverPort: 6971 },
  ]);
});

test("IPv6, RTSP 2.0, a single port, and source= of the same family", () => {
  const t = rtspReplyMedia(
    reply("RTP/AVP/UDP;unicast;client_port=40000;server_port=50000;source=2001:db8::99", "RTSP/2.0 200 OK"),
    "fd00::10",
    "2001:db8::5",
  );
  assert.deepEqual(t, [{ client: "fd00::10", clientPort: 40000, server: "2001:db8::99", serverPort: 50000 }]);
  // source= of the other family is ignored: the control connection's server stays.
  const u = rtspReplyMedia(
    reply("RTP/AVP;unicast;client_port=4000-4001;server_port=5000-5001;source=10.0.0.1"),
    "fd00::10",
    "2001:db8::5",
  );
  assert.equal(u[0]!.server, "2001:db8::5");
});

test("requests, interleaved, multicast and incomplete transports announce nothing", () => {
  const c = "192.168.50.10";
  const s = "203.0.113.5";
  // the client's SETUP request: no status line
  assert.deepEqual(
    rtspReplyMedia(
      "SETUP rtsp://x/a RTSP/1.0\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n",
      c,
      s,
    ),
    [],
  );
  assert.deepEqual(rtspReplyMedia(reply("RTP/AVP/TCP;unicast;interleaved=0-1"), c, s), []);
  assert.deepEqual(
    rtspReplyMedia(reply("RTP/AVP;multicast;client_port=5000-5001;server_port=6970-6971"), c, s),
    [],
  );
  assert.deepEqual(rtspReplyMedia(reply("RTP/AVP;unicast;client_port=5000-5001"), c, s), []);
  assert.deepEqual(
    rtspReplyMedia("HTTP/1.1 200 OK\r\nTransport: RTP/AVP;client_port=1;server_port=2\r\n\r\n", c, s),
    [],
  );
});

test("bad ports and addresses are refused", () => {
  const c = "192.168.50.10";
  const s = "203.0.113.5";
  for (const bad of [
    "client_port=0-1;server_port=6970-6971",
    "client_port=65535-65536;server_port=6970-6971",
    "client_port=5001-5000;server_port=6970-6971",
    "client_port=99999;server_port=6970",
    "client_port=5000-5001;server_port=69 70",
    "client_port=5000;server_port=-1",
    'client_port=5000";server_port=6970',
  ])
    assert.deepEqual(rtspReplyMedia(reply(`RTP/AVP;unicast;${bad}`), c, s), [], bad);
  // addresses: not an address, or families that differ
  assert.deepEqual(rtspReplyMedia(reply("RTP/AVP;client_port=5000;server_port=6970"), "x; drop", s), []);
  assert.deepEqual(rtspReplyMedia(reply("RTP/AVP;client_port=5000;server_port=6970"), c, "2001:db8::5"), []);
  // a range wider than RTP+RTCP is cut to its first two ports
  assert.equal(rtspReplyMedia(reply("RTP/AVP;client_port=5000-5009;server_port=6970-6979"), c, s).length, 2);
});
