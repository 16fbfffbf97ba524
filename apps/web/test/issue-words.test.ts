// Validation issues read in the page's words, not the validator's paths.

import { test } from "node:test";
import assert from "node:assert/strict";
import { issueLabel, issueLine, issueMessage } from "../src/lib/issue-words.ts";

const ctx = { classes: { upload: [{ name: "web" }, { name: "p2p" }], download: [{ name: "" }] } };

test("paths become what the page calls the field; rules are numbered as on the Rules page", () => {
  assert.equal(issueLabel("classes.upload[1].rate", ctx), 'upload class "p2p", rate');
  assert.equal(issueLabel("classes.download[0].name", ctx), "download class in row 1, name");
  assert.equal(issueLabel("rules[13].class"), "rule #14, class");
  assert.equal(issueLabel("interfaces.wan.rate"), "upload rate (WAN)");
  assert.equal(issueLabel("marks.appMask"), "mark layout (application field)");
});

test("references inside messages and zod's terse phrases are rewritten", () => {
  assert.equal(
    issueMessage('"ssh" is already mapped by rules[13]; this rule would never apply'),
    '"ssh" is already mapped by rule #14; this rule would never apply',
  );
  assert.equal(
    issueMessage('duplicate class name "web" (also classes.upload[0])'),
    'duplicate class name "web" (also the upload class in row 1)',
  );
  assert.equal(issueMessage("Too small: expected string to have >=1 characters"), "required");
  assert.equal(
    issueMessage("Too big: expected string to have <=65536 characters"),
    "at most 65536 characters",
  );
  assert.equal(
    issueLine({ path: "classes.upload[1].ceil", message: "ceil 900Mbit is above the link rate 20Mbit" }, ctx),
    'upload class "p2p", ceil: ceil 900Mbit is above the link rate 20Mbit',
  );
  assert.doesNotMatch(issueLine({ path: "rules[2].protocol", message: "x" }), /rules\[/);
});
