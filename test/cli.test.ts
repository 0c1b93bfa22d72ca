import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/open.js';
import { assertUsageError, useCli } from './helpers/cli-suite.js';
import { cli, type CliResult } from './helpers/procs.js';
import { freePort } from './helpers/redis-server.js';

const FIXTURE_ACTIONS = fileURLToPath(new URL('../../test/fixtures/actions', import.meta.url));
const { dir, env, redis, run } = useCli(test, 'cli', { CLOUDROUTES_SECRET_KEY: 'ab'.repeat(32), CLOUDROUTES_ACTIONS_PATH: FIXTURE_ACTIONS });
const id = (r: CliResult) => (JSON.parse(r.stdout) as { id: string }).id;

const MON = ['monitor', 'add', '--name', 'site', '--interval', '10s'];

test('monitor add refuses bad input with exit status 2 and a message naming the problem', async () => {
  assertUsageError(await run(...MON, '--ctype', 'tcp-check', '--data', '{bad'), 'CR_BAD_JSON', /--data is not valid JSON/);
  assertUsageError(await run(...MON, '--ctype', '../x', '--data', '{}'), 'CR_BAD_MODULE_NAME', /"\.\.\/x" is not a plain module name/);
  assertUsageError(await run(...MON, '--ctype', 'a/b', '--data', '{}'), 'CR_BAD_MODULE_NAME', /"a\/b"/);
  assertUsageError(await run(...MON, '--ctype', 'no-such-check', '--data', '{}'), 'CR_MODULE_NOT_FOUND', /check "no-such-check" is not installed/);
  assertUsageError(await run(...MON, '--ctype', 'tcp-check', '--data', '{"host":"127.0.0.1","port":"x"}'), 'CR_BAD_DATA', /data\.port must be/);
  assertUsageError(await run(...MON, '--ctype', 'tcp-check', '--data', '{"port":80}'), 'CR_BAD_DATA', /data\.host is required/);
  const ok = JSON.stringify({ host: '127.0.0.1', port: 80 });
  assertUsageError(await run('monitor', 'add', '--name', 's', '--ctype', 'tcp-check', '--interval', '500ms', '--data', ok), 'CR_BAD_INTERVAL', /at least 1s/);
  assertUsageError(await run('monitor', 'add', '--name', 's', '--ctype', 'tcp-check', '--interval', 'often', '--data', ok), 'CR_BAD_INTERVAL', /"often"/);
  assertUsageError(await run(...MON, '--ctype', 'tcp-check', '--data', ok, '--reactions', 'r-nope'), 'CR_NO_SUCH_REACTION', /reaction "r-nope" does not exist/);
  const missing = await run('monitor', 'add', '--ctype', 'tcp-check');
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /--name/);
  const list = await run('monitor', 'list', '--json');
  assert.equal(JSON.parse(list.stdout), [], 'nothing was stored');
});

test('reaction add refuses bad input with exit status 2', async () => {
  assertUsageError(await run('reaction', 'add', '--name', 'x', '--rtype', '../../bin', '--data', '{}'), 'CR_BAD_MODULE_NAME', /not a plain module name/);
  assertUsageError(await run('reaction', 'add', '--name', 'x', '--rtype', 'webhook', '--data', '{"url": 3}'), 'CR_BAD_DATA', /data\.url/);
  assertUsageError(await run('reaction', 'add', '--name', 'x', '--rtype', 'log', '--trigger', '0'), 'CR_BAD_SETTING', /trigger/);
  assertUsageError(await run('reaction', 'add', '--name', 'x', '--rtype', 'log', '--frequency', 'soon'), 'CR_BAD_SETTING', /frequency/);
  const callOn = await run('reaction', 'add', '--name', 'x', '--rtype', 'log', '--call-on', 'sometimes');
  assert.is(callOn.code, 2);
  assert.match(callOn.stderr, /failed, healthy, both/);
});

