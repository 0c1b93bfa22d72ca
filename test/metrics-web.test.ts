import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { Push } from 'zeromq';
import { keys } from '../src/core/keys.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { httpPeer, type Peer } from './helpers/peers.js';
import { parsePrometheus, type PromText } from './helpers/prometheus.js';
import { RedisServer } from './helpers/redis-server.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';

const zone = 'default';
const k = keys(zone);
const server = new RedisServer();
let redis: Redis;
let w: WebFixture;
let target: Peer;
let cluster: Cluster;

test.before(async () => {
  await server.start();
  redis = server.client();
  redis.on('error', () => undefined); // the last test kills Redis
  target = await httpPeer((req, res) => {
    res.statusCode = req.url === '/down' ? 500 : 200;
    res.end('x');
  });
  w = await startWebFixture(server.url);
  await putReaction(redis, zone, { id: 'r-log', rtype: 'log', data: {} });
  await putMonitor(redis, zone, { id: 'm-ok', name: 'shop "front"\\1', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } });
  await putMonitor(redis, zone, { id: 'm-bad', name: 'api', ctype: 'http-get-statuscode', data: { url: `${target.url}/down`, codes: ['200'] }, reactions: ['r-log'] });
  // Due in an hour: never checked during the test.
  await putMonitor(redis, zone, { id: 'm-new', name: 'later', interval: 3600, ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } }, 3_600_000);
  cluster = await new Cluster({ redisUrl: server.url, zone }).start();
});
test.after(async () => {
  await cluster.stop();
  await w.stop();
  await target.close();
  redis.disconnect();
  await server.stop();
});

async function scrape(fx: WebFixture, key: string | null = null): Promise<PromText> {
  const r = await fx.call('/metrics', { key });
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await r.text());
}

test('/metrics, without a key: per-monitor status and latency, zone counters, lag and bad messages after real checks', async () => {
  const bad = new Push();
  bad.connect(cluster.url(cluster.ports.jobsIn));
  await bad.send('this is not json');
  const counter = async (f: string) => Number((await redis.hget(k.counters, f)) ?? 0);
  await waitFor(async () => (await redis.hget(k.state('m-ok'), 'status')) === 'healthy' && (await redis.hget(k.state('m-bad'), 'status')) === 'failed', 5000, 'both monitors checked');
  await waitFor(async () => (await counter('broker.bad_messages.malformed_json')) === 1 && (await counter('sink.reactions.ran')) >= 1 && (await counter('worker.checks.healthy')) >= 1,
    5000, 'counters flushed to Redis');
  bad.close();
  await new Promise((r) => setTimeout(r, 1100)); // past the 1 s cache of an earlier scrape

  const m = await scrape(w);
  const ok = { monitor_id: 'm-ok' };
  assert.is(m.value('cloudroutes_monitor_status', ok), 0, 'healthy');
  assert.is(m.value('cloudroutes_monitor_status', { monitor_id: 'm-bad' }), 1);
  assert.is(m.value('cloudroutes_monitor_status', { monitor_id: 'm-new' }), -1, 'not checked yet: unknown');
  assert.not.ok(m.samples.some((s) => 'monitor_name' in s.labels), 'no names by default');
  assert.ok(m.value('cloudroutes_monitor_failcount', { monitor_id: 'm-bad' })! >= 1);
  assert.is(m.value('cloudroutes_monitor_failcount', { monitor_id: 'm-ok' }), 0);
  const latency = m.value('cloudroutes_monitor_last_latency_seconds', ok)!;
  assert.ok(latency >= 0 && latency < 5, `latency ${latency}`);
  assert.is(m.value('cloudroutes_monitor_last_latency_seconds', { monitor_id: 'm-new' }), undefined, 'no latency before a check');
  assert.ok(Math.abs(m.value('cloudroutes_monitor_last_check_timestamp_seconds', ok)! - Date.now() / 1000) < 10);
  assert.is(m.value('cloudroutes_monitors', { status: 'healthy' }), 1);
  assert.is(m.value('cloudroutes_monitors', { status: 'failed' }), 1);
  assert.is(m.value('cloudroutes_monitors', { status: 'unknown' }), 1);

  assert.is(m.value('cloudroutes_redis_up'), 1);
  assert.ok(m.value('cloudroutes_zone_checks_total', { result: 'healthy' })! >= 1);
  assert.ok(m.value('cloudroutes_zone_checks_total', { result: 'failed' })! >= 1);
  assert.ok(m.value('cloudroutes_zone_reactions_total', { outcome: 'ran' })! >= 1);
  assert.ok(m.value('cloudroutes_zone_results_recorded_total')! >= 2);
  assert.is(m.value('cloudroutes_zone_bad_messages_dropped_total', { process: 'broker', reason: 'malformed_json' }), 1);
  assert.ok(m.value('cloudroutes_zone_counter_total', { process: 'control', counter: 'jobs_sent' })! >= 2);

  const lagCount = m.value('cloudroutes_zone_schedule_lag_seconds_count')!;
  assert.ok(lagCount >= 2);
  assert.is(m.value('cloudroutes_zone_schedule_lag_seconds_bucket', { le: '+Inf' }), lagCount);
  const buckets = m.samples.filter((s) => s.name === 'cloudroutes_zone_schedule_lag_seconds_bucket').map((s) => s.value);
  assert.equal(buckets, [...buckets].sort((a, b) => a - b), 'cumulative buckets never decrease');
  assert.ok(m.value('cloudroutes_zone_schedule_lag_max_seconds')! >= 0);

  assert.is(m.types.get('cloudroutes_monitor_status'), 'gauge');
  assert.is(m.types.get('cloudroutes_zone_checks_total'), 'counter');
  assert.is(m.types.get('cloudroutes_zone_schedule_lag_seconds'), 'histogram');
  assert.ok(m.value('process_cpu_user_seconds_total')! >= 0, 'default process metrics');
});

