// Entry point of the `sluice` command line.

import { Command } from "commander";
import { classifyCommand } from "./classify-command.ts";

const program = new Command("sluice")
  .description("Sluice: layer-7 QoS appliance — classifier, agent and control CLI")
  .showHelpAfterError()
  .addCommand(classifyCommand());

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`sluice: ${(e as Error).message}\n`);
  process.exit(2);
}
