/**
 * Try before you trust: `cloudroutes monitor test` runs a check now through the zone's broker and worker and records
 * nothing (unless --record); `cloudroutes reaction test` runs a reaction now in a sink, for real or as a dry run, and
 * the audit says `test`. The Procfile processes and the web run as real OS processes; the target and the webhook
 * receiver are local HTTP servers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import type { EventRecord } from '../src/core/types.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePort, freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-try-'));
const redisServer = new RedisServer();
let redis: Redis;
const env: NodeJS.ProcessEnv = {};
const procs = new Map<string, Proc>();
const k = keys('default');
let targetCode = 200;
const hooks: { path: string; body: string }[] = [];
let http: Server;
let base = '';
let web = '';
let apiKey = '';
let store: Store;

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  http = createServer((req, res) => {
    if (req.method === 'GET') {
      res.statusCode = targetCode;
      return res.end('app');
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      hooks.push({ path: req.url!, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  const webPort = await freePort();
  web = `http://127.0.0.1:${webPort}`;
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'ef'.repeat(32), CLOUDROUTES_WEB_PORT: String(webPort),
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink', 'web']) procs.set(name, new Proc([name], env).start());
  await Promise.all([...procs].map(([name, p]) => p.waitFor(`"${name} ${name === 'broker' || name === 'web' ? 'listening' : 'started'}"`)));
  store = await openStore(env.CLOUDROUTES_STORE!);
  apiKey = (JSON.parse((await cli(['apikey', 'create', '--name', 'tester', '--json'], { ...env, LOG_LEVEL: 'silent' })).stdout) as { key: string }).key;
});

test.after(async () => {
  await Promise.all([...procs.values()].map((p) => p.kill()));
  await store.close();
  redis.disconnect();
  http.close();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cr = (...args: string[]) => cli(args, { ...env, LOG_LEVEL: 'silent' });
const run = async (...args: string[]) => {
  const r = await cr(...args);
  assert.is(r.code, 0, `cloudroutes ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
};
const api = (path: string, body: unknown) =>
  fetch(`${web}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const audit = async (...args: string[]) => (JSON.parse(await run('audit', '--json', ...args)) as { entries: EventRecord[] }).entries;
/** What recording a result would change: the monitor's state and its history (in Redis and in the store). */
const recorded = async (id: string) => ({
  state: await redis.hgetall(k.state(id)),
  history: (await store.history({ monitorId: id, limit: 1000 })).length + (await redis.xlen(k.history)),
  events: (await store.events({ monitorId: id, limit: 1000 })).length + (await redis.xlen(k.events)),
});

let monitor = '';
let page = '';
let dry = '';
let other = '';

test('monitor test prints the check result and which worker ran it, and records nothing: state, history, reactions unchanged', async () => {
  page = await run('reaction', 'add', '--name', 'page', '--rtype', 'webhook', '--data', JSON.stringify({ url: `${base}/page` }));
  dry = await run('reaction', 'add', '--name', 'dry-page', '--rtype', 'webhook', '--dry-run',
    '--data', JSON.stringify({ url: `${base}/dry`, headers: { 'X-Token': 'hush-hush' } }));
  monitor = await run('monitor', 'add', '--name', 'app', '--ctype', 'http-get-statuscode', '--interval', '1h',
    '--data', JSON.stringify({ url: `${base}/`, codes: ['200'] }), '--reactions', `${page},${dry}`);
  other = await run('monitor', 'add', '--name', 'other', '--ctype', 'http-get-statuscode', '--interval', '1h', '--data', JSON.stringify({ url: `${base}/`, codes: ['200'] }));
  // Its scheduled check is pushed a day away, so whatever is recorded here comes from the tests.
  await waitFor(async () => (await redis.zscore(k.schedule, monitor)) !== null && (await redis.exists(k.reaction(dry))) === 1, 5000, 'the bridge carried the monitor to Redis');
  await redis.zadd(k.schedule, 'XX', Date.now() + 86_400_000, monitor);
  const before = await recorded(monitor);

  targetCode = 500;
  const failed = await cr('monitor', 'test', monitor);
  assert.is(failed.code, 1, `a failed check exits 1: ${failed.stderr}`);
  assert.match(failed.stdout, /^failed: .*500/);
  assert.match(failed.stdout, /worker [^,]+:\d+, zone default; not recorded/);

  targetCode = 200;
  const healthy = await cr('monitor', 'test', monitor, '--json');
  assert.is(healthy.code, 0, healthy.stderr);
  const r = JSON.parse(healthy.stdout) as { status: string; monitorId: string; recorded: boolean; worker: string; latencyMs: number };
  assert.equal([r.status, r.monitorId, r.recorded], ['healthy', monitor, false]);
  assert.match(r.worker, /:\d+$/);
  assert.ok(r.latencyMs >= 0);

  await new Promise((res) => setTimeout(res, 2000));
  assert.equal(await recorded(monitor), before, 'state and history as before the tests');
  assert.equal(hooks, [], 'no reaction ran');
  assert.is(await redis.xlen(k.results), 0, 'nothing waits in the results stream');
});

