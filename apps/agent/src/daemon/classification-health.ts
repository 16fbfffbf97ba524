// Is classification degraded? Under overload the box keeps forwarding (the queue fails
// open), so nothing breaks visibly: this keeps the counters that show it and says so in
// `sluice status`, /v1/status and the dashboard's health card. Counters are sampled every
// few seconds; "degraded" means one of them moved within the last minute.

import type { DataPlaneStats } from "../nfqueue/data-plane.ts";

export interface HealthCounters {
  /** Packets the kernel dropped because the queue was full (fail-open off). */
  queueDropped: number;
  /** Packets lost to a full socket buffer (fail-open off). */
  userDropped: number;
  /** Packets numbered for the queue that the data plane never read (fail-open). */
  unseen: number;
  /** Connections the kernel found past their window still undecided (marked unknown). */
  lateKernel: number;
  /** Of those, the ones the data plane saw and recorded. */
  lateSeen: number;
  /** Data-plane workers restarted. */
  restarts: number;
  /**
   * Forwarded TCP/UDP packets that left the box without a verdict, counted by the kernel
   * (render/nft.ts): a full queue or socket failed open, or no data plane was bound. 0
   * without the nftables table.
   */
  uninspected: number;
}

export interface ClassificationHealth extends HealthCounters {
  degraded: boolean;
  /** What moved in the last minute, in words. */
  reasons: string[];
  windowSeconds: number;
}

const WINDOW_MS = 60_000;

export class HealthTracker {
  private readonly samples: { t: number; c: HealthCounters }[] = [];

  record(c: HealthCounters, t = Date.now()): void {
    this.samples.push({ t, c });
    while (this.samples.length > 2 && this.samples[1]!.t <= t - WINDOW_MS) this.samples.shift();
  }

  current(): ClassificationHealth {
    const last = this.samples.at(-1)?.c ?? zero();
    const first = this.samples[0]?.c ?? last;
    const d = (k: keyof HealthCounters) => Math.max(0, last[k] - first[k]);
    const reasons: string[] = [];
    if (d("queueDropped")) reasons.push(`${d("queueDropped")} packets dropped by a full queue`);
    if (d("userDropped")) reasons.push(`${d("userDropped")} packets lost to a full socket buffer`);
    if (d("unseen")) reasons.push(`${d("unseen")} packets passed uninspected (fail-open)`);
    if (d("uninspected"))
      reasons.push(`${d("uninspected")} packets left without a verdict (queue full or no data plane)`);
    if (d("lateKernel"))
      reasons.push(`${d("lateKernel")} connections lost part of their window and were marked unknown`);
    if (d("restarts")) reasons.push(`${d("restarts")} data-plane worker restarts`);
    return { ...last, degraded: reasons.length > 0, reasons, windowSeconds: WINDOW_MS / 1000 };
  }
}

export function countersOf(
  total: DataPlaneStats["total"],
  lateKernel: number,
  uninspected = 0,
): HealthCounters {
  return {
    queueDropped: total.queueDropped,
    userDropped: total.userDropped,
    unseen: total.unseen,
    lateKernel,
    lateSeen: total.late,
    restarts: total.restarts,
    uninspected,
  };
}

function zero(): HealthCounters {
  return {
    queueDropped: 0,
    userDropped: 0,
    unseen: 0,
    lateKernel: 0,
    lateSeen: 0,
    restarts: 0,
    uninspected: 0,
  };
}
