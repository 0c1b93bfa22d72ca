/**
 * A zone of real processes under load (300 monitors at 1 s by default) that loses one of its processes, and the slot
 * ledger of what followed: the acceptance of "every due slot ends in one recorded result or one counted reason".
 */
import { keys } from '../../src/core/keys.js';
import { putMonitor, waitFor } from './cluster.js';
import { Proc } from './procs.js';
import { freePortRange } from './redis-server.js';
import { type Ledger, scheduleOf, slotLedger, historyResults } from './slot-ledger.js';
import type { ZoneFixture } from './zone-fixture.js';

export interface LosingZone {
  brokers: Proc[];
  workers: Proc[];
  sinks: Proc[];
}

export interface LosingZoneOptions {
  brokers?: number;
  workers?: number;
  sinks?: number;
  monitors?: number;
  /** How long the zone runs on after `lose` before its control stops (the lost slots are settled meanwhile). */
  afterMs?: number;
  env?: Record<string, string>;
}

export async function loseAProcess(fx: ZoneFixture, zone: string, lose: (z: LosingZone) => Promise<void>, o: LosingZoneOptions = {}): Promise<Ledger> {
  const { redis, procs, dir } = fx;
  const common = { REDIS_URL: fx.server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_DATA_DIR: dir, CLOUDROUTES_HEARTBEAT_INTERVAL: '1s', ...o.env };
  const start = (kind: string, env: Record<string, string> = {}) => {
    const p = new Proc([kind], { ...common, ...env }, dir).start();
    procs.push(p);
    return p;
  };
  const bases = await Promise.all(Array.from({ length: o.brokers ?? 1 }, () => freePortRange(2)));
  const brokers = bases.map((base) => start('broker', { CLOUDROUTES_BROKER_PORT_BASE: String(base) }));
  await Promise.all(brokers.map((p) => p.waitFor('broker listening')));
  const all = { CLOUDROUTES_BROKER: bases.map((b) => `127.0.0.1:${b}`).join(',') };
  const z: LosingZone = {
    brokers,
    workers: Array.from({ length: o.workers ?? 2 }, () => start('worker', all)),
    sinks: Array.from({ length: o.sinks ?? 1 }, () => start('sink', all)),
  };
  await Promise.all([...z.workers.map((p) => p.waitFor('worker started')), ...z.sinks.map((p) => p.waitFor('sink started'))]);
  const n = o.monitors ?? 300;
  for (let i = 0; i < n; i++) await putMonitor(redis, zone, { id: `m-${i}`, ctype: 'tcp-check', interval: 1, data: { host: '127.0.0.1', port: fx.targetPort } }, 500 + (i % 1000));
  const first = await scheduleOf(redis, zone);
  const control = start('control', all);
  await control.waitFor('control started');
  await waitFor(async () => (await historyResults(redis, zone)) >= n * 3, 20_000, 'results of three rounds');
  await lose(z);
  await new Promise((r) => setTimeout(r, o.afterMs ?? 7000));
  await control.kill('SIGTERM');
  await waitFor(async () => ((await redis.xpending(keys(zone).results, 'sinks')) as [number])[0] === 0 && (await redis.xlen(keys(zone).results)) === 0, 20_000, 'every result recorded');
  await new Promise((r) => setTimeout(r, 1500)); // the counters of the live processes are flushed every second
  return slotLedger(redis, zone, first);
}
