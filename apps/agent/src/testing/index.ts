// @sluice/agent/testing: the real agent on an in-memory kernel, for the dashboard's tests,
// its e2e run and its benchmark (never shipped: deploy/iso leaves src/testing out).
export { TestAgent, REPO_PROTOCOLS, type TestAgentOptions } from "./test-agent.ts";
export { FakeKernel, type FakeKernelOptions } from "./fake-kernel.ts";
