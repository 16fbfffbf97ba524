// A data-plane worker loads the classifier and compiles the pattern set before it binds its
// queue: on a small box at boot (the appliance under emulation: most of a minute) that work
// competes with the dashboard's own start-up, while traffic passes unclassified anyway until
// the queue is bound. So a worker loads at a lower priority (this thread only: Linux's
// setpriority() on a thread id) and takes its priority back before it binds. Only as root:
// taking a priority back needs CAP_SYS_NICE.

import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The nice value a worker loads at. */
export const LOADING_NICE = 10;

let saved: { tid: number; nice: number } | null = null;

/** This thread's kernel id (/proc/thread-self is "PID/task/TID"), or null. */
function threadId(): number | null {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** Lowers this thread's priority for the loading (a no-op where it could not be restored). */
export function lowerWhileLoading(): void {
  const tid = process.getuid?.() === 0 ? threadId() : null;
  if (tid === null) return;
  try {
    const nice = getPriority(tid);
    if (nice >= LOADING_NICE) return;
    setPriority(tid, LOADING_NICE);
    saved = { tid, nice };
  } catch {
    saved = null;
  }
}

/** Gives this thread its priority back (before it serves its queue). */
export function restoreAfterLoading(): void {
  if (!saved) return;
  try {
    setPriority(saved.tid, saved.nice);
  } catch {
    // stays lower: the data plane still works, a little later under load
  }
  saved = null;
}

/** This thread's nice value (tests), or null. */
export function threadNice(): number | null {
  const tid = threadId();
  return tid === null ? null : getPriority(tid);
}
