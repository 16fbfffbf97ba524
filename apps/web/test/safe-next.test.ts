// `next` after sign-in: only a path on this origin, whatever encoding tries to leave it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { safeNext } from "../src/lib/safe-next.ts";

const ORIGIN = "http://sluice.lan:3000";
/** What the login page reads: the query string decoded by URLSearchParams, as in the browser. */
const fromQuery = (raw: string) => new URLSearchParams(`next=${raw}`).get("next");

test("next: paths on this site are kept (with their query and hash)", () => {
  assert.equal(safeNext(fromQuery("%2Frules"), ORIGIN), "/rules");
  assert.equal(safeNext(fromQuery("/apply?x=1#diff"), ORIGIN), "/apply?x=1#diff");
  assert.equal(safeNext(fromQuery("/flows/a%20b"), ORIGIN), "/flows/a%20b");
  assert.equal(safeNext(null, ORIGIN), "/");
  assert.equal(safeNext("", ORIGIN), "/");
});

test("next: every way out of the origin lands on /", () => {
  for (const raw of [
    "/%09/evil.example/path",
    "/%0a/evil.example/path",
    "/%0d/evil.example/path",
    "/%0d%0a/evil.example",
    "//evil.example",
    "//evil.example/path",
    "/\\evil.example",
    "%2F%5Cevil.example",
    "/%5C/evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "%20javascript:alert(1)",
    "https://evil.example/",
    "http://sluice.lan:3000.evil.example/",
    "/%00//evil.example",
    "/\u2028/evil.example",
  ]) {
    const next = fromQuery(raw);
    const got = safeNext(next, ORIGIN);
    assert.ok(got.startsWith("/") && !got.startsWith("//"), `${raw} → ${got}`);
    // what the browser would do with it: stay on the origin
    assert.equal(new URL(got, ORIGIN).origin, ORIGIN, `${raw} → ${got} leaves the origin`);
  }
  // the findings of the report, exactly
  assert.equal(safeNext(fromQuery("/%09/host/path"), ORIGIN), "/");
  assert.equal(safeNext(fromQuery("/%0a/host/path"), ORIGIN), "/");
  assert.equal(safeNext(fromQuery("/%0d/host/path"), ORIGIN), "/");
  assert.equal(safeNext(fromQuery("//host"), ORIGIN), "/");
  assert.equal(safeNext(fromQuery("/\\host"), ORIGIN), "/");
  assert.equal(safeNext(fromQuery("javascript:alert(1)"), ORIGIN), "/");
});
