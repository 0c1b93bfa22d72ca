/**
 * A worker gone for its broker may be alive and cut off from that broker only (or the broker cut off from the zone):
 * it ran the jobs it held and recorded their results through Redis. Such slots are not also counted lost_worker;
 * one without a result is, and its result coming late takes the count back. A slot is counted once whoever counts it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dealer, Push } from 'zeromq';
import { startBroker } from '../src/broker/broker.js';
import { keys } from '../src/core/keys.js';
import { recordResults } from '../src/core/record-results.js';
import { freePorts, putMonitor, silent, waitFor } from './helpers/cluster.js';
import { useRedis } from './helpers/redis-server.js';

const zone = 'lostworker';
const k = keys(zone);
const fx = useRedis(test);
const url = (p: number) => `tcp://127.0.0.1:${p}`;

test('jobs of a silent worker past their time: a slot with its result is not counted lost_worker, a late result takes a count back', async () => {
  const ports = await freePorts();
  const broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, redis: fx.redis, workerExpireMs: 300 });
  const jobs = new Push({ linger: 0 });
  jobs.connect(url(ports.jobsIn));
  const worker = new Dealer({ linger: 0 });
  worker.connect(url(ports.workers));
  try {
    for (const id of ['m-ran', 'm-lost']) await putMonitor(fx.redis, zone, { id, ctype: 'tcp-check', interval: 1, data: {} }, 60_000);
    await worker.send(JSON.stringify({ v: 1, type: 'credit', free: 10, received: 0 }));
    await new Promise((r) => setTimeout(r, 200));
    // Sent 900 ms after their due with a 1-s interval: 100 ms left, so they are past their time when the worker goes.
    const due = Date.now() - 900;
    for (const monitorId of ['m-ran', 'm-lost']) {
      await jobs.send(JSON.stringify({ v: 1, type: 'job', monitorId, name: monitorId, ctype: 'tcp-check', data: {}, timeoutMs: 1000, zone, due, sent: due + 900, interval: 1 }));
    }
    for (let i = 0; i < 2; i++) await worker.receive();
    // The worker ran m-ran and its result reached Redis; then it falls silent for the broker.
    const result = (monitorId: string, at: number) => ({ monitorId, status: 'healthy', message: '', latencyMs: 1, checkedAt: at + 5, due: at });
    await recordResults(fx.redis, zone, [result('m-ran', due)]);

    await waitFor(async () => Number(await fx.redis.hget(k.counters, 'broker.jobs_lost_worker')) > 0, 5000, 'the silent worker forgotten');
    await new Promise((r) => setTimeout(r, 200));
    assert.is(await fx.redis.hget(k.counters, 'broker.jobs_lost_worker'), '1', 'only the slot without a result is counted');
    assert.is(broker.counters.get('jobs_lost_worker'), 1, "the broker's own count (its /metrics) says the same");
    assert.equal(await fx.redis.zrange(k.writtenOff, 0, -1), [`m-lost|${due}`]);
    assert.is(await fx.redis.hget(k.writtenOffWhy, `m-lost|${due}`), 'broker.jobs_lost_worker');
    assert.is(await fx.redis.writeOffSlot(k.state('m-lost'), k.counters, k.writtenOff, k.writtenOffWhy, 'm-lost', due, 'control.jobs_lost_broker'), 0,
      'a control that lost the broker of the same slot does not count it again');

    // The worker was alive after all: its result comes late, after the monitor's next slot, and the count goes back.
    await recordResults(fx.redis, zone, [result('m-lost', due + 1000)]);
    const [late] = await recordResults(fx.redis, zone, [result('m-lost', due)]);
    assert.is(late!.stale, true);
    const counters = await fx.redis.hgetall(k.counters);
    assert.is(counters['broker.jobs_lost_worker'], '0', 'the late result took its count back');
    assert.is(counters['control.jobs_lost_broker'] ?? '0', '0', 'and took nothing from another counter');
    assert.is(await fx.redis.zcard(k.writtenOff), 0);
    assert.is(await fx.redis.hlen(k.writtenOffWhy), 0);
  } finally {
    jobs.close();
    worker.close();
    await broker.stop();
  }
});

test('a slot written off before the counter was kept beside it is taken back from control.jobs_lost_broker', async () => {
  await putMonitor(fx.redis, zone, { id: 'm-old', ctype: 'tcp-check', interval: 1, data: {} }, 60_000);
  await fx.redis.zadd(k.writtenOff, Date.now(), 'm-old|1000');
  await fx.redis.hset(k.counters, 'control.jobs_lost_broker', 3);
  const at = (due: number) => ({ monitorId: 'm-old', status: 'healthy', message: '', latencyMs: 1, checkedAt: due + 5, due });
  await recordResults(fx.redis, zone, [at(2000)]);
  await recordResults(fx.redis, zone, [at(1000)]);
  assert.is(await fx.redis.hget(k.counters, 'control.jobs_lost_broker'), '2');
});

test("a late result that is still the monitor's newest takes its slot's count back too", async () => {
  // A 60-s monitor: its slot is counted lost, and its result arrives before the next slot's, so it is not stale.
  await putMonitor(fx.redis, zone, { id: 'm-slow', ctype: 'tcp-check', interval: 60, data: {} }, 60_000);
  const due = 5_000_000;
  assert.is(await fx.redis.writeOffSlot(k.state('m-slow'), k.counters, k.writtenOff, k.writtenOffWhy, 'm-slow', due, 'broker.jobs_lost_worker'), 1);
  const before = Number(await fx.redis.hget(k.counters, 'broker.jobs_lost_worker'));
  const [late] = await recordResults(fx.redis, zone, [{ monitorId: 'm-slow', status: 'healthy', message: '', latencyMs: 1, checkedAt: due + 5, due }]);
  assert.is(late!.stale, false);
  assert.is(Number(await fx.redis.hget(k.counters, 'broker.jobs_lost_worker')), before - 1, 'the slot has its result and no reason');
  assert.is(await fx.redis.zscore(k.writtenOff, `m-slow|${due}`), null);
});

test('a job the broker dropped past its time is counted once: a control that then loses the broker does not count it again', async () => {
  const ports = await freePorts();
  const broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, redis: fx.redis });
  const jobs = new Push({ linger: 0 });
  jobs.connect(url(ports.jobsIn));
  try {
    await putMonitor(fx.redis, zone, { id: 'm-expired', ctype: 'tcp-check', interval: 1, data: {} }, 60_000);
    const lostBroker = await fx.redis.hget(k.counters, 'control.jobs_lost_broker');
    // No worker: the job waits in the broker's queue past its 1-s interval and is dropped.
    const due = Date.now() - 500;
    await jobs.send(JSON.stringify({ v: 1, type: 'job', monitorId: 'm-expired', name: 'm-expired', ctype: 'tcp-check', data: {}, timeoutMs: 1000, zone, due, sent: due + 500, interval: 1 }));
    await waitFor(async () => (await fx.redis.hget(k.counters, 'broker.jobs_expired')) === '1', 5000, 'the expired job counted in Redis');
    assert.is(broker.counters.get('jobs_expired'), 1, "the broker's own count says the same");
    assert.is(await fx.redis.hget(k.writtenOffWhy, `m-expired|${due}`), 'broker.jobs_expired');
    assert.is(await fx.redis.writeOffSlot(k.state('m-expired'), k.counters, k.writtenOff, k.writtenOffWhy, 'm-expired', due, 'control.jobs_lost_broker'), 0,
      'the control settling the slots of the lost broker finds it counted');
    await broker.stop();
    assert.is(await fx.redis.hget(k.counters, 'broker.jobs_expired'), '1', 'the broker stopping flushes no second count');
    assert.is(await fx.redis.hget(k.counters, 'control.jobs_lost_broker'), lostBroker, 'and the control counted nothing');
  } finally {
    jobs.close();
    await broker.stop().catch(() => undefined);
  }
});

test.run();
