// The data directory may be mounted after the dashboard has started: on the appliance the
// dashboard's start-up (Next's module loading) runs while the data disk is still being found
// and checked, and only the database has to wait. SLUICE_DATA_READY names a file that
// appears once SLUICE_DATA is in place (the appliance's sluice-storage writes it last);
// unset, nothing waits.

import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const POLL_MS = 100;
const SAY_EVERY_MS = 30_000;

/** Resolves once the file named by SLUICE_DATA_READY exists (at once when it is unset). */
export async function dataReady(
  env: NodeJS.ProcessEnv = process.env,
  say: (line: string) => void = (line) => console.log(line),
): Promise<void> {
  const file = env.SLUICE_DATA_READY;
  if (!file) return;
  const start = Date.now();
  let said = start;
  while (!existsSync(file)) {
    if (Date.now() - said >= SAY_EVERY_MS) {
      said = Date.now();
      say(
        `[sluice-web] still waiting for the data directory (${file}) after ${Math.round((said - start) / 1000)} s`,
      );
    }
    await sleep(POLL_MS);
  }
}