test('add, list, show and rm with --json; secrets are encrypted in the store and masked in output', async () => {
  const hook = await run('reaction', 'add', '--name', 'hook', '--rtype', 'secretive', '--data', '{"token":"s3cret","file":"/tmp/x"}', '--trigger', '2', '--frequency', '5m', '--json');
  assert.is(hook.code, 0, hook.stderr);
  const rid = id(hook);
  assert.match(rid, /^r-[a-z0-9]{10}$/);
  const port = await freePort();
  const mon = await run(...MON, '--ctype', 'tcp-check', '--data', JSON.stringify({ host: '127.0.0.1', port }), '--reactions', rid, '--json');
  assert.is(mon.code, 0, mon.stderr);
  const mid = id(mon);
  const plain = await run(...MON, '--ctype', 'tcp-check', '--data', JSON.stringify({ host: '127.0.0.1', port }));
  assert.match(plain.stdout.trim(), /^m-[a-z0-9]{10}$/, 'without --json: just the id');

  const shown = JSON.parse((await run('reaction', 'show', rid, '--json')).stdout);
  assert.is(shown.data.token, '(secret)');
  assert.is(shown.trigger, 2);
  assert.is(shown.frequency, 300);
  const store = await openStore(env.CLOUDROUTES_STORE!);
  const raw = await store.getReaction(rid);
  await store.close();
  assert.match(String(raw!.data.token), /^enc:v2:/, 'stored encrypted');
  assert.not.ok(JSON.stringify(raw).includes('s3cret'));

  const monitors = JSON.parse((await run('monitor', 'list', '--json')).stdout) as { id: string; interval: number; reactions: string[] }[];
  assert.equal(monitors.map((m) => m.id).sort(), [mid, plain.stdout.trim()].sort());
  const table = (await run('monitor', 'list')).stdout;
  assert.match(table, /ID\s+NAME\s+CTYPE\s+INTERVAL/);
  assert.match(table, new RegExp(`${mid}\\s+site\\s+tcp-check\\s+10s\\s+${rid}`));
  const show = JSON.parse((await run('monitor', 'show', mid, '--json')).stdout);
  assert.is(show.state.status, 'unknown');
  assert.equal(show.reactions, [rid]);

  const inUse = await run('reaction', 'rm', rid);
  assertUsageError(inUse, 'CR_REACTION_IN_USE', new RegExp(mid));
  assert.is((await run('monitor', 'rm', mid)).code, 0);
  assert.is((await run('reaction', 'rm', rid, '--json')).stdout.trim().replace(/\s+/g, ''), `{"removed":"${rid}"}`);
  assertUsageError(await run('monitor', 'show', mid), 'CR_NO_SUCH_MONITOR', /does not exist/);
  assertUsageError(await run('monitor', 'rm', 'm-nothere'), 'CR_NO_SUCH_MONITOR', /m-nothere/);
});

test('a field the module marks secret is masked in show and list even when the store holds it in plain text', async () => {
  // As a record stored before its module marked the field secret would be: no ciphertext to recognise.
  const store = await openStore(env.CLOUDROUTES_STORE!);
  await store.putMonitor({ id: 'm-plainpass', name: 'cache', ctype: 'redis', interval: 30, reactions: [], createdAt: 1, updatedAt: 1, data: { host: '127.0.0.1', password: 'hunter2' } });
  await store.putReaction({ id: 'r-plaintok', name: 'tok', rtype: 'secretive', trigger: 1, frequency: 0, callOn: 'failed', once: false, createdAt: 1, updatedAt: 1, data: { token: 'tok-plain', file: '/tmp/x' } });
  await store.close();
  try {
    const json = await run('monitor', 'show', 'm-plainpass', '--json');
    assert.is(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).data, { host: '127.0.0.1', password: '(secret)' });
    const text = await run('monitor', 'show', 'm-plainpass');
    assert.is(text.code, 0, text.stderr);
    assert.match(text.stdout, /data\s+\{"host":"127\.0\.0\.1","password":"\(secret\)"\}/);
    const listed = JSON.parse((await run('monitor', 'list', '--json')).stdout) as { id: string; data: Record<string, unknown> }[];
    assert.is(listed.find((m) => m.id === 'm-plainpass')!.data.password, '(secret)');
    const reaction = await run('reaction', 'show', 'r-plaintok');
    assert.match(reaction.stdout, /"token":"\(secret\)"/);
    const reactions = JSON.parse((await run('reaction', 'list', '--json')).stdout) as { id: string; data: Record<string, unknown> }[];
    assert.is(reactions.find((r) => r.id === 'r-plaintok')!.data.token, '(secret)');
    for (const out of [json.stdout, text.stdout, reaction.stdout]) assert.not.ok(/hunter2|tok-plain/.test(out), out);
  } finally {
    await run('monitor', 'rm', 'm-plainpass');
    await run('reaction', 'rm', 'r-plaintok');
  }
});

