// The lab's command line, `sluice-lab` (apps/lab/bin/sluice-lab, `npm run lab --`):
//   sluice-lab up [--no-traffic] [--rate MBIT] [--greedy] | traffic | down | status [--json]

import { CommanderError } from "commander";
import { labCommand } from "./index.ts";

try {
  await labCommand().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  process.stderr.write(`sluice-lab: ${(e as Error).message}\n`);
  process.exit(1);
}
