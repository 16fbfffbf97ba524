import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FlowSubject } from "../src/flow/subject.ts";
import { stripNul } from "../src/index.ts";

test("a flow's subject is its chunks' bytes, NULs dropped, as latin1 characters in UTF-8, up to the limit", () => {
  // Bytes drawn from NUL, ASCII and high values alike (binary payloads such as QUIC's).
  const byte = fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xff }),
  );
  const chunk = fc.array(byte, { maxLength: 300 }).map((a) => Buffer.from(a));
  fc.assert(
    fc.property(fc.array(chunk, { maxLength: 6 }), fc.integer({ min: 1, max: 1200 }), (chunks, limit) => {
      const s = new FlowSubject();
      for (const c of chunks) {
        s.append(c, limit);
        s.persist();
      }
      const want = stripNul(Buffer.concat(chunks)).slice(0, limit);
      assert.equal(s.chars, want.length);
      assert.deepEqual(s.view(), Buffer.from(want, "utf8"));
      s.clear();
    }),
    { numRuns: 500 },
  );
});
