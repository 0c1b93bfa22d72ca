/** Workers that cannot keep up: the start lag shows the queueing the schedule lag cannot see, and stale jobs are dropped. */
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dealer, Push } from 'zeromq';
import { startBroker } from '../src/broker/broker.js';
import { keys } from '../src/core/keys.js';
import { Cluster, freePorts, putMonitor, silent, waitFor } from './helpers/cluster.js';
import { httpPeer, type Peer } from './helpers/peers.js';
import { cli } from './helpers/procs.js';
import { RedisServer } from './helpers/redis-server.js';
import { entryResults } from '../src/core/history-entry.js';

const server = new RedisServer();
let redis: Redis;
let slow: Peer;

interface Stats {
  counters: Record<string, number>;
  lag: { count: number; p99Ms: number };
  startLag: { count: number; p99Ms: number; maxMs: number };
}

async function stats(zone: string): Promise<Stats> {
  const r = await cli(['stats', '--json'], { REDIS_URL: server.url, CLOUDROUTES_ZONE: zone });
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Stats;
}

async function monitors(zone: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await putMonitor(redis, zone, { id: `m${i}`, ctype: 'http-get-statuscode', data: { url: `${slow.url}/`, codes: ['200'] }, interval: 1 }, (i * 1000) / n);
  }
}

test.before(async () => {
  await server.start();
  redis = server.client();
  slow = await httpPeer((_req, res) => setTimeout(() => res.end('ok'), 400));
});
test.after(async () => {
  await slow.close();
  redis.disconnect();
  await server.stop();
});

test('20 checks/s of 400 ms each on 2 slots: the start lag shows the wait, jobs older than the interval are dropped and counted', async () => {
  const zone = 'sat';
  await monitors(zone, 20);
  const cluster = await new Cluster({ redisUrl: server.url, zone, concurrency: 2 }).start();
  try {
    const s = await waitFor(async () => {
      const s = await stats(zone);
      return (s.counters['broker.jobs_expired'] ?? 0) > 0 && s.startLag.count > 0 ? s : undefined;
    }, 15_000, 'jobs dropped as expired');
    // The control keeps its schedule: its own lag stays small while jobs wait in the queues behind it.
    assert.ok(s.lag.p99Ms < 500, `schedule lag p99 ${s.lag.p99Ms} ms (${JSON.stringify(s)})`);
    assert.ok(s.startLag.maxMs > 500, `start lag max ${s.startLag.maxMs} ms (${JSON.stringify(s)})`);
    // No check starts later than its interval: such a job is dropped instead.
    assert.ok(s.startLag.maxMs <= 1010, `start lag max ${s.startLag.maxMs} ms`);
    const text = await cli(['stats'], { REDIS_URL: server.url, CLOUDROUTES_ZONE: zone });
    assert.match(text.stdout, /start lag \(due to started by a worker, queues included\): p50 \d+ ms/);
    assert.match(text.stdout, /the broker dropped \d+ jobs that waited longer than their interval and \d+ that did not fit its queue: add workers or raise --concurrency/);
  } finally {
    await cluster.stop();
  }
});

test('the same load on enough slots: nothing dropped and the start lag stays under the interval', async () => {
  const zone = 'ok';
  await monitors(zone, 20);
  const cluster = await new Cluster({ redisUrl: server.url, zone, concurrency: 64 }).start();
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const s = await stats(zone);
    assert.ok(s.startLag.count >= 20, `${s.startLag.count} checks started`);
    assert.ok(s.startLag.p99Ms < 1000, `start lag p99 ${s.startLag.p99Ms} ms`);
    assert.is(s.counters['broker.jobs_expired'] ?? 0, 0);
  } finally {
    await cluster.stop();
  }
});

