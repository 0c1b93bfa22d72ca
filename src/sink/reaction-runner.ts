/**
 * Runs reactions off the sink's ordered result chain, with a limit per reaction type: 64 hung SMTP sends
 * fill the email type's slots and queue, while webhooks, DNS failovers and every monitor's decisions go on.
 */
export interface RunnerLimits {
  /** Runs of one reaction type at once. */
  perType: number;
  /** Runs of one type waiting for a slot; past it a run is refused (the caller records why). */
  queuedPerType: number;
}

interface Lane {
  running: number;
  waiting: (() => Promise<void>)[];
}

export class ReactionRunner {
  private readonly lanes = new Map<string, Lane>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly limits: RunnerLimits) {}

  /** Starts `run` now or when a slot of its type frees; false when that type's queue is full. Never waits. */
  submit(rtype: string, run: () => Promise<void>): boolean {
    let lane = this.lanes.get(rtype);
    if (!lane) this.lanes.set(rtype, (lane = { running: 0, waiting: [] }));
    if (lane.running < this.limits.perType) {
      this.start(rtype, lane, run);
      return true;
    }
    if (lane.waiting.length >= this.limits.queuedPerType) return false;
    lane.waiting.push(run);
    return true;
  }

  /** Runs going on and waiting, by type. */
  load(): { rtype: string; running: number; waiting: number }[] {
    return [...this.lanes].map(([rtype, l]) => ({ rtype, running: l.running, waiting: l.waiting.length }));
  }

  /** Resolves when every run started or queued so far has ended. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private start(rtype: string, lane: Lane, run: () => Promise<void>): void {
    lane.running++;
    const p = run().catch(() => undefined).finally(() => {
      this.inFlight.delete(p);
      lane.running--;
      const next = lane.waiting.shift();
      if (next) this.start(rtype, lane, next);
      else if (lane.running === 0) this.lanes.delete(rtype);
    });
    this.inFlight.add(p);
  }
}
