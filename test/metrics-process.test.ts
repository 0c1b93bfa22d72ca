/** The control's, worker's and sink's own /metrics, in this process with real sockets, Redis and HTTP. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Counters } from '../src/core/counters.js';
import { keys } from '../src/core/keys.js';
import { sinkMetrics } from '../src/core/metrics-process.js';
import { serveMetrics, type MetricsServer } from '../src/core/metrics-server.js';
import { connectRedis } from '../src/core/redis.js';
import { startControl } from '../src/control/control.js';
import { startSink } from '../src/sink/sink.js';
import { startWorker } from '../src/worker/worker.js';
import { Cluster, freePorts, putMonitor, putReaction, silent, waitFor } from './helpers/cluster.js';
import { httpPeer, type Peer } from './helpers/peers.js';
import { parsePrometheus, type PromText } from './helpers/prometheus.js';
import { RedisServer } from './helpers/redis-server.js';

const zone = 'pm';
const server = new RedisServer();
let redis: Redis;
let target: Peer;
let cluster: Cluster;
const servers: Record<'control' | 'worker' | 'sink', MetricsServer> = {} as never;

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
  await putReaction(redis, zone, { id: 'r-log', rtype: 'log', data: {} });
  await putMonitor(redis, zone, { id: 'm-up', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } });
  await putMonitor(redis, zone, { id: 'm-down', ctype: 'http-get-statuscode', data: { url: `${target.url}/down`, codes: ['200'] }, reactions: ['r-log'] });
  cluster = new Cluster({ redisUrl: server.url, zone });
  cluster.ports = await freePorts();
  await cluster.startBroker();
  const conn = () => {
    const c = connectRedis(server.url, silent);
    cluster.redis.push(c);
    return c;
  };
  const reg = { control: registry(), worker: registry(), sink: registry() };
  cluster.worker = await startWorker({
    jobs: cluster.url(cluster.ports.workers), results: cluster.url(cluster.ports.resultsIn), zone, logger: silent, redis: conn(), metrics: reg.worker,
  });
  cluster.sink = await startSink({ results: cluster.url(cluster.ports.sinks), redis: conn(), zone, logger: silent, metrics: reg.sink });
  cluster.control = await startControl({ redis: conn(), zone, brokers: [cluster.url(cluster.ports.jobsIn)], logger: silent, metrics: reg.control });
  for (const name of ['control', 'worker', 'sink'] as const) servers[name] = await serveMetrics(reg[name], '127.0.0.1', 0);
  await waitFor(async () => Number(await redis.hget(keys(zone).state('m-down'), 'failcount')) >= 2, 6000, 'two results of each monitor');
});
test.after(async () => {
  for (const s of Object.values(servers)) await s.close();
  await cluster.stop();
  await target.close();
  redis.disconnect();
  await server.stop();
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

test.run();
