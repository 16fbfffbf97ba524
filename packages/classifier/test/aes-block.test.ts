import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, randomBytes } from "node:crypto";
import { aes128EncryptBlock, aes128KeySchedule } from "../src/dissect/aes-block.ts";

const encrypt = (key: Buffer, block: Uint8Array, at = 0) => {
  const out = Buffer.alloc(16);
  aes128EncryptBlock(aes128KeySchedule(key), block, at, out);
  return out;
};

test("AES-128: the FIPS-197 appendix C.1 vector", () => {
  const key = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
  const plain = Buffer.from("00112233445566778899aabbccddeeff", "hex");
  assert.equal(encrypt(key, plain).toString("hex"), "69c4e0d86a7b0430d8cdb78070b4c55a");
});

test("AES-128: the RFC 9001 appendix A.2 header protection mask", () => {
  const hp = Buffer.from("9f50449e04a0e810283a1e9933adedd2", "hex");
  const sample = Buffer.from("d1b1c98dd7689fb8ec11d242b123dc9b", "hex");
  assert.equal(encrypt(hp, sample).subarray(0, 5).toString("hex"), "437b9aec36");
});

test("AES-128: the same block as node:crypto's AES-128-ECB for random keys and blocks", () => {
  for (let i = 0; i < 2000; i++) {
    const key = randomBytes(16);
    const buf = randomBytes(40);
    const at = i % 24;
    const ecb = createCipheriv("aes-128-ecb", key, null);
    ecb.setAutoPadding(false);
    assert.deepEqual(encrypt(key, buf, at), ecb.update(buf.subarray(at, at + 16)));
  }
});

test("AES-128: a key of another length is refused", () => {
  assert.throws(() => aes128KeySchedule(Buffer.alloc(15)), RangeError);
});
