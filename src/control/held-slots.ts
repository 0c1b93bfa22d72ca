/**
 * Settles the slots a broker may have held when the control lost it. A job the broker had already handed to a
 * worker still ends in a result (results go through Redis), so the control waits until such results are in:
 * the longest check timeout of those slots plus a margin. Then each slot without a result is sent again when its
 * interval still leaves time for the check (`control.jobs_resent`), and is counted lost otherwise
 * (`control.jobs_lost_broker`, by writeOffSlot, which makes sure a result recorded meanwhile is not also counted).
 */
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Keys } from '../core/keys.js';
import type { SentSlot } from './sent-log.js';
import { writeOffSlots } from '../core/write-off.js';

/** Time given to results of jobs a worker was running when the broker went away, beyond their check timeout. */
const RESULT_MARGIN_MS = 3000;
const LONGEST_WAIT_MS = 120_000;

export class HeldSlots {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly redis: Redis, private readonly k: Keys, private readonly logger: Logger, private readonly now: () => number,
    private readonly resend: (slots: SentSlot[]) => Promise<void>,
  ) {}

  /** Settles `slots` of the broker at `endpoint`, gone at `at`, once the results of its running jobs can be in. */
  brokerGone(endpoint: string, slots: SentSlot[], at: number): void {
    const longest = slots.reduce((m, s) => Math.max(m, s.timeoutMs), 0);
    const wait = Math.min(LONGEST_WAIT_MS, Math.max(0, at + longest + RESULT_MARGIN_MS - this.now()));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.settle(endpoint, slots).catch((err: Error) =>
        this.logger.error({ broker: endpoint, slots: slots.length, err: err.message }, 'could not settle the slots a lost broker held; they stay without a result or a count'));
    }, wait);
    this.timers.add(timer);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async settle(endpoint: string, slots: SentSlot[]): Promise<void> {
    const recent = await this.redis.pipeline(slots.map((s) => ['hget', this.k.state(s.monitorId), 'recentDues'])).exec();
    const now = this.now();
    const again: SentSlot[] = [];
    const open: SentSlot[] = [];
    slots.forEach((s, i) => {
      const dues = String(recent?.[i]?.[1] ?? '').split(' ');
      if (dues.includes(String(s.due))) return;
      (now + s.timeoutMs < s.deadline ? again : open).push(s);
    });
    if (again.length) await this.resend(again);
    const { lost } = await writeOffSlots(this.redis, this.k, open, 'control.jobs_lost_broker');
    const recorded = slots.length - again.length - open.length;
    this.logger[lost ? 'warn' : 'info']({ broker: endpoint, held: slots.length, recorded, resent: again.length, lost },
      lost ? 'slots a lost broker held: those without a result and no time left are counted control.jobs_lost_broker' : 'slots a lost broker held all have a result or were sent again');
  }
}
