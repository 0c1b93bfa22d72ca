/**
 * The jobs each worker holds. The broker numbers every job it sends (a frame before the job); a worker's credit
 * says which numbers it has finished. When a worker goes silent or unreachable, the jobs it still held are sent
 * again while their interval leaves time, and counted lost (`jobs_lost_worker`, lost-jobs.ts) when it does not.
 */
export interface Held {
  job: Buffer;
  expires: number;
}

export class InFlight {
  private readonly byWorker = new Map<string, Map<number, Held>>();
  private last = 0;

  /** Jobs held by all workers. */
  get size(): number {
    let n = 0;
    for (const m of this.byWorker.values()) n += m.size;
    return n;
  }

  /** Numbers a job sent to `worker` and remembers it until the worker says it is done. */
  add(worker: string, job: Buffer, expires: number): number {
    this.last = (this.last + 1) >>> 0;
    let held = this.byWorker.get(worker);
    if (!held) this.byWorker.set(worker, (held = new Map()));
    held.set(this.last, { job, expires });
    return this.last;
  }

  done(worker: string, numbers: readonly number[]): void {
    const held = this.byWorker.get(worker);
    if (!held) return;
    for (const n of numbers) held.delete(n);
  }

  /** Takes what a gone worker held: the jobs still worth running (`again`) and those past their time (`late`). */
  takeAll(worker: string, now: number): { again: Held[]; late: Held[] } {
    const held = this.byWorker.get(worker);
    this.byWorker.delete(worker);
    const again: Held[] = [];
    const late: Held[] = [];
    for (const h of held?.values() ?? []) (h.expires > now ? again : late).push(h);
    return { again, late };
  }

  /** Forgets jobs of live workers long past their time (a credit that said they were done was lost), so memory stays bounded. */
  sweep(now: number, graceMs: number): void {
    for (const held of this.byWorker.values()) {
      for (const [n, h] of held) if (h.expires + graceMs < now) held.delete(n);
    }
  }
}
