/**
 * Counts slots as lost under a counter (control.jobs_lost_broker, broker.jobs_lost_worker) unless they have their
 * result, each through writeOffSlot-4.lua: a slot is counted at most once whoever counts it, and a result that comes
 * later takes the count back (recordResults).
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface WrittenOff {
  /** Counted lost. */
  lost: number;
  /** Not settled: Redis answered with an error, or not at all (`error` says which). */
  failed: number;
  error?: string;
}

export async function writeOffSlots(redis: Redis, k: Keys, slots: readonly { monitorId: string; due: number }[], counter: string): Promise<WrittenOff> {
  if (slots.length === 0) return { lost: 0, failed: 0 };
  const replies = (await redis.pipeline(slots.map((s) =>
    ['writeOffSlot', k.state(s.monitorId), k.counters, k.writtenOff, k.writtenOffWhy, s.monitorId, String(s.due), counter])).exec()) ?? [];
  const errors = replies.filter(([err]) => err);
  const failed = slots.length - replies.length + errors.length;
  return {
    lost: replies.filter(([err, n]) => !err && n === 1).length, failed,
    ...(failed ? { error: errors[0]?.[0]?.message ?? 'Redis did not answer' } : {}),
  };
}