test('a fast scraper reads Redis at most once a second', async () => {
  const sorts = async () => Number(/cmdstat_sort:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
  await new Promise((r) => setTimeout(r, 1100));
  const before = await sorts();
  for (let i = 0; i < 5; i++) await scrape(w);
  assert.is(await sorts(), before + 1, 'five scrapes within a second: one read');
  await new Promise((r) => setTimeout(r, 1100));
  await scrape(w);
  assert.is(await sorts(), before + 2, 'a second later: read again');
});

test('with metricsNeedKey, /metrics needs an API key (a read-only one will do); /health stays open', async () => {
  const locked = await startWebFixture(server.url, {}, { metricsNeedKey: true });
  try {
    const none = await locked.call('/metrics', { key: null });
    assert.is(none.status, 401);
    assert.is(((await none.json()) as { error: { code: string } }).error.code, 'CR_UNAUTHORIZED');
    assert.is((await locked.call('/metrics', { key: 'cr_wrong' })).status, 401);
    // A scrape before the new web process's Redis connection is up truthfully says cloudroutes_redis_up 0.
    await waitFor(() => locked.web.deps.redis.status === 'ready', 3000, "the web process's Redis connection");
    const m = await scrape(locked, locked.readKey);
    assert.is(m.value('cloudroutes_monitor_status', { monitor_id: 'm-bad' }), 1);
    assert.ok([200, 503].includes((await locked.call('/health', { key: null })).status));
  } finally {
    await locked.stop();
  }
});

test('Redis down: /metrics still answers, with cloudroutes_redis_up 0 and no zone metrics', async () => {
  await cluster.stop();
  await server.kill();
  await waitFor(() => w.web.deps.redis.status !== 'ready', 3000, 'the web process to notice');
  await new Promise((r) => setTimeout(r, 1100));
  const started = Date.now();
  const m = await scrape(w);
  assert.ok(Date.now() - started < 1000, 'no wait for Redis');
  assert.is(m.value('cloudroutes_redis_up'), 0);
  assert.is(m.samples.filter((s) => s.name === 'cloudroutes_monitor_status').length, 0);
  assert.ok(m.value('process_cpu_user_seconds_total')! >= 0);
  await server.start();
  await waitFor(async () => (await scrape(w)).value('cloudroutes_redis_up') === 1, 8000, 'Redis back in /metrics');
});

test.run();
