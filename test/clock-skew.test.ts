/**
 * One clock decides: two workers and two sinks whose machines' clocks run 5 s fast and 5 s slow (real clocks, shifted
 * with libfaketime) check and record every slot, none is taken as stale, the start lag is not bent by their clocks,
 * and a reaction's frequency holds.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBroker, type Broker } from '../src/broker/broker.js';
import { startControl, type Control } from '../src/control/control.js';
import { keys, startLagKey } from '../src/core/keys.js';
import { readLagHash } from '../src/core/lag-recorder.js';
import { fieldsToObject } from '../src/core/redis.js';
import { putMonitor, putReaction, silent, waitFor } from './helpers/cluster.js';
import { Proc } from './helpers/procs.js';
import { freePortRange } from './helpers/redis-server.js';
import { useZoneFixture } from './helpers/zone-fixture.js';
import { entryResults } from '../src/core/history-entry.js';
import { historyResults } from './helpers/slot-ledger.js';

/** libfaketime from Debian's faketime package (its folder is named by the architecture). */
function libfaketime(): string {
  for (const arch of readdirSync('/usr/lib')) {
    const lib = join('/usr/lib', arch, 'faketime', 'libfaketime.so.1');
    if (existsSync(lib)) return lib;
  }
  throw new Error('libfaketime not found: apt-get install faketime');
}

const zone = 'skew';
let broker: Broker | undefined;
let control: Control | undefined;
// Registered first, so these stop while Redis still runs.
test.after(async () => {
  await control?.stop();
  await broker?.stop();
});
const fx = useZoneFixture(test, 'skew');

test('workers and sinks 5 s fast and 5 s slow: every slot recorded, none stale, start lag and frequency by one clock', async () => {
  const base = await freePortRange(2);
  const ports = { jobsIn: base, workers: base + 1 };
  const { redis, server, dir, procs } = fx;
  broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, redis });
  const env = (offset: string) => ({
    REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_BROKER_PORT_BASE: String(ports.jobsIn), CLOUDROUTES_DATA_DIR: dir,
    LD_PRELOAD: libfaketime(), FAKETIME: offset, FAKETIME_NO_CACHE: '1',
  });
  for (const [kind, offset] of [['worker', '+5s'], ['worker', '-5s'], ['sink', '+5s'], ['sink', '-5s']] as const) {
    const p = new Proc([kind], env(offset), dir).start();
    procs.push(p);
    await p.waitFor(`${kind} started`, 15_000);
  }
  const port = fx.targetPort;
  await putReaction(redis, zone, { id: 'r-log', rtype: 'log', frequency: 3, data: {} });
  const N = 20;
  for (let i = 0; i < N; i++) {
    // Half healthy, half failed (a closed port): the failed ones run the reaction at most once every 3 s.
    await putMonitor(redis, zone, { id: `m-${i}`, ctype: 'tcp-check', interval: 1, reactions: i % 2 ? ['r-log'] : [], data: { host: '127.0.0.1', port: i % 2 ? 1 : port } });
  }
  control = await startControl({ redis, zone, brokers: [`tcp://127.0.0.1:${ports.jobsIn}`], logger: silent });
  await waitFor(async () => (await historyResults(redis, zone)) >= N * 2, 15_000, 'results from the skewed workers');
  const from = Date.now();
  await new Promise((r) => setTimeout(r, 8000));
  const to = Date.now() - 1500;

  const history = (await redis.xrange(keys(zone).history, '-', '+')).flatMap(([, f]) => entryResults(f));
  const slots = new Map<string, Set<number>>();
  for (const h of history) {
    const due = Number(h.due);
    if (due >= from && due < to) slots.set(h.monitorId!, (slots.get(h.monitorId!) ?? new Set()).add(due));
  }
  const expected = Math.floor((to - from) / 1000) - 1;
  const counters = await redis.hgetall(keys(zone).counters);
  const lag = await readLagHash(redis, startLagKey(zone));
  const runs = (await redis.xrange(keys(zone).events, '-', '+')).map(([, f]) => fieldsToObject(f)).filter((e) => e.kind === 'reaction' && e.outcome === 'ran');
  const perMonitor = new Map<string, number[]>();
  for (const r of runs) perMonitor.set(r.monitorId!, [...(perMonitor.get(r.monitorId!) ?? []), Number(r.at)]);
  const gaps = [...perMonitor.values()].flatMap((ats) => ats.sort((a, b) => a - b).slice(1).map((at, i) => at - ats[i]!));
  console.log(`clock skew: slots per monitor ${Math.min(...[...slots.values()].map((s) => s.size))} (expected >= ${expected}), stale ${counters['sink.results_stale'] ?? 0}, start lag max ${lag.max} ms, smallest gap between runs ${Math.min(...gaps)} ms`);
  assert.is(slots.size, N);
  for (const [id, s] of slots) assert.ok(s.size >= expected, `${id}: ${s.size} slots recorded, expected ${expected}`);
  assert.is(Number(counters['sink.results_stale'] ?? 0), 0, 'a result taken as stale');
  assert.ok(lag.max < 2500, `start lag max ${lag.max} ms: measured on a machine's own clock`);
  assert.ok(gaps.length > 0, 'the reaction ran more than once per monitor');
  assert.ok(Math.min(...gaps) >= 2900, `a reaction ran again after ${Math.min(...gaps)} ms, its frequency is 3 s`);
});

test.run();
