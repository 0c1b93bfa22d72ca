/** Each process's own /metrics (broker, control, worker, sink, bridge), in this process with real sockets, Redis, SQLite and HTTP. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Dealer, Push } from 'zeromq';
import { startBridge, type Bridge } from '../src/bridge/bridge.js';
import { startBroker } from '../src/broker/broker.js';
import { loadSettings } from '../src/core/config.js';
import { Counters } from '../src/core/counters.js';
import { keys } from '../src/core/keys.js';
import { sinkMetrics } from '../src/core/metrics-process.js';
import { serveMetrics, type MetricsServer } from '../src/core/metrics-server.js';
import { encode, type JobMessage } from '../src/core/messages.js';
import { connectRedis } from '../src/core/redis.js';
import { startControl } from '../src/control/control.js';
import { startSink } from '../src/sink/sink.js';
import { startWorker } from '../src/worker/worker.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { Cluster, freePorts, putMonitor, putReaction, silent, waitFor } from './helpers/cluster.js';
import { httpPeer, type Peer } from './helpers/peers.js';
import { parsePrometheus, type PromText } from './helpers/prometheus.js';
import { RedisServer } from './helpers/redis-server.js';

const zone = 'pm';
const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-metrics-process-'));
const storeFile = join(dir, 'store.db');
let redis: Redis;
let target: Peer;
let cluster: Cluster;
let store: Store;
let bridge: Bridge;
const names = ['broker', 'control', 'worker', 'sink', 'bridge'] as const;
const servers: Record<(typeof names)[number], MetricsServer> = {} as never;

async function scrape(url: string): Promise<PromText> {
  const r = await fetch(url);
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await r.text());
}

/** A registry as `--metrics-port` makes one: default process metrics included. */
function registry(): Registry {
  const r = new Registry();
  collectDefaultMetrics({ register: r });
  return r;
}

