// What `lab up` hands each server/generator process (as one JSON argument).

export interface PaceConfig {
  /** Per BitTorrent connection, server → client, bits/s (0 = unpaced: TCP decides). */
  btBps: number;
  /** Per `/bulk` HTTP download, bits/s. */
  bulkBps: number;
  /** Per rsync-like transfer (either direction), bits/s. */
  rsyncBps: number;
}

export interface ProcConfig {
  stateDir: string;
  pace: PaceConfig;
}

const MBIT = 1_000_000;

/**
 * Default pacing: a modest total, about 5 Mbit/s on average (BitTorrent 2 × 1, bulk HTTP
 * ~1.5, rsync ~1, web + video ~1). Paced flows are still TCP: a class narrower than
 * their pace is saturated, and shaping shows.
 */
export const DEFAULT_PACE: PaceConfig = { btBps: 1 * MBIT, bulkBps: 8 * MBIT, rsyncBps: 4 * MBIT };

/** Greedy: the bulk flows run as fast as TCP (and the box's shaping) allows. */
export const GREEDY_PACE: PaceConfig = { btBps: 0, bulkBps: 0, rsyncBps: 0 };
