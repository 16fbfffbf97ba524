// Entry point of the `sluice` command line. Exit codes: 0 ok, 1 the work failed (a bad
// capture, a refused policy, an unreachable agent), 2 usage errors.

import { Command, CommanderError } from "commander";
import { classifyCommand } from "./classify-command.ts";

const program = new Command("sluice")
  .description("Sluice: layer-7 QoS appliance — classifier, agent and control CLI")
  .option("--socket <path>", "the agent's control socket (default /run/sluice/agent.sock or $SLUICE_SOCKET)")
  .showHelpAfterError()
  .addCommand(classifyCommand());
// `sluice classify` (long runs over big captures) does not load the agent's client: less
// resident memory and a faster start. The test lab is not here: it is `sluice-lab` (apps/lab).
if (process.argv[2] !== "classify") {
  const { controlCommands } = await import("./control-commands.ts");
  for (const c of controlCommands()) program.addCommand(c);
}

for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)])
  cmd.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  process.stderr.write(`sluice: ${(e as Error).message}\n`);
  process.exit(1);
}
