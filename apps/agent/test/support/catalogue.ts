// The pattern-set catalogue the applier tests use (fake kernel and real kernel alike): the
// protocols the default policy names, marked 3, 4, … in rule order.

import { defaultPolicyProtocols } from "@sluice/policy";
import type { ProtocolCatalogue } from "../../src/apply/applier.ts";

const names = defaultPolicyProtocols();

export const TEST_CATALOGUE: ProtocolCatalogue = {
  marks: new Map(names.map((p, i) => [p, i + 3])),
  names: new Set(names),
};
