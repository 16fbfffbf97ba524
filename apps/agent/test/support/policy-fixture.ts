// The policy fixture of the applier tests (fake kernel and real kernel alike): the
// pattern-set catalogue (the protocols the default policy names, marked 3, 4, … in rule
// order) and the default policy with another upload rate for "web".

import { defaultPolicy, defaultPolicyProtocols, type PolicyInput } from "@sluice/policy";
import type { ProtocolCatalogue } from "../../src/apply/applier.ts";

const names = defaultPolicyProtocols();

export const TEST_CATALOGUE: ProtocolCatalogue = {
  marks: new Map(names.map((p, i) => [p, i + 3])),
  names: new Set(names),
};

/** The default policy with the upload "web" class at `rateWeb` (a change the diff shows). */
export function withUpload(rateWeb: string): PolicyInput {
  const p = defaultPolicy();
  (p.classes.upload[1] as { rate: string }).rate = rateWeb;
  return p;
}
