// Runs the fake agent on its own (dashboard development, the benchmark):
//   node packages/api/src/testing/fake-agent-cli.ts [socket]
import { defaultPolicy } from "@sluice/policy";
import { FakeAgent } from "./fake-agent.ts";

const socket = process.argv[2] ?? process.env.SLUICE_SOCKET ?? "/tmp/sluice-fake/agent.sock";
const agent = await FakeAgent.start({ socket, initialPolicy: defaultPolicy() });
console.log(`fake agent listening on ${agent.socket}`);
const stop = () => void agent.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
