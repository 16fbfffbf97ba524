import { test } from "node:test";
import assert from "node:assert/strict";
import { IdBytes } from "../src/stats/id-bytes.ts";

test("IdBytes keeps every id's count, grows past its size, and tells a missing id", () => {
  let m = new IdBytes(4);
  const ids = [
    0,
    1,
    0xffffffff,
    0x80000000,
    ...Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 0),
  ];
  for (const [i, id] of ids.entries()) m = m.set(id, i * 1.5 + 2 ** 40);
  assert.equal(m.size, new Set(ids).size);
  for (const [i, id] of ids.entries())
    if (ids.indexOf(id) === i && ids.lastIndexOf(id) === i) assert.equal(m.get(id), i * 1.5 + 2 ** 40);
  m = m.set(1, 7);
  assert.equal(m.get(1), 7);
  assert.equal(m.size, new Set(ids).size);
  assert.equal(m.get(12345), undefined);
  assert.equal(new IdBytes().get(0), undefined);
});
