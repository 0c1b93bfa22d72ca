/** Closing a fix's breaker by hand (`cloudroutes reaction reset`, POST /api/v1/reactions/:id/reset), recorded in the audit. */
import type { Redis } from 'ioredis';
import { keys } from '../core/keys.js';
import type { Status } from '../core/types.js';
import { writeDecision } from '../sink/decisions.js';
import { parseJson, type Breaker } from '../sink/verification.js';

export interface ResetResult {
  /** Monitors whose breaker for the reaction was open and is now closed. */
  closed: string[];
}

/**
 * Closes reaction `reactionId`'s open breakers in `zone` (for one monitor, or for every monitor), and records a
 * breaker-reset decision for each, naming who did it. A breaker that was not open is left alone (its count of
 * not-fixed runs too).
 */
export async function resetBreakers(redis: Redis, zone: string, reactionId: string, by: string, monitorId?: string): Promise<ResetResult> {
  const k = keys(zone);
  const suffix = `:${reactionId}:breaker`;
  const found: string[] = [];
  if (monitorId) found.push(k.breaker(monitorId, reactionId));
  else {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', k.breaker('*', reactionId), 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  const head = k.breaker('', reactionId).slice(0, -suffix.length);
  const closed: string[] = [];
  for (const key of found) {
    const breaker = parseJson<Breaker>(await redis.get(key));
    if (!breaker?.openedAt || !(await redis.del(key))) continue;
    const id = monitorId ?? key.slice(head.length, -suffix.length);
    closed.push(id);
    const [status, episode, failcount] = await redis.hmget(k.state(id), 'status', 'episode', 'failcount');
    const [seconds, micros] = await redis.time();
    await writeDecision(redis, k, zone, Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), {
      event: { monitor: { id, name: id, ctype: '' }, status: (status ?? 'unknown') as Status, previousStatus: null, failcount: Number(failcount ?? 0), zone, checkedAt: 0, message: '' },
      reactionId, decision: 'breaker-reset', message: `breaker closed by hand (${by}) after ${breaker.notFixed} runs that did not fix it`, episode: Number(episode ?? 0),
    });
  }
  return { closed };
}
