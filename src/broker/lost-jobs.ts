/**
 * Counts jobs the broker will not run, each slot through writeOffSlot: those a gone worker held past their time
 * (`broker.jobs_lost_worker`) and those the broker dropped (`broker.jobs_expired`, `broker.jobs_dropped_queue_full`).
 * Through writeOffSlot a slot is counted once whoever counts it: a control that loses this broker later and settles
 * the slots it had sent it does not count a dropped one again as `control.jobs_lost_broker`.
 * A worker that is gone for this broker may be alive: cut off from this broker alone (or this broker cut off from
 * the zone), it ran them and recorded their results through Redis. So a slot that has its result is not counted,
 * and a result that comes after the count takes it back (recordResults), as for the slots a lost broker held.
 */
import type { Redis } from 'ioredis';
import type { Counters } from '../core/counters.js';
import type { Keys } from '../core/keys.js';
import { decode } from '../core/messages.js';
import { writeOffSlots } from '../core/write-off.js';

export const LOST_WORKER_COUNTER = 'jobs_lost_worker';

export interface WriteOff {
  /** Counted lost_worker. */
  lost: number;
  /** Not counted: the slot has its result (or was counted already). */
  recorded: number;
  /** Not settled: Redis answered with an error (the reason), so these have neither a count nor a known result. */
  unsettled: number;
  error?: string;
}

/** Counts `jobs` under `counter` (of this process's counters) unless their slots have a result or were counted already. */
export async function writeOffJobs(redis: Redis | undefined, k: Keys, counters: Counters, jobs: readonly Buffer[], counter: string): Promise<WriteOff> {
  // Decoded when they came in, so this only reads them back. A test job is no slot of the schedule: not counted.
  const slots = jobs.map((job) => decode(job, ['job'])).filter((job) => job.test === undefined);
  if (slots.length === 0) return { lost: 0, recorded: 0, unsettled: 0 };
  if (!redis) {
    counters.inc(counter, slots.length);
    return { lost: slots.length, recorded: 0, unsettled: 0 };
  }
  const { lost, failed, error } = await writeOffSlots(redis, k, slots, `${counters.proc}.${counter}`);
  counters.counted(counter, lost);
  return { lost, recorded: slots.length - lost - failed, unsettled: failed, ...(error ? { error } : {}) };
}
