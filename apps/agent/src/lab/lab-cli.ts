// Stand-alone `lab` command (until it is wired into `sluice`):
//   node apps/agent/src/lab/lab-cli.ts up [--no-traffic] [--rate MBIT] [--greedy] | down | status [--json]

import { CommanderError } from "commander";
import { labCommand } from "./index.ts";

try {
  await labCommand().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  process.stderr.write(`lab: ${(e as Error).message}\n`);
  process.exit(1);
}
