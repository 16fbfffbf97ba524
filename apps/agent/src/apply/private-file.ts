// The agent's data files (history.json holds every policy and the names of the users who
// applied them) are readable by root only: written 0600 to a temp file and renamed over the
// old one, so a crash never leaves half a file and no reader ever sees a wider mode.

import { chmodSync, existsSync, renameSync, statSync, writeFileSync } from "node:fs";

export const PRIVATE_MODE = 0o600;

export function writePrivateFile(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode: PRIVATE_MODE });
  chmodSync(tmp, PRIVATE_MODE); // a temp file left by a crash keeps its old mode otherwise
  renameSync(tmp, file);
}

/**
 * Narrows the mode of a data file written by an older agent. On a read-only data directory
 * that cannot be done and is left as it is: the agent must still start and restore the
 * last good policy.
 */
export function makePrivate(file: string): void {
  if (!existsSync(file) || (statSync(file).mode & 0o777) === PRIVATE_MODE) return;
  try {
    chmodSync(file, PRIVATE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EROFS") throw e;
  }
}
