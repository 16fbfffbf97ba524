// How applies, tries, confirms and rollbacks ended, counted since the agent started (the
// history is bounded, so counting its entries would go backwards): a Prometheus counter.

export type ApplyOperation = "apply" | "try" | "confirm" | "rollback" | "revert" | "boot";
/** ok; refused: invalid, the box untouched; failed: the box was touched and put back. */
export type ApplyOutcome = "ok" | "refused" | "failed";

export interface ApplyOutcomeCount {
  operation: ApplyOperation;
  outcome: ApplyOutcome;
  count: number;
}

export class ApplyOutcomes {
  private readonly counts = new Map<string, ApplyOutcomeCount>();
  /** When the last apply, try or rollback ended (ms), whatever its outcome. */
  lastAt: number | null = null;

  record(operation: ApplyOperation, outcome: ApplyOutcome, at = Date.now()): void {
    const key = `${operation} ${outcome}`;
    const c = this.counts.get(key) ?? { operation, outcome, count: 0 };
    c.count++;
    this.counts.set(key, c);
    if (operation !== "confirm") this.lastAt = at;
  }

  /** Runs an operation and counts how it ended (an error with step "validate" was refused). */
  async track<T>(operation: ApplyOperation, fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      this.record(operation, "ok");
      return r;
    } catch (e) {
      this.record(operation, (e as { step?: string }).step === "validate" ? "refused" : "failed");
      throw e;
    }
  }

  list(): ApplyOutcomeCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}
