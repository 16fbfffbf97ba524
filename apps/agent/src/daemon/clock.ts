// The agent's clock, injectable: schedules and quota periods switch at instants the clock
// says, so tests move a fake clock past 08:00 instead of sleeping until then.

export interface Clock {
  now(): number;
  /** Calls fn after ms (of this clock); returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** Timers longer than this are re-armed in steps (setTimeout's limit is ~24.8 days). */
const MAX_TIMER_MS = 3600_000;

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/** A clock that moves only when told (tests): advance() fires the timers that fall due. */
export class ManualClock implements Clock {
  private t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(start: number) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const id = ++this.seq;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }
  /** Moves the clock to `to` (epoch ms), firing due timers in time order. */
  set(to: number): void {
    for (;;) {
      const due = this.timers.filter((x) => x.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = to;
  }
  /** Timers waiting (for tests that check something is armed). */
  get pending(): number {
    return this.timers.length;
  }
}
