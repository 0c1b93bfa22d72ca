/** Loads bench monitors straight into Redis with the applyMonitor command, as the bridge would, and into a store of record. */
import type { Redis } from 'ioredis';
import { keys } from '../../src/core/keys.js';
import type { Monitor } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';
import { targetUrl } from './addresses.js';
import { isFailing } from './reactions.js';

export interface LoadOptions {
  zone: string;
  monitors: number;
  intervalSec: number;
  port: number;
  addresses: number;
  batch: number;
  /** Share of monitors (0..1) that check /fail, which the target answers 500. */
  failRate: number;
  /** Reaction ids every monitor names. */
  reactions: string[];
}

/** Monitor id of the i-th bench monitor. */
export const monitorId = (i: number): string => `bench-${String(i).padStart(7, '0')}`;

/** The i-th bench monitor: a GET of one of the target's loopback addresses that expects 200 (a failing one gets 500). */
function benchMonitor(i: number, o: LoadOptions, now: number): Monitor {
  return {
    id: monitorId(i), name: `bench ${i}`, ctype: 'http-get-statuscode', interval: o.intervalSec,
    data: { url: targetUrl(i, o.addresses, o.port, isFailing(i, o.failRate)), codes: ['200'] }, reactions: o.reactions, createdAt: now, updatedAt: now,
  };
}

/** Writes every monitor to the store of record, so the bridge that follows it keeps them in Redis. */
export async function storeMonitors(store: Store, o: LoadOptions, progress: (msg: string) => void): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < o.monitors; i++) {
    await store.putMonitor(benchMonitor(i, o, now));
    if ((i + 1) % 20_000 === 0) progress(`store: ${i + 1} of ${o.monitors} monitors written`);
  }
}

/**
 * Writes every monitor, `batch` per pipeline; each starts at a random offset inside its interval. Returns each one's first
 * due time (0 for one that was there already with the same interval: it keeps its slot).
 */
export async function loadMonitors(redis: Redis, o: LoadOptions): Promise<Float64Array> {
  const k = keys(o.zone);
  const intervalMs = o.intervalSec * 1000;
  const dues = new Float64Array(o.monitors);
  for (let from = 0; from < o.monitors; from += o.batch) {
    const p = redis.pipeline();
    const now = Date.now();
    for (let i = from; i < Math.min(from + o.batch, o.monitors); i++) {
      const monitor = benchMonitor(i, o, now);
      p.applyMonitor(k.monitor(monitor.id), k.intervals, k.monitors, k.schedule, k.state(monitor.id), monitor.id, JSON.stringify(monitor), intervalMs, now, Math.floor(Math.random() * intervalMs));
    }
    const replies = (await p.exec()) ?? [];
    replies.forEach(([err, due], j) => {
      if (err) throw new Error(`applyMonitor failed while loading monitors: ${err.message}`);
      dues[from + j] = Number(due);
    });
  }
  return dues;
}
