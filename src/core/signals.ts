/**
 * The last signal of a webhook or heartbeat monitor in the zone's Redis: written by the web process (or copied from
 * another zone by the bridge), read by its checks.
 */
import type { Redis, Result } from 'ioredis';
import { keys } from './keys.js';
import { STATUSES } from './messages.js';
import type { Monitor, Signal, Status } from './types.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** src/core/lua/putSignal-1.lua: writes the signal unless Redis has the same or a newer one; 1 when written. */
    putSignal(signal: string, json: string, at: number, ttlS: number): Result<number, Context>;
  }
}


/** Shortest time a signal is kept; a monitor removed meanwhile leaves its signal to expire. */
export const SIGNAL_MIN_TTL_S = 30 * 86_400;

/** Parses a stored signal; null when absent or not a signal (so a damaged key reads as "none yet"). */
export function parseSignal(json: string | null): Signal | null {
  if (!json) return null;
  try {
    const s = JSON.parse(json) as Partial<Signal>;
    if (typeof s.at !== 'number' || !STATUSES.has(s.status as string)) return null;
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

/** Whether a monitor is told through the web process (it has a token), so its signal is shared between its zones. */
export function isTold(monitor: Pick<Monitor, 'data'>): boolean {
  return typeof monitor.data?.token === 'string' && monitor.data.token !== '';
}

/** The TTL of a told monitor's signal, as the web process sets it. */
export function monitorSignalTtl(monitor: Pick<Monitor, 'interval' | 'data'>): number {
  const grace = monitor.data?.grace;
  return signalTtl(monitor.interval, typeof grace === 'number' ? grace : 0);
}
