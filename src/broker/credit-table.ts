/** Which workers may take jobs now: credit = free slots reported minus jobs sent they have not yet received. */

interface WorkerCredit {
  id: Buffer;
  free: number;
  received: number;
  sent: number;
  lastSeen: number;
}

export class CreditTable {
  private readonly workers = new Map<string, WorkerCredit>();
  private order: string[] = [];
  private next = 0;

  constructor(private readonly expireMs: number) {}

  get size(): number {
    return this.workers.size;
  }

  /** Jobs the broker may send now, summed over the workers (negative credit counts as none). */
  get total(): number {
    let n = 0;
    for (const w of this.workers.values()) n += Math.max(0, w.free - (w.sent - w.received));
    return n;
  }

  /** Records a worker's credit report. */
  report(id: Buffer, free: number, received: number, now: number): void {
    const key = id.toString('hex');
    let w = this.workers.get(key);
    if (!w) {
      w = { id, free, received, sent: received, lastSeen: now };
      this.workers.set(key, w);
      this.order.push(key);
    }
    // A restarted broker has sent nothing yet to a worker that received jobs from its predecessor.
    if (w.sent < received) w.sent = received;
    w.free = free;
    w.received = received;
    w.lastSeen = now;
  }

  /** Picks the next worker with credit, round-robin, and charges it one job; undefined when none has credit. */
  take(): Buffer | undefined {
    for (let i = 0; i < this.order.length; i++) {
      const key = this.order[(this.next + i) % this.order.length]!;
      const w = this.workers.get(key)!;
      if (w.free - (w.sent - w.received) > 0) {
        w.sent++;
        this.next = (this.next + i + 1) % this.order.length;
        return w.id;
      }
    }
    return undefined;
  }

  /** Refunds a job that could not be delivered and forgets the worker. */
  forget(id: Buffer): void {
    const key = id.toString('hex');
    if (!this.workers.delete(key)) return;
    this.order = this.order.filter((k) => k !== key);
    this.next = 0;
  }

  /** Forgets workers not heard from within the expiry; returns their keys (hex ids). */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [key, w] of this.workers) {
      if (now - w.lastSeen > this.expireMs) {
        this.forget(w.id);
        gone.push(key);
      }
    }
    return gone;
  }
}
