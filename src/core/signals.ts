/** The last signal of a webhook or heartbeat monitor in the zone's Redis: written by the web process, read by its checks. */
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { Signal, Status } from './types.js';

const STATUSES = new Set<Status>(['healthy', 'failed', 'unknown']);

/** Shortest time a signal is kept; a monitor removed meanwhile leaves its signal to expire. */
export const SIGNAL_MIN_TTL_S = 30 * 86_400;

/** Parses a stored signal; null when absent or not a signal (so a damaged key reads as "none yet"). */
export function parseSignal(json: string | null): Signal | null {
  if (!json) return null;
  try {
    const s = JSON.parse(json) as Partial<Signal>;
    if (typeof s.at !== 'number' || !STATUSES.has(s.status as Status)) return null;
    return { at: s.at, status: s.status as Status, ...(typeof s.message === 'string' && s.message ? { message: s.message } : {}) };
  } catch {
    return null;
  }
}

/** Reads one monitor's last signal. */
export async function readSignal(redis: Redis, zone: string, monitorId: string): Promise<Signal | null> {
  return parseSignal(await redis.get(keys(zone).signal(monitorId)));
}

/** The TTL of a monitor's signal: long enough to outlive any interval it is judged over. */
export function signalTtl(intervalS: number, graceS = 0): number {
  return Math.max(SIGNAL_MIN_TTL_S, 3 * Math.ceil(intervalS + graceS));
}
