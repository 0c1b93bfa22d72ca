import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptFields } from '../src/core/crypto.js';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { fieldsToObject } from '../src/core/redis.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { RedisServer } from './helpers/redis-server.js';
import { entryResults } from '../src/core/history-entry.js';

const FIXTURE_ACTIONS = fileURLToPath(new URL('../../test/fixtures/actions', import.meta.url));
const zone = 'pipe';
const KEY = randomBytes(32);
const k = keys(zone);
const server = new RedisServer();
let redis: Redis;
let cluster: Cluster;
let target: Server;
let targetStatus = 200;
let targetUrl = '';
const hooks: Record<string, unknown>[] = [];
let hookUrl = '';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, string]> {
  return new Promise((resolve) => {
    const s = createServer(handler);
    s.listen(0, '127.0.0.1', () => resolve([s, `http://127.0.0.1:${(s.address() as { port: number }).port}/`]));
  });
}

let hookServer: Server;
test.before(async () => {
  await server.start();
  redis = server.client();
  [target, targetUrl] = await listen((req, res) => {
    if (req.url === '/private') {
      res.statusCode = req.headers.authorization === 'Bearer t0ken' ? 200 : 401;
      return res.end();
    }
    res.statusCode = targetStatus;
    res.end('hello');
  });
  [hookServer, hookUrl] = await listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      hooks.push(JSON.parse(body) as Record<string, unknown>);
      res.end('ok');
    });
  });
  cluster = await new Cluster({ redisUrl: server.url, zone, actionsPath: [FIXTURE_ACTIONS], reactionTimeoutMs: 300, secretKey: KEY }).start();
});
test.after(async () => {
  await cluster.stop();
  redis.disconnect();
  target.close();
  hookServer.close();
  await server.stop();
});

const state = (id: string) => redis.hgetall(k.state(id));

test('a healthy monitor is checked once per interval and recorded', async () => {
  await putMonitor(redis, zone, { id: 'm-ok', ctype: 'http-get-statuscode', interval: 1, data: { url: targetUrl, codes: ['200'] } });
  const s = await waitFor(async () => ((await state('m-ok')).status === 'healthy' ? state('m-ok') : null), 3000, 'first result');
  assert.is(s.failcount, '0');
  assert.ok(Number(s.latencyMs) >= 0);
  const before = await redis.xlen(k.history);
  await new Promise((r) => setTimeout(r, 2100));
  const n = (await redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f)).filter((h) => h.monitorId === 'm-ok').length;
  assert.ok(n >= 2 && n <= 4, `expected about one check a second, got ${n} (history was ${before})`);
});

test('a failure runs failed reactions; a throwing or hanging reaction does not stop the others', async () => {
  await putReaction(redis, zone, { id: 'r-hook', rtype: 'webhook', data: { url: hookUrl } });
  await putReaction(redis, zone, { id: 'r-throws', rtype: 'throws', data: {} });
  await putReaction(redis, zone, { id: 'r-hangs', rtype: 'hangs', data: {} });
  await putReaction(redis, zone, { id: 'r-healthy', rtype: 'webhook', callOn: 'healthy', once: true, data: { url: hookUrl } });
  targetStatus = 500;
  await putMonitor(redis, zone, {
    id: 'm-web', name: 'web', ctype: 'http-get-statuscode', interval: 1,
    data: { url: targetUrl, codes: ['200'] }, reactions: ['r-throws', 'r-hangs', 'r-hook', 'r-healthy'],
  });
  const hook = await waitFor(() => hooks.find((h) => h.status === 'failed'), 4000, 'failed webhook');
  assert.equal(hook.monitor, { id: 'm-web', name: 'web', ctype: 'http-get-statuscode' });
  assert.is(hook.failcount, 1);
  assert.equal(hook.reaction, { id: 'r-hook', name: 'r-hook' });
  const outcomes = await waitFor(async () => {
    const runs = (await redis.xrange(k.events, '-', '+')).map(([, f]) => fieldsToObject(f)).filter((e) => e.kind === 'reaction' && e.monitorId === 'm-web');
    const by = Object.fromEntries(runs.map((e) => [e.reactionId, e]));
    return by['r-hangs'] && by['r-throws'] && by['r-hook'] ? by : null;
  }, 3000, 'reaction runs recorded');
  assert.is(outcomes['r-throws']!.outcome, 'failed');
  assert.match(outcomes['r-throws']!.message!, /boom/);
  assert.is(outcomes['r-hangs']!.outcome, 'failed');
  assert.match(outcomes['r-hangs']!.message!, /timed out after 300 ms/);
  assert.is(outcomes['r-hook']!.outcome, 'ran');

  targetStatus = 200;
  const healthy = await waitFor(() => hooks.find((h) => h.status === 'healthy'), 4000, 'healthy webhook');
  assert.is(healthy.previousStatus, 'failed');
  await new Promise((r) => setTimeout(r, 2200));
  assert.is(hooks.filter((h) => h.status === 'healthy').length, 1, '--once: the healthy reaction ran once in the episode');
});