test('monitor test --record records the result as any result of the zone, and its reactions act on it', async () => {
  targetCode = 500;
  const r = await cr('monitor', 'test', monitor, '--record', '--json');
  assert.is(r.code, 1, r.stderr);
  assert.is((JSON.parse(r.stdout) as { recorded: boolean }).recorded, true);
  await waitFor(async () => (await redis.hget(k.state(monitor), 'status')) === 'failed', 5000, 'the state says failed');
  await waitFor(() => hooks.find((h) => h.path === '/page'), 5000, 'the failed reaction ran on the recorded result');
  await waitFor(async () => (await store.history({ monitorId: monitor })).some((h) => h.status === 'failed'), 5000, 'the result in the history of the store');
  targetCode = 200;
  hooks.length = 0;
});

test('reaction test runs a webhook once against the receiver and a dry-run one not at all, both in the audit as test', async () => {
  const ran = await cr('reaction', 'test', page, '--monitor', monitor, '--json');
  assert.is(ran.code, 0, ran.stderr);
  const out = JSON.parse(ran.stdout) as { outcome: string; message: string; sink: string; reactionId: string };
  assert.equal([out.outcome, out.reactionId], ['ran', page]);
  assert.match(out.sink, /:\d+$/);
  await waitFor(() => hooks.length >= 1, 3000, 'the receiver called');
  assert.is(hooks.length, 1, 'received once');
  assert.equal(hooks[0]!.path, '/page');
  assert.is((JSON.parse(hooks[0]!.body) as { status: string }).status, 'failed');

  const shown = await cr('reaction', 'test', dry, '--monitor', monitor, '--status', 'healthy');
  assert.is(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^dry-run: .*POST.*\/dry/);
  assert.not.match(shown.stdout, /hush-hush/, 'the secret header is masked');
  await new Promise((res) => setTimeout(res, 1000));
  assert.is(hooks.length, 1, 'the dry run sent nothing');

  const tests = await waitFor(async () => {
    const e = await audit('--decision', 'test');
    return e.length >= 2 ? e : null;
  }, 5000, 'both tests in the audit');
  assert.equal(tests.map((e) => [e.reactionId, e.monitorId, e.outcome]).sort(), [[dry, monitor, 'test'], [page, monitor, 'test']].sort());
  assert.match(tests.find((e) => e.reactionId === page)!.message, /^test asked by cli for a failed event: ran/);
  assert.match(tests.find((e) => e.reactionId === dry)!.message, /^test asked by cli for a healthy event: dry-run: /);
});

test('the API runs the same tests, naming the API key in the audit', async () => {
  const m = await api(`/api/v1/monitors/${monitor}/test`, {});
  assert.is(m.status, 200, await m.clone().text());
  const body = (await m.json()) as { status: string; recorded: boolean; worker: string };
  assert.equal([body.status, body.recorded], ['healthy', false]);
  const r = await api(`/api/v1/reactions/${dry}/test`, { monitorId: monitor });
  assert.is(r.status, 200, await r.clone().text());
  assert.is(((await r.json()) as { outcome: string }).outcome, 'dry-run');
  await waitFor(async () => (await audit('--decision', 'test', '--reaction', dry)).some((e) => /asked by API key tester/.test(e.message)), 5000, 'the API test in the audit');
});

test('refusals: a monitor that does not use the reaction, unknown ids, a bad status', async () => {
  const notUsed = await cr('reaction', 'test', page, '--monitor', other);
  assert.is(notUsed.code, 2);
  assert.match(notUsed.stderr, new RegExp(`monitor "${other}" does not use reaction "${page}"`));
  assert.is((await cr('reaction', 'test', 'r-nope', '--monitor', monitor)).code, 2);
  assert.match((await cr('reaction', 'test', page, '--monitor', 'm-nope')).stderr, /monitor "m-nope" does not exist/);
  assert.match((await cr('reaction', 'test', page, '--monitor', monitor, '--status', 'unknown')).stderr, /status="unknown" is invalid/);
  assert.match((await cr('monitor', 'test', 'm-nope')).stderr, /monitor "m-nope" does not exist/);

  const apiNotUsed = await api(`/api/v1/reactions/${page}/test`, { monitorId: other });
  assert.is(apiNotUsed.status, 400);
  assert.is(((await apiNotUsed.json()) as { error: { field: string } }).error.field, 'monitorId');
  assert.is((await api(`/api/v1/reactions/r-nope/test`, { monitorId: monitor })).status, 404);
  assert.is((await api(`/api/v1/reactions/${page}/test`, { monitorId: 'm-nope' })).status, 404);
  assert.is((await api(`/api/v1/monitors/m-nope/test`, {})).status, 404);
  const missing = await api(`/api/v1/reactions/${page}/test`, {});
  assert.is(missing.status, 400, 'monitorId is required');
  assert.match(JSON.stringify(await missing.json()), /monitorId/);
  assert.is((await api(`/api/v1/reactions/${page}/test`, { monitorId: monitor, status: 'unknown' })).status, 400);
  assert.is(hooks.length, 1, 'no refused test ran anything');
});

test('with no worker in the zone, monitor test says so after the check timeout and a few seconds', async () => {
  await procs.get('worker')!.kill();
  const slow = await run('monitor', 'add', '--name', 'quick', '--ctype', 'http-get-statuscode', '--interval', '1h',
    '--data', JSON.stringify({ url: `${base}/`, codes: ['200'], timeoutMs: 1000 }));
  await waitFor(async () => (await redis.exists(k.monitor(slow))) === 1, 5000, 'the monitor in Redis');
  const started = Date.now();
  const r = await cr('monitor', 'test', slow);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no worker answered the test of monitor .* within 6000 ms .*is a worker running in zone "default"\?/);
  assert.ok(Date.now() - started < 12_000, 'bounded');
});

test.run();