test.before(async () => {
  await server.start();
  redis = server.client();
  target = await httpPeer((req, res) => {
    res.statusCode = req.url === '/down' ? 503 : 200;
    res.end('x');
  });
  // The bridge resyncs Redis from the store, so the store holds what Redis does.
  const settings = loadSettings({ REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${storeFile}`, CLOUDROUTES_DATA_DIR: dir });
  store = await openStore(settings.store, { busyTimeoutMs: 50 });
  await store.putReaction(await putReaction(redis, zone, { id: 'r-log', rtype: 'log', data: {} }));
  await store.putMonitor(await putMonitor(redis, zone, { id: 'm-up', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } }));
  await store.putMonitor(await putMonitor(redis, zone, { id: 'm-down', ctype: 'http-get-statuscode', data: { url: `${target.url}/down`, codes: ['200'] }, reactions: ['r-log'] }));
  cluster = new Cluster({ redisUrl: server.url, zone });
  cluster.ports = await freePorts();
  const conn = () => {
    const c = connectRedis(server.url, silent);
    cluster.redis.push(c);
    return c;
  };
  const reg = { broker: registry(), control: registry(), worker: registry(), sink: registry(), bridge: registry() };
  cluster.broker = await startBroker({ bind: '127.0.0.1', ports: cluster.ports, logger: silent, zone, redis: conn(), metrics: reg.broker });
  bridge = await startBridge({ settings, logger: silent, store, redis: conn(), blockMs: 100, metrics: reg.bridge });
  await bridge.ready;
  cluster.worker = await startWorker({
    jobs: cluster.url(cluster.ports.workers), zone, logger: silent, redis: conn(), metrics: reg.worker,
  });
  cluster.sink = await startSink({ redis: conn(), zone, logger: silent, metrics: reg.sink });
  cluster.control = await startControl({ redis: conn(), zone, brokers: [cluster.url(cluster.ports.jobsIn)], logger: silent, metrics: reg.control });
  for (const name of names) servers[name] = await serveMetrics(reg[name], '127.0.0.1', 0);
  await waitFor(async () => Number(await redis.hget(keys(zone).state('m-down'), 'failcount')) >= 2, 6000, 'two results of each monitor');
});
test.after(async () => {
  for (const s of Object.values(servers)) await s.close();
  await cluster.stop();
  await bridge.stop();
  await store.close();
  await target.close();
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the worker serves its counters: checks by result, check duration by type and result, running checks', async () => {
  const m = await scrape(servers.worker.url);
  assert.ok(m.value('cloudroutes_checks_total', { result: 'healthy' })! >= 2);
  assert.ok(m.value('cloudroutes_checks_total', { result: 'failed' })! >= 2);
  assert.is(m.value('cloudroutes_checks_total', { result: 'failed' }), cluster.worker!.counters.get('checks.failed'), 'the in-process totals');
  const n = m.value('cloudroutes_check_duration_seconds_count', { ctype: 'http-get-statuscode', result: 'healthy' })!;
  assert.ok(n >= 2);
  assert.is(m.value('cloudroutes_check_duration_seconds_bucket', { ctype: 'http-get-statuscode', result: 'healthy', le: '+Inf' }), n);
  assert.ok(m.value('cloudroutes_check_duration_seconds_sum', { ctype: 'http-get-statuscode', result: 'healthy' })! < n * 5);
  assert.ok(m.value('cloudroutes_checks_running')! >= 0);
  assert.is(m.types.get('cloudroutes_check_duration_seconds'), 'histogram');
  assert.ok(m.value('nodejs_heap_size_used_bytes')! > 0, 'default process metrics');
});

test('the sink serves latency per monitor, results recorded and reactions by outcome', async () => {
  await waitFor(() => cluster.sink!.counters.get('reactions.ran') >= 1, 5000, 'a reaction run');
  const m = await scrape(servers.sink.url);
  assert.ok(m.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'm-up' })! >= 2);
  assert.ok(m.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'm-down' })! >= 2);
  assert.ok(m.value('cloudroutes_results_recorded_total')! >= 4);
  assert.ok(m.value('cloudroutes_reactions_total', { outcome: 'ran' })! >= 1);
  assert.is(m.types.get('cloudroutes_monitor_latency_seconds'), 'histogram');
});

test('the control serves its schedule lag histogram and counters', async () => {
  const m = await scrape(servers.control.url);
  const n = m.value('cloudroutes_schedule_lag_seconds_count')!;
  assert.ok(n >= 4);
  assert.is(m.value('cloudroutes_schedule_lag_seconds_bucket', { le: '+Inf' }), n);
  assert.ok(m.value('cloudroutes_counter_total', { process: 'control', counter: 'jobs_sent' })! >= 4);
  assert.is(m.value('cloudroutes_checks_total', { result: 'healthy' }), undefined, 'a control runs no checks');
});

test('the broker serves jobs dispatched after real checks, the workers it knows and their credit', async () => {
  const b = cluster.broker!;
  const dispatchedBefore = b.counters.get('jobs_dispatched');
  const m = await scrape(servers.broker.url);
  const dispatched = m.value('cloudroutes_counter_total', { process: 'broker', counter: 'jobs_dispatched' })!;
  assert.ok(dispatched >= 4 && dispatched >= dispatchedBefore && dispatched <= b.counters.get('jobs_dispatched'), `${dispatched} jobs dispatched`);
  assert.is(m.value('cloudroutes_broker_workers'), 1);
  const credit = m.value('cloudroutes_broker_worker_credit')!;
  assert.ok(credit > 0 && credit <= 256, `credit ${credit} of a worker with 256 slots`);
  assert.is(m.value('cloudroutes_broker_jobs_queued'), 0);
  assert.is(m.value('cloudroutes_broker_oldest_job_age_seconds'), 0);
  assert.is(m.value('cloudroutes_broker_jobs_queued_limit'), 100_000);
  assert.is(m.types.get('cloudroutes_broker_jobs_queued'), 'gauge');
  assert.is(m.types.get('cloudroutes_bad_messages_dropped_total'), 'counter');
  assert.is(m.value('cloudroutes_checks_total', { result: 'healthy' }), undefined, 'a broker runs no checks');
  assert.ok(m.value('process_resident_memory_bytes')! > 0, 'default process metrics');
});

test('a broker with no worker shows its queued jobs and their age and bad messages by socket; a worker arriving takes the jobs', async () => {
  const ports = await freePorts();
  const reg = registry();
  const broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, metrics: reg });
  const srv = await serveMetrics(reg, '127.0.0.1', 0);
  const push = new Push({ linger: 0 });
  const dealer = new Dealer({ linger: 0 });
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    push.connect(`tcp://127.0.0.1:${ports.jobsIn}`);
    dealer.connect(`tcp://127.0.0.1:${ports.workers}`);
    const job: JobMessage = {
      v: 1, type: 'job', monitorId: 'm-queued', name: 'm-queued', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] },
      timeoutMs: 2000, zone, due: Date.now(), sent: Date.now(), interval: 60,
    };
    const firstSent = Date.now();
    for (let i = 0; i < 5; i++) await push.send(encode(job));
    await push.send('{not json');
    await push.send(encode({ ...job, v: 2 } as unknown as JobMessage));
    await dealer.send('{not json either');
    await waitFor(() => broker.queued() === 5 && broker.counters.get('bad_messages.malformed_json') === 2, 3000, 'five jobs queued, two bad messages');
    await new Promise((r) => setTimeout(r, 300));
    const m = await scrape(srv.url);
    const oldest = (Date.now() - firstSent) / 1000;
    assert.is(m.value('cloudroutes_broker_jobs_queued'), 5);
    assert.is(m.value('cloudroutes_broker_workers'), 0);
    assert.is(m.value('cloudroutes_broker_worker_credit'), 0);
    const age = m.value('cloudroutes_broker_oldest_job_age_seconds')!;
    assert.ok(age >= 0.25 && age <= oldest, `oldest job ${age} s old, sent ${oldest} s ago`);
    assert.is(m.value('cloudroutes_bad_messages_dropped_total', { process: 'broker', socket: 'jobs', reason: 'malformed_json' }), 1);
    assert.is(m.value('cloudroutes_bad_messages_dropped_total', { process: 'broker', socket: 'jobs', reason: 'unknown_version' }), 1);
    assert.is(m.value('cloudroutes_bad_messages_dropped_total', { process: 'broker', socket: 'workers', reason: 'malformed_json' }), 1);
    assert.is(m.value('cloudroutes_counter_total', { process: 'broker', counter: 'jobs_dispatched' }), undefined, 'nothing dispatched yet');

    worker = await startWorker({ jobs: `tcp://127.0.0.1:${ports.workers}`, zone, logger: silent, redis });
    await waitFor(() => worker!.counters.get('checks.healthy') === 5, 5000, 'the five queued jobs checked');
    const after = await scrape(srv.url);
    assert.is(after.value('cloudroutes_broker_jobs_queued'), 0);
    assert.is(after.value('cloudroutes_broker_oldest_job_age_seconds'), 0);
    assert.is(after.value('cloudroutes_counter_total', { process: 'broker', counter: 'jobs_dispatched' }), 5);
    assert.is(after.value('cloudroutes_broker_workers'), 1);
  } finally {
    push.close();
    dealer.close();
    await worker?.stop();
    await srv.close();
    await broker.stop();
  }
});

