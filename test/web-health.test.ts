import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadSettings } from '../src/core/config.js';
import { keys } from '../src/core/keys.js';
import { startWeb, type Web } from '../src/web/start.js';
import { HealthProbe, type HealthReport } from '../src/web/routes/health.js';
import { Cluster, putMonitor, silent, waitFor } from './helpers/cluster.js';
import { httpPeer, silentPeer, type Peer } from './helpers/peers.js';
import { RedisServer, freePort, freePortRange } from './helpers/redis-server.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';

// Results older than this make /health say "results" are down (the default is two intervals plus 30 s).
process.env.CLOUDROUTES_HEALTH_RESULT_AGE = '3s';

const server = new RedisServer();
let redis: Redis;
let w: WebFixture;
let target: Peer;
const dirs: string[] = [];

test.before(async () => {
  await server.start();
  redis = server.client();
  w = await startWebFixture(server.url);
  target = await httpPeer((_req, res) => res.end('ok'));
});
test.after(async () => {
  await w.stop();
  await target.close();
  redis.disconnect();
  await server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A web process of `zone` on the test Redis with the store `store`. */
async function bareWeb(store: string, zone: string): Promise<Web> {
  const dir = mkdtempSync(join(tmpdir(), 'cr-health-'));
  dirs.push(dir);
  const settings = loadSettings({
    REDIS_URL: server.url, CLOUDROUTES_STORE: store, CLOUDROUTES_ZONE: zone, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: '12'.repeat(32),
  });
  return startWeb({ settings, logger: silent, host: '127.0.0.1', port: 0 });
}

async function health(url: string): Promise<{ status: number; body: HealthReport }> {
  const r = await fetch(`${url}/health`);
  assert.is(r.headers.get('content-type')?.split(';')[0], 'application/json');
  return { status: r.status, body: (await r.json()) as HealthReport };
}

test('an empty install is healthy, and /health needs no API key', async () => {
  const r = await w.call('/health', { key: null });
  assert.is(r.status, 200);
  const body = (await r.json()) as HealthReport;
  assert.is(body.status, 'ok');
  assert.equal(body.down, []);
  assert.is(body.redis.up, true);
  assert.ok(body.redis.latencyMs! >= 0);
  assert.is(body.store.up, true);
  assert.is(body.lastResult.monitors, 0);
  assert.is(body.lastResult.at, null, 'no result was ever recorded');
  assert.match(body.lastResult.note!, /no monitors/);
});

test('with monitors checked: 200 with the newest result; when results stop: 503 naming "results"', async () => {
  await putMonitor(redis, 'default', { id: 'm-site', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } });
  const cluster = await new Cluster({ redisUrl: server.url, zone: 'default', heartbeats: true }).start();
  try {
    await waitFor(() => redis.hget(keys('default').state('m-site'), 'lastCheck'), 5000, 'a first result');
    const ok = await health(w.web.url);
    assert.is(ok.status, 200, JSON.stringify(ok.body));
    assert.is(ok.body.lastResult.monitors, 1);
    assert.ok(ok.body.lastResult.at! > Date.now() - 5000);
    assert.ok(ok.body.lastResult.ageMs! >= 0 && ok.body.lastResult.ageMs! < 3000);
    assert.is(ok.body.lastResult.staleAfterMs, 3000);
    assert.equal(ok.body.processes.live, { broker: 1, worker: 1, sink: 1, control: 1 });
    assert.equal(ok.body.processes.missing, []);
  } finally {
    await cluster.stop();
  }
  const stopped = await waitFor(async () => {
    const h = await health(w.web.url);
    return h.status === 503 ? h : undefined;
  }, 8000, '/health to notice that results stopped');
  assert.is(stopped.body.status, 'down');
  assert.equal(stopped.body.down, ['results']);
  assert.is(stopped.body.redis.up, true);
  assert.is(stopped.body.store.up, true);
  assert.ok(stopped.body.lastResult.ageMs! > 3000);
  assert.match(stopped.body.lastResult.error!, /newest result was recorded \d+ s ago.*control, broker, worker and sink of zone "default"/);
});

test('by default a result is expected within two intervals of the most frequent monitor plus 30 s', async () => {
  await putMonitor(redis, 'slow', { id: 'm-slow', interval: 45, ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } }, 3_600_000);
  await putMonitor(redis, 'slow', { id: 'm-slower', interval: 300, ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } }, 3_600_000);
  const probe = new HealthProbe({ redis, store: async () => w.store, settings: { ...w.web.deps.settings, zone: 'slow' } });
  const report = await probe.check();
  assert.is(report.status, 'ok', 'never checked, but the web process only just looked');
  assert.is(report.lastResult.staleAfterMs, 2 * 45_000 + 30_000);
  assert.is(report.lastResult.monitors, 2);
});

test('a store that cannot be reached: 503 naming the store, without its password', async () => {
  const closed = await freePort();
  const web = await bareWeb(`rethinkdb://admin:s3cret@127.0.0.1:${closed}/cr`, 'nostore');
  try {
    const h = await health(web.url);
    assert.is(h.status, 503);
    assert.equal(h.body.down, ['store']);
    assert.is(h.body.store.up, false);
    assert.is(h.body.redis.up, true);
    assert.match(h.body.store.error!, /ECONNREFUSED|connect|unreachable/i);
    assert.not.match(JSON.stringify(h.body), /s3cret/);
  } finally {
    await web.stop();
  }
});

test('a store path that is a directory: 503 naming the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cr-store-dir-'));
  dirs.push(dir);
  const web = await bareWeb(`sqlite:${dir}`, 'dirstore');
  try {
    const h = await health(web.url);
    assert.is(h.status, 503);
    assert.equal(h.body.down, ['store']);
    assert.ok(h.body.store.error!.length > 0);
  } finally {
    await web.stop();
  }
});

test('a store that accepts connections and never answers: 503 within the probe timeout', async () => {
  const hang = await silentPeer();
  const web = await bareWeb(`rethinkdb://127.0.0.1:${hang.port}/cr`, 'hangstore');
  try {
    const started = Date.now();
    const h = await health(web.url);
    assert.ok(Date.now() - started < 3500, `answered after ${Date.now() - started} ms`);
    assert.is(h.status, 503);
    assert.equal(h.body.down, ['store']);
    assert.match(h.body.store.error!, /did not answer within 2000 ms/);
  } finally {
    await hang.close();
    await web.stop();
  }
});

test('Redis killed: 503 naming redis at once; 200 again when it is back', async () => {
  const web = await bareWeb(`sqlite:${join(mkdtempSync(join(tmpdir(), 'cr-health-store-')), 'store.db')}`, 'quiet');
  try {
    assert.is((await health(web.url)).status, 200);
    await server.kill();
    const down = await waitFor(async () => {
      const h = await health(web.url);
      return h.status === 503 ? h : undefined;
    }, 3000, '/health to notice Redis is gone');
    assert.equal(down.body.down, ['redis']);
    assert.is(down.body.redis.up, false);
    assert.match(down.body.redis.error!, /Redis is not connected/);
    assert.is(down.body.store.up, true, 'the store still answers');
    assert.is(down.body.lastResult.at, null);
    await server.start();
    await waitFor(async () => (await health(web.url)).status === 200, 8000, '/health to be 200 again');
  } finally {
    await web.stop();
  }
});

test.run();