test("a control whose clock is 5 s behind the other machines' still gets its jobs run: expiry is not judged across clocks", async () => {
  const zone = 'skew';
  await putMonitor(redis, zone, { id: 'm-skew', ctype: 'http-get-statuscode', data: { url: `${slow.url}/`, codes: ['200'] }, interval: 1 }, 3_600_000);
  const cluster = new Cluster({ redisUrl: server.url, zone, concurrency: 4 });
  cluster.ports = await freePorts();
  await cluster.startBroker();
  await cluster.startWorker();
  await cluster.startSink();
  const push = new Push();
  push.connect(cluster.url(cluster.ports.jobsIn));
  try {
    const behind = Date.now() - 5000;
    const job = {
      v: 1, type: 'job', monitorId: 'm-skew', name: 'm-skew', ctype: 'http-get-statuscode', data: { url: `${slow.url}/`, codes: ['200'] },
      timeoutMs: 1000, zone, due: behind, sent: behind + 5, interval: 1,
    };
    await push.send(JSON.stringify(job));
    await waitFor(async () => (await redis.hget(keys(zone).state('m-skew'), 'status')) === 'healthy', 5000, 'the skewed job to be run');
    assert.is(Number((await redis.hget(keys(zone).counters, 'broker.jobs_expired')) ?? 0), 0);
  } finally {
    push.close();
    await cluster.stop();
  }
});

test('a full broker queue pushes out its oldest jobs, and workers get the newest', async () => {
  const zone = 'full';
  const ports = await freePorts();
  const broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, redis, maxQueued: 3 });
  const push = new Push();
  push.connect(`tcp://127.0.0.1:${ports.jobsIn}`);
  const dealer = new Dealer();
  try {
    for (let i = 1; i <= 5; i++) {
      const now = Date.now();
      await push.send(JSON.stringify({ v: 1, type: 'job', monitorId: `m${i}`, name: `m${i}`, ctype: 'tcp-check', data: {}, timeoutMs: 1000, zone, due: now, sent: now, interval: 60 }));
    }
    await waitFor(() => broker.counters.totals.get('jobs_dropped_queue_full') === 2, 3000, 'two jobs pushed out');
    assert.is(broker.queued(), 3);
    dealer.connect(`tcp://127.0.0.1:${ports.workers}`);
    await dealer.send(JSON.stringify({ v: 1, type: 'credit', free: 10, received: 0 }));
    const got: string[] = [];
    // A worker is given the jobs of one dispatch as one message: [number, job, number, job, ...].
    while (got.length < 3) {
      const frames = await dealer.receive();
      for (let i = 1; i < frames.length; i += 2) got.push((JSON.parse(String(frames[i])) as { monitorId: string }).monitorId);
    }
    assert.equal(got, ['m3', 'm4', 'm5']);
  } finally {
    push.close();
    dealer.close();
    await broker.stop();
  }
});

test('a broker down for 3 s: the jobs held meanwhile are dropped as they leave the control, not sent as a burst', async () => {
  const zone = 'down';
  for (let i = 0; i < 5; i++) {
    await putMonitor(redis, zone, { id: `d${i}`, ctype: 'tcp-check', data: { host: '127.0.0.1', port: server.port }, interval: 1 }, i * 200);
  }
  const cluster = new Cluster({ redisUrl: server.url, zone, concurrency: 16 });
  cluster.ports = await freePorts();
  await cluster.startControl();
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const startedAt = Date.now();
    await cluster.startBroker();
    await cluster.startWorker();
    await cluster.startSink();
    await new Promise((r) => setTimeout(r, 2500));
    const history = await redis.xrange(keys(zone).history, '-', '+');
    const entries = history.flatMap(([, f]) => entryResults(f));
    assert.ok(entries.length >= 5, `${entries.length} results`);
    // Nothing checked later than its interval after it was due: the backlog of the outage was not run.
    const late = entries.map((e) => Number(e.checkedAt) - Number(e.due)).filter((ms) => ms > 1500);
    assert.equal(late, [], 'results of jobs older than their interval');
    assert.ok(entries.every((e) => Number(e.checkedAt) >= startedAt));
    assert.ok(Number(await redis.hget(keys(zone).counters, 'control.jobs_expired')) >= 5, 'the held jobs were counted as dropped');
  } finally {
    await cluster.stop();
  }
});

test.run();