test('the bridge serves entries and batches written, resyncs, entries waiting, when it last drained and that the store is up', async () => {
  await waitFor(() => bridge.counters.get('history_written') >= 4 && bridge.counters.get('events_written') >= 1, 5000, 'history and events written');
  const m = await scrape(servers.bridge.url);
  const written = m.value('cloudroutes_counter_total', { process: 'bridge', counter: 'history_written' })!;
  const stored = (await store.history({ monitorId: 'm-up' })).length + (await store.history({ monitorId: 'm-down' })).length;
  assert.ok(written >= 4 && written <= stored, `${written} written, ${stored} in the store`);
  const batches = m.value('cloudroutes_counter_total', { process: 'bridge', counter: 'history_batches_written' })!;
  assert.ok(batches >= 1 && batches <= written, `${batches} batches`);
  assert.ok(m.value('cloudroutes_counter_total', { process: 'bridge', counter: 'events_written' })! >= 1);
  assert.ok(m.value('cloudroutes_counter_total', { process: 'bridge', counter: 'resyncs' })! >= 1);
  assert.is(m.value('cloudroutes_bridge_store_up'), 1);
  assert.is(m.value('cloudroutes_bridge_config_sync_up'), 1);
  assert.is(m.value('cloudroutes_redis_up'), 1);
  for (const stream of ['history', 'events']) {
    assert.ok(m.value('cloudroutes_bridge_entries_waiting', { stream })! <= 2, `${stream} drained`);
    const ago = Date.now() / 1000 - m.value('cloudroutes_bridge_last_drain_timestamp_seconds', { stream })!;
    assert.ok(ago >= 0 && ago < 2, `${stream} drained ${ago} s ago`);
  }
});

