// The live half of Sluice's own RTSP expectation table (render/rtsp-media.ts): the data
// plane reports the media tuples of an RTSP SETUP reply, and this adds them to the kernel's
// maps through the Executor (`nft -f -`, argv and stdin). Bounded: a book of what it added
// and when each lapses, a cap per family (MEDIA_MAX_ELEMENTS), one `nft` run at a time
// (requests that arrive meanwhile go in the next run). Without the maps (no nftables, no
// rtsp/rtp marks, no policy yet) every request is refused at once and counted.

import type { Executor } from "../kernel/executor.ts";
import {
  MEDIA_MAX_ELEMENTS,
  MEDIA_TIMEOUT_SECONDS,
  mediaKey,
  renderMediaElements,
  type MediaElement,
} from "../render/rtsp-media.ts";

export interface MediaExpectationStats {
  /** Elements the kernel took (added or refreshed). */
  added: number;
  /** Elements refused: bad input, the cap reached, or no maps in this policy. */
  refused: number;
  /** `nft` runs that failed (their elements are lost; the media is classified on its own). */
  failed: number;
  /** Elements believed live now. */
  live: number;
}

export interface MediaExpectationOptions {
  timeoutSeconds?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
  onError?: (msg: string) => void;
}

export class MediaExpectations {
  private readonly book = new Map<string, { element: MediaElement; until: number }>();
  private queue: { elements: MediaElement[]; done: () => void }[] = [];
  private running = false;
  private readonly counts = { added: 0, refused: 0, failed: 0 };
  /** Whether the installed policy has the maps (set by the agent on every apply). */
  enabled = false;

  private readonly exec: Executor;
  private readonly opts: MediaExpectationOptions;

  constructor(exec: Executor, opts: MediaExpectationOptions = {}) {
    this.exec = exec;
    this.opts = opts;
  }

  stats(): MediaExpectationStats {
    this.prune();
    return { ...this.counts, live: this.book.size };
  }

  /**
   * The table was replaced (an apply, a revert): its elements are gone. The live ones go
   * back in with the time they had left, when the new policy has the maps too.
   */
  tableReplaced(enabled: boolean): Promise<void> {
    this.enabled = enabled;
    this.prune();
    const t = this.now();
    const live = [...this.book.values()].map((b) => ({
      ...b.element,
      timeoutSeconds: Math.max(1, Math.ceil(b.until - t)),
    }));
    this.book.clear();
    if (!enabled || !live.length) return Promise.resolve();
    return new Promise((done) => {
      this.queue.push({ elements: live, done });
      void this.drain();
    });
  }

  /**
   * Adds the elements (resolves once the kernel has them, or they were refused or failed:
   * the caller releases the SETUP reply it held either way).
   */
  expect(elements: readonly MediaElement[]): Promise<void> {
    const ok: MediaElement[] = [];
    for (const e of elements) {
      try {
        renderMediaElements([e]); // validates address, port, mark
        ok.push(e);
      } catch (err) {
        this.counts.refused++;
        this.opts.onError?.(`RTSP media expectation refused: ${(err as Error).message}`);
      }
    }
    if (!this.enabled || !ok.length) {
      if (!this.enabled) this.counts.refused += ok.length;
      return Promise.resolve();
    }
    return new Promise((done) => {
      this.queue.push({ elements: ok, done });
      void this.drain();
    });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)() / 1000;
  }

  private prune(): void {
    const t = this.now();
    for (const [k, v] of this.book) if (v.until <= t) this.book.delete(k);
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        await this.install(batch.flatMap((b) => b.elements));
        for (const b of batch) b.done();
      }
    } finally {
      this.running = false;
    }
  }

  private async install(all: MediaElement[]): Promise<void> {
    this.prune();
    const timeout = this.opts.timeoutSeconds ?? MEDIA_TIMEOUT_SECONDS;
    // The last request for a tuple wins; past the cap, new tuples are refused (a refresh of
    // a live one is not a new one).
    const byKey = new Map<string, { e: MediaElement; family: 4 | 6 }>();
    for (const e of all) {
      const { family, key } = mediaKey(e.tuple);
      byKey.set(`${family} ${key}`, { e, family });
    }
    const live = { 4: 0, 6: 0 };
    for (const k of this.book.keys()) live[k.startsWith("4 ") ? 4 : 6]++;
    const take: [string, MediaElement][] = [];
    for (const [k, { e, family }] of byKey) {
      if (!this.book.has(k) && live[family] >= MEDIA_MAX_ELEMENTS) {
        this.counts.refused++;
        continue;
      }
      if (!this.book.has(k)) live[family]++;
      take.push([k, e]);
    }
    if (!take.length) return;
    const els = take.map(([, e]) => e);
    let r = await this.exec.run(["nft", "-f", "-"], { input: renderMediaElements(els, timeout) });
    if (r.code !== 0) {
      // An element already there with another mark (its control connection's app changed,
      // or the book was lost in a restart): replace it instead.
      r = await this.exec.run(["nft", "-f", "-"], { input: renderMediaElements(els, timeout, "replace") });
    }
    if (r.code !== 0) {
      this.counts.failed++;
      this.opts.onError?.(`RTSP media expectations not added: ${r.stderr.trim() || `nft exited ${r.code}`}`);
      return;
    }
    const t = this.now();
    for (const [k, e] of take) this.book.set(k, { element: e, until: t + (e.timeoutSeconds ?? timeout) });
    this.counts.added += take.length;
  }
}