test('a check module that is not installed gives unknown with the reason and runs no reaction', async () => {
  await putReaction(redis, zone, { id: 'r-any', rtype: 'webhook', callOn: 'both', data: { url: hookUrl } });
  await putMonitor(redis, zone, { id: 'm-nomod', ctype: 'no-such-check', interval: 1, data: {}, reactions: ['r-any'] });
  const s = await waitFor(async () => ((await state('m-nomod')).status ? state('m-nomod') : null), 3000, 'unknown result');
  assert.is(s.status, 'unknown');
  assert.match(s.message!, /check "no-such-check" is not installed/);
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(hooks.some((h) => (h.monitor as { id: string }).id === 'm-nomod'));
});

test('a ctype that is not a plain module name is refused by the control, never sent, and counted', async () => {
  const before = cluster.control!.counters.get('bad_configs');
  await putMonitor(redis, zone, { id: 'm-evil', ctype: '../../etc', interval: 1, data: {} });
  await waitFor(() => cluster.control!.counters.get('bad_configs') >= before + 2, 4000, 'the config refused at two due slots');
  assert.equal(await state('m-evil'), { configFlags: '' }, 'no job was run, so no state beyond what applying the config wrote');
  assert.is(cluster.worker!.counters.get('bad_messages.bad_value'), 0, 'nothing reached the worker');
});

test('a check that exceeds its timeout is unknown, not failed', async () => {
  const [slow, slowUrl] = await listen(() => undefined);
  await putReaction(redis, zone, { id: 'r-fail', rtype: 'webhook', data: { url: hookUrl } });
  await putMonitor(redis, zone, { id: 'm-slow', ctype: 'http-get-statuscode', interval: 1, data: { url: slowUrl, timeoutMs: 300 }, reactions: ['r-fail'] });
  const s = await waitFor(async () => ((await state('m-slow')).status ? state('m-slow') : null), 3000, 'timeout result');
  slow.closeAllConnections();
  slow.close();
  assert.ok(s.status === 'unknown' || s.status === 'failed', s.status);
  assert.match(s.message!, /time/i);
});

test('secret fields stay encrypted in Redis; the worker and the sink decrypt them to use them', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'cr-secret-')), 'runs.jsonl');
  const secretive = (await reactionLoader([FIXTURE_ACTIONS]).load('secretive')).meta.fields;
  const r = await putReaction(redis, zone, { id: 'r-secret', rtype: 'secretive', callOn: 'both', frequency: 60, data: encryptFields(KEY, { token: 'hunter2', file }, secretive, { kind: 'reaction', id: 'r-secret' }) });
  const status = (await checkLoader().load('http-get-statuscode')).meta.fields;
  const data = encryptFields(KEY, { url: `${targetUrl}private`, headers: { authorization: 'Bearer t0ken' } }, status, { kind: 'monitor', id: 'm-secret' });
  await putMonitor(redis, zone, { id: 'm-secret', ctype: 'http-get-statuscode', interval: 1, data, reactions: [r.id] });
  assert.not.ok((await redis.get(k.monitor('m-secret')))!.includes('t0ken'), 'encrypted in Redis');
  assert.not.ok((await redis.get(k.reaction('r-secret')))!.includes('hunter2'), 'encrypted in Redis');
  const s = await waitFor(async () => ((await state('m-secret')).status ? state('m-secret') : null), 3000, 'result');
  assert.is(s.status, 'healthy', 'the worker sent the decrypted header');
  const runs = await waitFor(() => { try { return readFileSync(file, 'utf8'); } catch { return ''; } }, 3000, 'reaction run');
  assert.equal(JSON.parse(runs.split('\n')[0]!), { token: 'hunter2', status: 'healthy' });
});

test('counters show checks run by outcome', async () => {
  await cluster.worker!.counters.flush();
  const c = await redis.hgetall(k.counters);
  assert.ok(Number(c['worker.checks.healthy']) > 0);
  assert.ok(Number(c['worker.checks.unknown']) > 0);
});

test.run();