test('a locked store: the bridge shows the store down, entries waiting and its last drain falling behind; unlocked, all is drained', async () => {
  const lock = new Database(storeFile);
  try {
    lock.exec('BEGIN EXCLUSIVE');
    const down = await waitFor(async () => {
      const m = await scrape(servers.bridge.url);
      return m.value('cloudroutes_bridge_store_up') === 0 && m.value('cloudroutes_bridge_entries_waiting', { stream: 'history' })! >= 3 ? m : undefined;
    }, 8000, 'store_up 0 with results waiting');
    assert.ok(down.value('cloudroutes_counter_total', { process: 'bridge', counter: 'store_errors' })! >= 1);
    const ago = Date.now() / 1000 - down.value('cloudroutes_bridge_last_drain_timestamp_seconds', { stream: 'history' })!;
    assert.ok(ago > 0.5, `history last drained ${ago} s ago`);
  } finally {
    if (lock.inTransaction) lock.exec('COMMIT');
    lock.close();
  }
  await waitFor(async () => {
    const m = await scrape(servers.bridge.url);
    return m.value('cloudroutes_bridge_store_up') === 1 && m.value('cloudroutes_bridge_entries_waiting', { stream: 'history' })! <= 2;
  }, 8000, 'store_up 1 and the history drained');
});

test('only GET /metrics is served', async () => {
  const base = servers.worker.url.replace(/\/metrics$/, '');
  assert.is((await fetch(`${base}/`)).status, 404);
  assert.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
  assert.is((await fetch(`${base}/metrics?x=1`)).status, 200);
});

test('a port in use is refused at start, naming the port', async () => {
  const port = Number(new URL(servers.worker.url).port);
  try {
    await serveMetrics(new Registry(), '127.0.0.1', port);
    assert.unreachable('listened twice on one port');
  } catch (err) {
    assert.match((err as Error).message, new RegExp(`--metrics-port="${port}" is invalid: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
  }
});

test("the sink's latency series are bounded: monitors past the cap share monitor_id=\"other\"", async () => {
  const reg = new Registry();
  const m = sinkMetrics(reg, new Counters(undefined, 'unused', 'sink'), 2);
  for (const id of ['a', 'b', 'c', 'd', 'a']) m.latency(id, 10);
  const text = parsePrometheus(await reg.metrics());
  assert.is(text.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'a' }), 2);
  assert.is(text.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'b' }), 1);
  assert.is(text.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'other' }), 2);
  assert.is(text.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'c' }), undefined);
});

test('the sink\'s fix-to-healthy histogram: seconds by reaction, reactions past the cap share reaction_id="other"', async () => {
  const reg = new Registry();
  const m = sinkMetrics(reg, new Counters(undefined, 'unused', 'sink'), 2);
  for (const [id, ms] of [['r-a', 4000], ['r-b', 1000], ['r-c', 700], ['r-a', 2000]] as const) m.fixed(id, ms);
  const text = parsePrometheus(await reg.metrics());
  assert.is(text.value('cloudroutes_fix_to_healthy_seconds_count', { reaction_id: 'r-a' }), 2);
  assert.is(text.value('cloudroutes_fix_to_healthy_seconds_sum', { reaction_id: 'r-a' }), 6);
  assert.is(text.value('cloudroutes_fix_to_healthy_seconds_bucket', { reaction_id: 'r-a', le: '2.5' }), 1);
  assert.is(text.value('cloudroutes_fix_to_healthy_seconds_count', { reaction_id: 'other' }), 1);
  assert.is(text.value('cloudroutes_fix_to_healthy_seconds_count', { reaction_id: 'r-c' }), undefined);
});

test.run();
