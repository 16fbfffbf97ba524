// Switches the box at schedule boundaries and quota period ends, through the applier's
// usual apply (validate, render, install, verify, rollback on failure) and history: the
// last good policy is applied again, now rendered with the windows in force and the quota
// counts of the new period, and its entry says why ("schedule: work-hours started").
// At start the agent compares what is in force now with what the last good entry was
// applied with, so a boundary passed while it was stopped is caught up at once.

import { effectivePolicy, periodEnd, periodKey, quotaTarget, type Policy } from "@sluice/policy";
import type { QuotaStatus, ScheduleStatus } from "@sluice/agent-contract";
import type { Applier, InForce } from "../apply/applier.ts";
import type { HistoryEntry, HistoryStore } from "../apply/store.ts";
import type { Clock } from "./clock.ts";
import type { QuotaBook } from "./quota-book.ts";

export interface SchedulerDeps {
  clock: Clock;
  applier: Applier;
  store: HistoryStore;
  book: QuotaBook;
  log: (msg: string, data?: Record<string, unknown>) => void;
  /** Reads the kernel's quota counts into the book (before an apply resets them). */
  syncQuotas: () => Promise<void>;
  /** After the scheduler applied (the agent refreshes its model). */
  applied: () => void;
}

export class Scheduler {
  private readonly d: SchedulerDeps;
  private cancel: (() => void) | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(deps: SchedulerDeps) {
    this.d = deps;
  }

  /** The policy in force at the clock's now (the applier's `inForce`). */
  inForce(policy: Policy): InForce {
    const now = this.d.clock.now();
    const e = effectivePolicy(policy, now);
    const quotaPeriods: Record<string, string> = {};
    for (const q of policy.quotas) quotaPeriods[q.name] = periodKey(q.period, policy.timeZone, now);
    return {
      policy: e.policy,
      windows: e.active,
      quotaPeriods,
      quotaUsed: (name) => this.d.book.used(name, quotaPeriods[name] ?? ""),
    };
  }

  /** Checks now, then at every boundary. */
  start(): Promise<void> {
    this.stopped = false;
    return this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  /** Re-checks now (after a boundary, a confirm, a revert) and re-arms the timer. */
  kick(): Promise<void> {
    this.cancel?.();
    this.cancel = null;
    this.running = this.running
      .then(() => this.reconcile())
      .catch((e: unknown) => this.d.log("schedule: switching failed", { error: (e as Error).message }))
      .finally(() => this.arm());
    return this.running;
  }

  /** Resolves once the switching under way (if any) is done. */
  idle(): Promise<void> {
    return this.running;
  }

  private goodPolicy(): { entry: HistoryEntry; policy: Policy } | null {
    const entry = this.d.store.lastGood();
    if (!entry) return null;
    try {
      return { entry, policy: this.d.applier.validate(entry.policy) };
    } catch {
      return null;
    }
  }

  /** Why the box must change now, or [] when what is in force is what was applied. */
  private changes(entry: HistoryEntry, policy: Policy): string[] {
    const now = this.inForce(policy);
    const was = entry.windows ?? [];
    const out = [
      ...now.windows.filter((w) => !was.includes(w)).map((w) => `schedule: ${w} started`),
      ...was.filter((w) => !now.windows.includes(w)).map((w) => `schedule: ${w} ended`),
    ];
    for (const [name, key] of Object.entries(now.quotaPeriods)) {
      const before = entry.quotaPeriods?.[name];
      if (before !== undefined && before !== key) out.push(`quota: ${name} period reset (${key})`);
    }
    return out;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped || this.d.applier.pendingTry) return; // a try decides first (confirm/revert kick again)
    const good = this.goodPolicy();
    if (!good) return;
    const why = this.changes(good.entry, good.policy);
    if (!why.length) return;
    await this.d.syncQuotas();
    const note = why.join("; ");
    this.d.log(note);
    await this.d.applier.apply(good.entry.policy, { user: "schedule", note });
    this.d.applied();
  }

  /** When the next change is due: a window edge or the end of a quota period. */
  nextChange(policy: Policy): number | null {
    const now = this.d.clock.now();
    const times = policy.quotas.map((q) => periodEnd(q.period, policy.timeZone, now));
    const b = effectivePolicy(policy, now).next;
    if (b) times.push(b.at);
    return times.length ? Math.min(...times) : null;
  }

  private arm(): void {
    if (this.stopped) return;
    this.cancel?.();
    const good = this.goodPolicy();
    const at = good ? this.nextChange(good.policy) : null;
    // with nothing scheduled, look again now and then (a new apply kicks anyway)
    const wait = at === null ? 3600_000 : Math.max(0, at - this.d.clock.now());
    this.cancel = this.d.clock.after(wait, () => void this.kick());
  }

  scheduleStatus(): ScheduleStatus | null {
    const good = this.goodPolicy();
    if (!good || !good.policy.schedules.length) return null;
    const e = effectivePolicy(good.policy, this.d.clock.now());
    return {
      timeZone: good.policy.timeZone,
      active: e.active,
      next: e.next
        ? { at: new Date(e.next.at).toISOString(), starts: e.next.starts, ends: e.next.ends }
        : null,
    };
  }

  quotaStatus(): QuotaStatus[] {
    const good = this.goodPolicy();
    if (!good) return [];
    const now = this.d.clock.now();
    const zone = good.policy.timeZone;
    return good.policy.quotas.map((q) => {
      const key = periodKey(q.period, zone, now);
      const used = this.d.book.used(q.name, key);
      const t = quotaTarget(q);
      return {
        name: q.name,
        target: `${t.kind} ${t.value}`,
        period: q.period,
        periodKey: key,
        periodEnds: new Date(periodEnd(q.period, zone, now)).toISOString(),
        allowance: q.allowance,
        used,
        demoteTo: q.demoteTo ?? "",
        demoted: used >= q.allowance,
      };
    });
  }
}
