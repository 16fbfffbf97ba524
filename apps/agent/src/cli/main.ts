// Entry point of the `sluice` command line. Exit codes: 0 ok, 1 the work failed (a bad
// capture, a refused policy), 2 usage errors.

import { Command, CommanderError } from "commander";
import { classifyCommand } from "./classify-command.ts";

const program = new Command("sluice")
  .description("Sluice: layer-7 QoS appliance — classifier, agent and control CLI")
  .showHelpAfterError()
  .addCommand(classifyCommand());

for (const cmd of [program, ...program.commands]) cmd.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  process.stderr.write(`sluice: ${(e as Error).message}\n`);
  process.exit(1);
}