test('status --json lists every monitor with its fields', async () => {
  const rows = JSON.parse((await run('status', '--json')).stdout) as Record<string, unknown>[];
  assert.ok(rows.length >= 1);
  assert.equal(Object.keys(rows[0]!).sort(), ['ctype', 'failcount', 'id', 'lastCheck', 'latencyMs', 'name', 'status']);
  assert.is(rows[0]!.status, 'unknown');
  const table = (await run('status')).stdout;
  assert.match(table, /ID\s+NAME\s+CTYPE\s+STATUS\s+FAILCOUNT\s+LAST CHECK\s+LATENCY/);
});

test('rebuild-redis writes every monitor and reaction of the store into Redis and drops the rest', async () => {
  const client = redis.client();
  await client.set('cr:default:monitor:m-stale', '{}');
  const r = await run('rebuild-redis', '--json');
  assert.is(r.code, 0, r.stderr);
  const ids = (JSON.parse((await run('monitor', 'list', '--json')).stdout) as { id: string }[]).map((m) => m.id);
  assert.equal(JSON.parse(r.stdout).monitors, ids.length);
  assert.equal((await client.zrange('cr:default:schedule', 0, -1)).sort(), ids.sort());
  assert.is(await client.exists('cr:default:monitor:m-stale'), 0);
  client.disconnect();
});

test('check runs one check here and prints its result', async () => {
  const srv: Server = createServer(() => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const up = await run('check', 'tcp-check', '--data', JSON.stringify({ host: '127.0.0.1', port }), '--json');
  srv.close();
  assert.is(up.code, 0, up.stderr);
  assert.is(JSON.parse(up.stdout).status, 'healthy');
  const down = await run('check', 'tcp-check', '--data', JSON.stringify({ host: '127.0.0.1', port: await freePort() }));
  assert.match(down.stdout, /^failed: /);
  assert.is(down.code, 1, 'a failed check exits 1, for scripts');
  const unreachable = { ssh: { host: '127.0.0.1', port: await freePort(), user: 'root', password: 'x' } };
  const unknown = await run('check', 'load-average', '--data', JSON.stringify(unreachable), '--json');
  assert.is(JSON.parse(unknown.stdout).status, 'unknown', 'the machine could not be looked at');
  assert.is(unknown.code, 3, 'an unknown result exits 3');
  assertUsageError(await run('check', 'tcp-check', '--timeout', 'soon'), 'CR_BAD_SETTING', /--timeout="soon" is invalid/);
  assertUsageError(await run('check', '../x'), 'CR_BAD_MODULE_NAME', /not a plain module name/);
});

test('an unreachable Redis is a clear error, not a hang', async () => {
  const r = await cli(['status'], { ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, dir);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
});

test('bad settings are refused with the setting named', async () => {
  const r = await cli(['monitor', 'list'], { ...env, CLOUDROUTES_STORE: 'mysql://x' }, dir);
  assert.is(r.code, 2);
  assert.match(r.stderr, /CLOUDROUTES_STORE="mysql:\/\/x" is invalid/);

  // Processes check their numeric settings at start and exit at once instead of running with NaN.
  const worker = await cli(['worker'], { ...env, CLOUDROUTES_WORKER_CONCURRENCY: 'lots' }, dir);
  assert.is(worker.code, 2);
  assert.match(worker.stderr, /CLOUDROUTES_WORKER_CONCURRENCY="lots" is invalid: it must be a whole number from 1 up/);
  const sink = await cli(['sink'], { ...env, CLOUDROUTES_REACTION_TIMEOUT_MS: '30s' }, dir);
  assert.is(sink.code, 2);
  assert.match(sink.stderr, /CLOUDROUTES_REACTION_TIMEOUT_MS="30s" is invalid/);
  assertUsageError(await cli(['web', '--port', '99999'], env, dir), 'CR_BAD_SETTING', /--port="99999" is invalid: it must be a whole number from 0 to 65535/);
  assertUsageError(await cli(['monitor', 'show', 'm-x', '--events', 'all'], env, dir), 'CR_BAD_SETTING', /--events="all" is invalid/);
});

test.run();
