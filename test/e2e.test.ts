/** The acceptance path with the Procfile processes as real OS processes, then kill -9 of each one. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';
import { entryResults } from '../src/core/history-entry.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-e2e-'));
const redisServer = new RedisServer();
let redis: Redis;
let store: Store;
const env: NodeJS.ProcessEnv = {};
const procs = new Map<string, Proc>();
const k = keys('default');

let targetCode = 200;
const hooks: { path: string; body: Record<string, unknown>; at: number }[] = [];
let http: Server;
let base = '';

function handler(req: IncomingMessage, res: ServerResponse) {
  if (req.method === 'GET') {
    res.statusCode = targetCode;
    return res.end('app');
  }
  let body = '';
  req.on('data', (c: Buffer) => (body += c));
  req.on('end', () => {
    hooks.push({ path: req.url!, body: JSON.parse(body) as Record<string, unknown>, at: Date.now() });
    res.end('ok');
  });
}

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  http = createServer(handler);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'cd'.repeat(32),
  });
  store = await openStore(env.CLOUDROUTES_STORE!);
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.set(name, new Proc([name], env).start());
  await Promise.all([...procs].map(([name, p]) => p.waitFor(`"${name} ${name === 'broker' ? 'listening' : 'started'}"`)));
});

test.after(async () => {
  await Promise.all([...procs.values()].map((p) => p.kill()));
  await store.close();
  redis.disconnect();
  http.close();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = async (...args: string[]) => {
  const r = await cli(args, { ...env, LOG_LEVEL: 'silent' });
  assert.is(r.code, 0, `cloudroutes ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
};
const status = async () => JSON.parse(await run('status', '--json')) as { id: string; status: string; failcount: number; latencyMs: number | null }[];
let monitorId = '';

test('a monitor goes healthy, its failure reaches the webhook, and a healthy reaction fires on recovery', async () => {
  const onFail = await run('reaction', 'add', '--name', 'page', '--rtype', 'webhook', '--data', JSON.stringify({ url: `${base}/failed` }));
  const onBack = await run('reaction', 'add', '--name', 'back', '--rtype', 'webhook', '--call-on', 'healthy', '--once', '--data', JSON.stringify({ url: `${base}/healthy` }));
  monitorId = await run('monitor', 'add', '--name', 'app', '--ctype', 'http-get-statuscode', '--interval', '2s',
    '--data', JSON.stringify({ url: `${base}/`, codes: ['200'] }), '--reactions', `${onFail},${onBack}`);
  const healthy = await waitFor(async () => (await status()).find((s) => s.id === monitorId && s.status === 'healthy'), 6000, 'healthy status');
  assert.ok(healthy.latencyMs !== null);

  targetCode = 500;
  const failedAt = Date.now();
  const hook = await waitFor(() => hooks.find((h) => h.path === '/failed'), 2 * 2000 + 2000, 'failed webhook within two intervals + 2 s');
  assert.ok(hook.at - failedAt <= 6000);
  assert.is(hook.body.status, 'failed');
  assert.equal(hook.body.monitor, { id: monitorId, name: 'app', ctype: 'http-get-statuscode' });
  assert.is(hook.body.zone, 'default');
  assert.match(String(hook.body.message), /500/);
  assert.is((await status()).find((s) => s.id === monitorId)!.status, 'failed');

  targetCode = 200;
  const back = await waitFor(() => hooks.find((h) => h.path === '/healthy'), 6000, 'healthy webhook');
  assert.is(back.body.previousStatus, 'failed');
  const events = await waitFor(async () => {
    const e = await store.events({ monitorId });
    return e.some((x) => x.kind === 'reaction' && x.outcome === 'ran' && x.status === 'healthy') ? e : null;
  }, 3000, 'events in the store');
  assert.ok(events.some((e) => e.kind === 'status' && e.status === 'failed'));
  const show = await run('monitor', 'show', monitorId);
  assert.match(show, /Recent events:/);
  assert.match(show, /failed -> healthy/);
});

/** Results checked at or after `t`, in the Redis stream or already in the store. */
const checksSince = async (t: number) => {
  const inRedis = (await redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f)).filter((h) => Number(h.checkedAt) >= t).length;
  return inRedis + (await store.history({ monitorId, from: t })).length;
};

for (const name of ['control', 'broker', 'worker', 'sink', 'bridge']) {
  test(`kill -9 of the ${name}, then a restart: nothing lost from the schedule, checks resume within an interval`, async () => {
    const scheduled = await redis.zscore(k.schedule, monitorId);
    assert.ok(scheduled);
    const p = procs.get(name)!;
    await p.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    p.start();
    const restarted = Date.now();
    assert.ok(await redis.zscore(k.schedule, monitorId), 'still scheduled');
    await waitFor(async () => (await checksSince(restarted)) > 0, 2000 + 1500, `a check within an interval (2 s) of the ${name} restart`);
  });
}

test('no history already in Redis is lost, each result is stored once, and two controls never dispatch one slot twice', async () => {
  const second = new Proc(['control'], env).start();
  await second.waitFor('"control started"');
  await new Promise((r) => setTimeout(r, 6000));
  await second.kill();
  const info = (await redis.call('XINFO', 'STREAM', k.history)) as (string | number)[];
  const added = Number(info[info.indexOf('entries-added') + 1]);
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 5000, 'history stream drained');
  const stored = await store.history({ monitorId, limit: 100_000 });
  assert.is(stored.length, added, 'every result XADDed is in the store once');
  const slots = stored.map((h) => h.due);
  assert.is(new Set(slots).size, slots.length, 'no slot dispatched twice');
});

test.run();
