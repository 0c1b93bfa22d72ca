/** `cloudroutes broker | control | worker | sink | bridge --metrics-port`: the Procfile processes as real OS processes serve their own /metrics. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { openStore } from '../src/store/open.js';
import { putMonitor, waitFor } from './helpers/cluster.js';
import { httpPeer, type Peer } from './helpers/peers.js';
import { cli, Proc } from './helpers/procs.js';
import { scrapePrometheus as scrape } from './helpers/prometheus.js';
import { freePort, freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-metrics-procs-'));
const server = new RedisServer();
let redis: Redis;
let target: Peer;
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
const urls: Record<string, string> = {};

test.before(async () => {
  await server.start();
  redis = server.client();
  target = await httpPeer((_req, res) => res.end('ok'));
  Object.assign(env, {
    REDIS_URL: server.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'ab'.repeat(32),
  });
  // The bridge resyncs Redis from the store, so the monitor is in both.
  const store = await openStore(env.CLOUDROUTES_STORE!);
  await store.putMonitor(await putMonitor(redis, 'default', { id: 'm-web', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } }));
  await store.close();
  const [brokerPort, controlPort, workerPort, bridgePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const started = {
    broker: new Proc(['broker', '--metrics-port', String(brokerPort)], env),
    control: new Proc(['control', '--metrics-port', String(controlPort), '--metrics-host', '127.0.0.1'], env),
    worker: new Proc(['worker'], { ...env, CLOUDROUTES_METRICS_PORT: String(workerPort) }),
    sink: new Proc(['sink', '--metrics-port', '0'], env),
    // Any 127.x address is this machine's loopback on Linux: the address shows that the setting was used.
    bridge: new Proc(['bridge'], { ...env, CLOUDROUTES_METRICS_PORT: String(bridgePort), CLOUDROUTES_METRICS_HOST: '127.0.0.2' }),
  };
  for (const p of Object.values(started)) procs.push(p.start());
  for (const name of Object.keys(started) as (keyof typeof started)[]) {
    await started[name].waitFor(`"${name} metrics listening"`);
    urls[name] = /"url":"(http:[^"]+)"/.exec(started[name].output.split('\n').find((l) => l.includes('metrics listening'))!)![1]!;
  }
  assert.is(urls.broker, `http://127.0.0.1:${brokerPort}/metrics`);
  assert.is(urls.control, `http://127.0.0.1:${controlPort}/metrics`);
  assert.is(urls.worker, `http://127.0.0.1:${workerPort}/metrics`, 'CLOUDROUTES_METRICS_PORT');
  assert.is(urls.bridge, `http://127.0.0.2:${bridgePort}/metrics`, 'CLOUDROUTES_METRICS_HOST');
  await waitFor(async () => Number(await redis.hget(keys('default').counters, 'bridge.history_written')) >= 2, 10_000, 'results recorded by the sink and stored by the bridge');
});
test.after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await target.close();
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('control, worker and sink processes answer /metrics with their own counters and histograms', async () => {
  const control = await scrape(urls.control!);
  assert.ok(control.value('cloudroutes_schedule_lag_seconds_count')! >= 2);
  assert.ok(control.value('cloudroutes_counter_total', { process: 'control', counter: 'jobs_sent' })! >= 2);
  const worker = await scrape(urls.worker!);
  assert.ok(worker.value('cloudroutes_checks_total', { result: 'healthy' })! >= 2);
  assert.ok(worker.value('cloudroutes_check_duration_seconds_count', { ctype: 'http-get-statuscode', result: 'healthy' })! >= 2);
  assert.is(worker.types.get('cloudroutes_checks_running'), 'gauge');
  const sink = await scrape(urls.sink!);
  assert.ok(sink.value('cloudroutes_monitor_latency_seconds_count', { monitor_id: 'm-web' })! >= 2);
  assert.ok(sink.value('cloudroutes_results_recorded_total')! >= 2);
  for (const m of [control, worker, sink]) assert.ok(m.value('process_resident_memory_bytes')! > 0, 'default process metrics');
});

test('broker and bridge processes answer /metrics: jobs dispatched and results forwarded, workers, entries stored and the store up', async () => {
  const broker = await scrape(urls.broker!);
  const worker = await scrape(urls.worker!);
  const checked = worker.value('cloudroutes_checks_total', { result: 'healthy' })!;
  assert.ok(broker.value('cloudroutes_counter_total', { process: 'broker', counter: 'jobs_dispatched' })! >= checked, 'every check was a job the broker dispatched');
  assert.ok(broker.value('cloudroutes_counter_total', { process: 'broker', counter: 'results_forwarded' })! >= 2);
  assert.is(broker.value('cloudroutes_broker_workers'), 1);
  assert.is(broker.value('cloudroutes_broker_jobs_queued'), 0);
  const bridge = await scrape(urls.bridge!);
  const stored = Number(await redis.hget(keys('default').counters, 'bridge.history_written'));
  assert.ok(bridge.value('cloudroutes_counter_total', { process: 'bridge', counter: 'history_written' })! >= stored, 'at least what it had flushed to Redis');
  assert.ok(bridge.value('cloudroutes_counter_total', { process: 'bridge', counter: 'resyncs' })! >= 1);
  assert.is(bridge.value('cloudroutes_bridge_store_up'), 1);
  assert.ok(bridge.value('cloudroutes_bridge_entries_waiting', { stream: 'history' })! <= 2);
  for (const m of [broker, bridge]) assert.ok(m.value('process_resident_memory_bytes')! > 0, 'default process metrics');
});

test('a metrics port already in use stops the process at start with a message naming it', async () => {
  const port = new URL(urls.worker!).port;
  const r = await cli(['worker', '--metrics-port', port], { ...env, LOG_LEVEL: 'silent' });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, `error [CR_BAD_SETTING]: setting --metrics-port="${port}" is invalid: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  for (const proc of ['broker', 'bridge']) {
    const taken = new URL(urls[proc]!).port;
    const r2 = await cli([proc, '--metrics-port', taken, '--metrics-host', new URL(urls[proc]!).hostname], { ...env, LOG_LEVEL: 'info', CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)) });
    assert.is(r2.code, 2, `${proc}: ${r2.stderr}`);
    assert.not.match(r2.stdout + r2.stderr, /"(broker listening|bridge started)"/, 'stopped before binding or reading anything');
    assert.match(r2.stderr, `setting --metrics-port="${taken}" is invalid: cannot listen on ${new URL(urls[proc]!).hostname}:${taken} (EADDRINUSE)`);
  }
  const bad = await cli(['sink', '--metrics-port', 'ninety'], { ...env, LOG_LEVEL: 'silent' });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, 'setting --metrics-port="ninety" is invalid: expected a port number');
});

test.run();
