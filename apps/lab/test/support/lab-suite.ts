// What every lab test file does around its tests: skip unless root, bring the lab up with
// a real agent in its box before the tests and everything down after, build a policy over
// the lab's link, apply it, and fetch from the lab server with curl in the LAN namespace.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import type { PolicyInput } from "@sluice/policy";
import { LAB, labUp, labDown, execInNs, type LabAgent, type LabUpOptions } from "../../src/index.ts";

export const root = process.getuid?.() === 0;
/** Test options: skipped, with the reason, unless the test runs as root. */
export const rootOnly = { skip: root ? false : "needs root (network namespaces)" };

interface Hooks {
  /** How the lab comes up (default: no background traffic, bulk flows unpaced). */
  lab?: LabUpOptions;
  /** After the agent is up (servers the file needs…). */
  setUp?: () => Promise<void> | void;
  /** Before the agent stops and the lab goes down (stop what setUp started…). */
  tearDown?: () => Promise<void> | void;
}

/** Registers the file's before/after: the lab up with `agent` in its box, then down. */
export function labWithAgent(agent: LabAgent, hooks: Hooks = {}): void {
  before(async () => {
    if (!root) return;
    await labUp(hooks.lab ?? { traffic: false, greedy: true });
    await agent.start();
    await hooks.setUp?.();
  });
  after(async () => {
    if (!root) return;
    await hooks.tearDown?.();
    await agent.kill("SIGTERM");
    await labDown();
  });
}

type ClassTree = NonNullable<PolicyInput["classes"]["upload"]>;

/** A policy on the lab's link (`rate` both ways) with the same class tree up and down. */
export function labPolicy(
  name: string,
  tree: ClassTree,
  rules: PolicyInput["rules"],
  more: Partial<PolicyInput> = {},
  rate = "40mbit",
): PolicyInput {
  return {
    version: 1,
    name,
    interfaces: { wan: { device: "wan0", rate }, lan: { device: "lan0", rate } },
    classes: { upload: tree, download: tree },
    rules,
    ...more,
  };
}

/** Applies `policy` through the agent's API and checks that it is in place. */
export async function applyPolicy(agent: LabAgent, policy: PolicyInput): Promise<{ id: number }> {
  const r = await agent.client.call<{ entry: { id: number; status: string } }>("POST", "/v1/apply", {
    policy,
    user: "test",
  });
  assert.equal(r.entry.status, "applied");
  return r.entry;
}

interface CurlOptions {
  /** The LAN client's address to send from (default: the namespace's choice). */
  from?: string;
  maxTime?: number;
  /** curl's -w format (default: the HTTP status). */
  write?: string;
  /** More curl arguments before the URL (-k, --resolve…). */
  extra?: string[];
}

/** Fetches `url` with curl in the LAN namespace, the body discarded; its -w output in stdout. */
export function curlFromLan(url: string, o: CurlOptions = {}) {
  return execInNs(
    LAB.ns.lan,
    [
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      o.write ?? "%{http_code}",
      ...(o.from ? ["--interface", o.from] : []),
      "--max-time",
      String(o.maxTime ?? 20),
      ...(o.extra ?? []),
      url,
    ],
    // curl's own limit ends it; the executor's is a backstop
    { allowFail: true, timeoutMs: ((o.maxTime ?? 20) + 10) * 1000 },
  );
}
