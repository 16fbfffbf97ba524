import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { hmacKey, hmacSha256 } from "../src/dissect/hmac-sha256.ts";

test("HMAC-SHA-256 from a hashed key equals node:crypto's, at every block boundary", () => {
  // RFC 4231 test case 2.
  const rfc = hmacSha256(hmacKey(Buffer.from("Jefe")), Buffer.from("what do ya want for nothing?"));
  assert.equal(rfc.toString("hex"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const lengths = [0, 1, 20, 31, 32, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200];
  for (const keyLength of [0, 1, 16, 20, 32, 63, 64, 65, 131]) {
    const raw = randomBytes(keyLength);
    const key = hmacKey(raw);
    for (const n of lengths) {
      const data = randomBytes(n);
      const want = createHmac("sha256", raw).update(data).digest("hex");
      assert.equal(hmacSha256(key, data).toString("hex"), want, `key ${keyLength} B, data ${n} B`);
      // The key's states are not changed by a call.
      assert.equal(hmacSha256(key, data).toString("hex"), want);
    }
  }
});
