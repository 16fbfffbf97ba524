import { test } from "node:test";
import assert from "node:assert/strict";
import { ARENA_MAX_BLOCK, FlowTable, SubjectArena, compilePatterns, subjectArena } from "../src/index.ts";
import { udpSender } from "./helpers/udp-sender.ts";

test("the subject arena reuses blocks, gives empty slabs back and keeps blocks apart", () => {
  const arena = new SubjectArena();
  assert.equal(SubjectArena.blockSize(1), 32);
  assert.equal(SubjectArena.blockSize(33), 48);
  assert.equal(SubjectArena.blockSize(ARENA_MAX_BLOCK), ARENA_MAX_BLOCK);
  assert.equal(SubjectArena.blockSize(ARENA_MAX_BLOCK + 1), 0);
  // Three slabs' worth of 96-byte blocks, each filled with its own byte.
  const blocks = Array.from({ length: 3 * Math.floor(65536 / 96) }, (_, i) => {
    const b = arena.alloc(96);
    arena.view(b, 96).fill(i & 0xff);
    return b;
  });
  assert.equal(new Set(blocks).size, blocks.length);
  assert.equal(arena.slabBytes, 3 * 65536);
  for (const [i, b] of blocks.entries()) assert.ok(arena.view(b, 96).every((x) => x === (i & 0xff)));
  for (const b of blocks) arena.release(b);
  assert.equal(arena.inUse, 0);
  assert.equal(arena.slabBytes, 65536, "one slab of the size is kept for the next block");
  const again = arena.alloc(96);
  assert.equal(arena.slabBytes, 65536);
  arena.release(again);
});

test("flows give their subject storage back: decided, evicted, or drained", () => {
  const set = compilePatterns([{ file: "hello.pat", text: "hello\n^hello world\n" }]);
  const before = subjectArena.inUse;
  const table = new FlowTable(set, { maxFlows: 50 });
  const send = udpSender(table);
  // 200 flows of two datagrams each (storage held), 50 at most in the table (evictions).
  for (let p = 1000; p < 1200; p++) {
    send(p, "hel");
    send(p, "lo there, no match yet");
  }
  assert.ok(subjectArena.inUse - before <= 50, `${subjectArena.inUse - before} blocks held for 50 flows`);
  assert.equal(send(2000, "hello world").flow.protocol, "hello");
  table.drain();
  assert.equal(subjectArena.inUse, before);
});

test("interleaved flows keep their own subjects, also past the arena's largest block", () => {
  const set = compilePatterns([{ file: "ends.pat", text: "ends\n^start.*finish\n" }]);
  const before = subjectArena.inUse;
  const table = new FlowTable(set, { window: { packets: 10, bytes: 6000 } });
  const send = udpSender(table);
  const filler = "x".repeat(1400);
  // Flow 1 starts with "start", flow 2 does not; their packets alternate. After four
  // packets flow 1's subject (5,600 bytes) is past the arena's blocks: a Buffer of its own.
  assert.ok(4 * filler.length > ARENA_MAX_BLOCK);
  assert.equal(send(1, `start${filler}`).decided, false);
  assert.equal(send(2, `other${filler}`).decided, false);
  for (let i = 0; i < 3; i++) {
    assert.equal(send(1, filler).decided, false);
    assert.equal(send(2, filler).decided, false);
  }
  const one = send(1, "finish");
  assert.equal(one.decided, true);
  assert.equal(one.flow.protocol, "ends");
  const two = send(2, "finish");
  assert.equal(two.decided, false, "flow 2's subject never had flow 1's start");
  assert.equal(two.flow.inspectedBytes, 5 + 4 * filler.length + 6);
  table.drain();
  assert.equal(subjectArena.inUse, before);
});
