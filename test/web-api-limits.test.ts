import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, type Bridge } from '../src/bridge/bridge.js';
import { loadSettings } from '../src/core/config.js';
import { keys } from '../src/core/keys.js';
import { MAX_DATA_BYTES, MAX_FREQUENCY_S, MAX_INTERVAL_S, MAX_NAME_LENGTH, MAX_TIMEOUT_MS } from '../src/core/limits.js';
import type { Monitor, Reaction } from '../src/core/types.js';
import { Cluster, silent, waitFor } from './helpers/cluster.js';
import { RedisServer } from './helpers/redis-server.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';
import type { ErrorBody } from './helpers/web-api.js';

const FIXTURE_CHECKS = fileURLToPath(new URL('../../test/fixtures/checks', import.meta.url));
const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-limits-'));
let fx: WebFixture;

test.before(async () => {
  await server.start();
  fx = await startWebFixture(server.url, { CLOUDROUTES_CHECKS_PATH: FIXTURE_CHECKS });
});
test.after(async () => {
  await fx.stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const send = (method: string, path: string, body: string) => fx.call(path, { method, headers: { 'content-type': 'application/json' }, body });

/** Sends `body` (an object, or JSON text for values JSON.stringify cannot write) and expects 400 with `code` naming `field`. */
async function refused(path: string, body: unknown, code: string, field: string, message?: RegExp): Promise<void> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await send('POST', path, text);
  const answer = await res.text();
  assert.is(res.status, 400, `${text.slice(0, 200)}: ${answer}`);
  const { error } = JSON.parse(answer) as ErrorBody;
  assert.is(error.code, code, `${text.slice(0, 200)}: ${answer}`);
  assert.is(error.field, field, `${text.slice(0, 200)}: ${answer}`);
  if (message) assert.match(error.message, message);
}

const SITE = { name: 'site', ctype: 'tcp-check', interval: '10s', data: { host: '127.0.0.1', port: 9 } };
const HOOK = { name: 'hook', rtype: 'webhook', data: { url: 'http://127.0.0.1:9/hook' } };

test('intervals, durations and timeouts out of the limits are refused with 400 naming the field', async () => {
  const path = '/api/v1/monitors';
  for (const interval of [1e308, '1e308s', -1, '-1', 0.5, '0.5s', 'NaN', 'Infinity', 'nan', '', '8d', MAX_INTERVAL_S + 1, '99999999999999999999d']) {
    await refused(path, { ...SITE, interval }, 'CR_BAD_INTERVAL', 'interval', /at least 1s and at most 7d/);
  }
  // JSON has no Infinity, but a number too large for a double parses to it: the body's shape check takes no such number.
  await refused(path, '{"name":"site","ctype":"tcp-check","interval":1e999,"data":{"host":"127.0.0.1","port":9}}', 'CR_BAD_REQUEST', 'interval', /must be number/);
  await refused(path, { ...SITE, data: { ...SITE.data, timeoutMs: 1e308 } }, 'CR_BAD_DATA', 'data.timeoutMs');
  await refused(path, { ...SITE, data: { ...SITE.data, timeoutMs: -1 } }, 'CR_BAD_DATA', 'data.timeoutMs');
  await refused(path, { ...SITE, data: { ...SITE.data, timeoutMs: 1.5 } }, 'CR_BAD_DATA', 'data.timeoutMs');
  // A module whose schema says nothing of timeoutMs: the control would still read it, so the limit holds.
  const free = { name: 'free', ctype: 'free-form', interval: '10s' };
  for (const timeoutMs of [MAX_TIMEOUT_MS + 1, 0, -1, 1.5, 1e308]) {
    await refused(path, { ...free, data: { timeoutMs } }, 'CR_BAD_DATA', 'data.timeoutMs', /from 1 to 600000/);
  }
  await refused(path, { ...free, data: { timeoutMs: '5s' } }, 'CR_BAD_DATA', 'data.timeoutMs');
  await refused(path, { ...SITE, name: 'x'.repeat(MAX_NAME_LENGTH + 1) }, 'CR_BAD_REQUEST', 'name');
  await refused(path, { ...free, data: { blob: 'x'.repeat(MAX_DATA_BYTES) } }, 'CR_BAD_DATA', 'data', /at most 65536/);
  await refused(path, { ...SITE, data: { host: '127.0.0.1', port: 9, timeoutMs: 300_001 } }, 'CR_BAD_DATA', 'data.timeoutMs', /<= 300000/);
  await refused(path, { name: 'p', ctype: 'ping', interval: '10s', data: { host: '127.0.0.1', maxRttMs: 1e308 } }, 'CR_BAD_DATA', 'data.maxRttMs');
  await refused(path, { name: 't', ctype: 'tls-certificate', interval: '1h', data: { host: '127.0.0.1', minDays: 1e308 } }, 'CR_BAD_DATA', 'data.minDays');
  assert.equal(await fx.store.listMonitors(), [], 'nothing reached the store');

  const rpath = '/api/v1/reactions';
  for (const frequency of [1e308, '1e308s', -1, 'NaN', 'Infinity', '31d', MAX_FREQUENCY_S + 1]) {
    await refused(rpath, { ...HOOK, frequency }, 'CR_BAD_SETTING', 'frequency');
  }
  await refused(rpath, { ...HOOK, trigger: 1e308 }, 'CR_BAD_SETTING', 'trigger', /1 to 100000/);
  assert.equal(await fx.store.listReactions(), []);
});

test('webhook and HTTP headers and URLs are checked as HTTP allows, naming the field and never echoing the value', async () => {
  const path = '/api/v1/reactions';
  const headers = (h: Record<string, string>) => ({ ...HOOK, data: { ...HOOK.data, headers: h } });
  await refused(path, headers({ 'X-Foo': 'a\r\nX-Injected: 1' }), 'CR_BAD_DATA', 'data.headers.X-Foo', /line break \(CR or LF\)/);
  await refused(path, headers({ 'X-Foo': 'a\nb' }), 'CR_BAD_DATA', 'data.headers.X-Foo');
  await refused(path, headers({ 'X-Foo': 'a\u0000b' }), 'CR_BAD_DATA', 'data.headers.X-Foo', /NUL/);
  await refused(path, headers({ 'X-Foo': ' padded' }), 'CR_BAD_DATA', 'data.headers.X-Foo', /starts or ends with a space/);
  await refused(path, headers({ 'X-Foo': 'snow \u2603' }), 'CR_BAD_DATA', 'data.headers.X-Foo', /above U\+00FF/);
  await refused(path, headers({ 'X:Foo': 'v' }), 'CR_BAD_DATA', 'data.headers.X:Foo', /not a valid HTTP header name/);
  await refused(path, headers({ 'Transfer-Encoding': 'chunked' }), 'CR_BAD_DATA', 'data.headers.Transfer-Encoding', /set by the HTTP client/);
  const secret = await send('POST', path, JSON.stringify(headers({ authorization: 'Bearer s3cr3t-value\r\n' })));
  assert.is(secret.status, 400);
  assert.not.match(await secret.text(), /s3cr3t/, 'the value, which may be a secret, is not in the answer');
  await refused(path, { ...HOOK, data: { url: 'http://' } }, 'CR_BAD_DATA', 'data.url', /not a URL/);
  await refused(path, { ...HOOK, data: { url: 'ftp://example.com/' } }, 'CR_BAD_DATA', 'data.url', /http:\/\/ or https:\/\//);
  await refused(path, { ...HOOK, data: { url: 'https://exa mple.com/' } }, 'CR_BAD_DATA', 'data.url');
  await refused(path, { ...HOOK, data: { url: 'http://127.0.0.1/a b' } }, 'CR_BAD_DATA', 'data.url', /spaces/);
  await refused(path, { name: 'h', rtype: 'http', data: { url: 'http://127.0.0.1/', contentType: 'text/plain\r\nX: 1' } }, 'CR_BAD_DATA', 'data.contentType');
  await refused(path, { name: 'h', rtype: 'http', data: { url: 'http://127.0.0.1/', headers: { 'bad name': 'v' } } }, 'CR_BAD_DATA', 'data.headers.bad name');
  await refused('/api/v1/monitors', { name: 'w', ctype: 'http-get-statuscode', interval: '10s', data: { url: 'http://127.0.0.1/', headers: { 'X-A': 'x\r\n' } } },
    'CR_BAD_DATA', 'data.headers.X-A');
  assert.equal(await fx.store.listReactions(), []);

  const ok = await send('POST', path, JSON.stringify(headers({ authorization: 'Bearer abc', 'x-tab': 'a\tb', 'x-latin': 'caf\u00e9' })));
  assert.is(ok.status, 201, await ok.text());
});

test('a document for apply with a value out of the limits changes nothing', async () => {
  const before = await (await fx.call('/api/v1/config?format=json')).text();
  const doc = {
    reactions: [{ name: 'ok-hook', rtype: 'webhook', data: { url: 'http://127.0.0.1:9/' } }],
    monitors: [{ name: 'fine', ctype: 'tcp-check', interval: '1m', data: { host: '127.0.0.1', port: 9 } }, { ...SITE, name: 'slow', interval: '30d' }],
  };
  const res = await send('POST', '/api/v1/config', JSON.stringify(doc));
  const answer = await res.text();
  assert.is(res.status, 400, answer);
  const { error } = JSON.parse(answer) as ErrorBody;
  assert.is(error.code, 'CR_BAD_DOCUMENT');
  assert.is(error.field, 'monitors[1].interval');
  assert.is(await (await fx.call('/api/v1/config?format=json')).text(), before, 'the store is as it was');
});

test('a monitor at the largest interval and time limit is saved, applied by the bridge, and its job is decoded and checked', async () => {
  const zone = 'limits';
  const redis: Redis = server.client();
  const settings = loadSettings({ REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${join(dir, 'unused.db')}`, CLOUDROUTES_DATA_DIR: dir });
  let bridge: Bridge | undefined;
  const cluster = new Cluster({ redisUrl: server.url, zone, checksPath: [FIXTURE_CHECKS] });
  try {
    const over = await send('POST', '/api/v1/monitors', JSON.stringify({ name: 'weekly', ctype: 'free-form', interval: MAX_INTERVAL_S + 1, data: {} }));
    assert.is(over.status, 400, 'one second more is refused');
    const res = await send('POST', '/api/v1/monitors', JSON.stringify({ name: 'weekly', ctype: 'free-form', interval: '7d', data: { timeoutMs: MAX_TIMEOUT_MS } }));
    const text = await res.text();
    assert.is(res.status, 201, text);
    const m = JSON.parse(text) as Monitor;
    assert.is(m.interval, MAX_INTERVAL_S);

    bridge = await startBridge({ settings, logger: silent, store: fx.store });
    const k = keys(zone);
    await waitFor(async () => (await redis.hget(k.intervals, m.id)) === String(MAX_INTERVAL_S * 1000), 5000, 'monitor applied to Redis');
    assert.is(bridge.counters.get('monitors_refused'), 0);
    // Its first slot is somewhere in the coming week: bring it to now rather than wait.
    await redis.zadd(k.schedule, Date.now(), m.id);
    await cluster.start();
    const state = await waitFor(async () => {
      const s = await redis.hgetall(k.state(m.id));
      return s.status ? s : undefined;
    }, 8000, 'the worker checked the monitor');
    assert.is(state.status, 'healthy', JSON.stringify(state));
    assert.match(state.message!, new RegExp(`time limit of ${MAX_TIMEOUT_MS} ms`), 'the job carried the largest time limit, and the worker decoded it');
    const refusedByWorker = [...cluster.worker!.counters.totals.keys()].filter((c) => c.startsWith('bad_messages'));
    assert.equal(refusedByWorker, [], 'the worker refused no job');
  } finally {
    await cluster.stop();
    await bridge?.stop();
    redis.disconnect();
  }
});

test('a reaction at the largest frequency is saved and applied as stored', async () => {
  const res = await send('POST', '/api/v1/reactions', JSON.stringify({ ...HOOK, name: 'monthly', frequency: '30d', trigger: 100_000 }));
  const text = await res.text();
  assert.is(res.status, 201, text);
  const r = JSON.parse(text) as Reaction;
  assert.is(r.frequency, MAX_FREQUENCY_S);
});

test.run();
