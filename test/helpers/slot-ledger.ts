/**
 * Every due slot of a zone's monitors, each with its result or the counted reason it has none: what the delivery
 * guarantee promises. Take `scheduleOf` before the control starts (each monitor's first slot) and `slotLedger` after
 * the zone's controls stopped and its results were recorded (the schedule then says where each monitor stopped).
 */
import type { Redis } from 'ioredis';
import { keys } from '../../src/core/keys.js';
import { entryResults } from '../../src/core/history-entry.js';
import { SLOT_REASONS, type SlotReason } from '../../src/core/slot-reasons.js';

export { SLOT_REASONS };

export interface Ledger {
  /** Slots from each monitor's first to its next (not yet dispatched) one. */
  slots: number;
  /** Slots with a result in the history stream. */
  recorded: number;
  /** Slots recorded more than once. */
  duplicates: number;
  reasons: Record<SlotReason, number>;
  /** Slots without a result and without a counted reason: must be 0. */
  unaccounted: number;
}

/** Each monitor's next due slot (ms) and interval (ms). */
export async function scheduleOf(redis: Redis, zone: string): Promise<Map<string, { due: number; interval: number }>> {
  const k = keys(zone);
  const intervals = await redis.hgetall(k.intervals);
  const out = new Map<string, { due: number; interval: number }>();
  const flat = await redis.zrange(k.schedule, 0, -1, 'WITHSCORES');
  for (let i = 0; i < flat.length; i += 2) out.set(flat[i]!, { due: Number(flat[i + 1]), interval: Number(intervals[flat[i]!]) });
  return out;
}

/** The ledger of every slot from `first` (scheduleOf before the control ran) to the schedule's slots now. */
export async function slotLedger(redis: Redis, zone: string, first: Map<string, { due: number; interval: number }>): Promise<Ledger> {
  const k = keys(zone);
  const next = await scheduleOf(redis, zone);
  const recorded = new Map<string, Set<number>>();
  let duplicates = 0;
  for (const h of (await redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f))) {
    const start = first.get(h.monitorId!);
    if (!start || Number(h.due) < start.due) continue;
    const set = recorded.get(h.monitorId!) ?? new Set<number>();
    if (set.has(Number(h.due))) duplicates++;
    set.add(Number(h.due));
    recorded.set(h.monitorId!, set);
  }
  let slots = 0;
  for (const [id, { due, interval }] of first) slots += Math.round(((next.get(id)?.due ?? due) - due) / interval);
  const counters = await redis.hgetall(k.counters);
  const reasons = Object.fromEntries(SLOT_REASONS.map((r) => [r, Number(counters[r] ?? 0)])) as Ledger['reasons'];
  const got = [...recorded.values()].reduce((n, s) => n + s.size, 0);
  const counted = Object.values(reasons).reduce((a, b) => a + b, 0);
  return { slots, recorded: got, duplicates, reasons, unaccounted: slots - got - counted };
}

/** One line for a test's output: slots, results, each non-zero reason, and what is unaccounted. */
export function describeLedger(l: Ledger): string {
  const reasons = Object.entries(l.reasons).filter(([, n]) => n !== 0).map(([r, n]) => `${r} ${n}`).join(', ') || 'none';
  return `${l.slots} slots: ${l.recorded} recorded, counted ${reasons}; ${l.unaccounted} unaccounted, ${l.duplicates} recorded twice`;
}

/** The results in the zone's history stream (an entry holds up to 16), counted by reading them. */
export async function historyResults(redis: Redis, zone: string): Promise<number> {
  return (await redis.xrange(keys(zone).history, '-', '+')).reduce((n, [, f]) => n + entryResults(f).length, 0);
}
