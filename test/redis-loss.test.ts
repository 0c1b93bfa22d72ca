/** Redis loses its data: the bridge rebuilds it from the store, fail counts and reaction runs are not taken back. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cr-loss-'));
const redisServer = new RedisServer();
let redis: Redis;
const env: NodeJS.ProcessEnv = {};
const procs = new Map<string, Proc>();
const k = keys('default');
const runs = join(dir, 'runs.jsonl');
const runCount = () => { try { return readFileSync(runs, 'utf8').trim().split('\n').filter(Boolean).length; } catch { return 0; } };

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'store.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)),
    CLOUDROUTES_CHECKS_PATH: join(FIXTURES, 'checks'), CLOUDROUTES_ACTIONS_PATH: join(FIXTURES, 'actions'),
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.set(name, new Proc([name], env).start());
  await Promise.all([...procs.values()].map((p) => p.waitFor(/"(broker listening|\w+ started)"/)));
});

test.after(async () => {
  await Promise.all([...procs.values()].map((p) => p.kill()));
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('after FLUSHALL the monitor is scheduled again, its fail count goes on and a 10m reaction does not run again', async () => {
  const add = async (...args: string[]) => {
    const r = await cli(args, { ...env, LOG_LEVEL: 'silent' });
    assert.is(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  writeFileSync(join(dir, 'default'), 'failed');
  const rid = await add('reaction', 'add', '--name', 'reboot', '--rtype', 'records', '--frequency', '10m', '--data', JSON.stringify({ file: runs }));
  const id = await add('monitor', 'add', '--name', 'svc', '--ctype', 'zone-flag', '--interval', '1s', '--data', JSON.stringify({ dir }), '--reactions', rid);
  await waitFor(async () => Number(await redis.hget(k.state(id), 'failcount')) >= 3, 8000, 'three failures');
  assert.is(runCount(), 1);
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 5000, 'history stored');
  const before = Number(await redis.hget(k.state(id), 'failcount'));

  const bridge = procs.get('bridge')!;
  await bridge.kill('SIGKILL');
  await redis.flushall();
  bridge.start();
  await waitFor(async () => (await redis.zscore(k.schedule, id)) !== null, 5000, 'scheduled again by the restarted bridge');
  const first = Number(await waitFor(() => redis.hget(k.state(id), 'failcount'), 5000, 'a state again'));
  assert.ok(first >= before, `fail count restored from the store (${before} -> ${first}), not restarted from 1`);
  await waitFor(async () => Number(await redis.hget(k.state(id), 'failcount')) > first, 5000, 'the next failure counts on');
  await new Promise((r) => setTimeout(r, 3000));
  assert.is(runCount(), 1, 'the store still knows the reaction ran: frequency holds');
});

test.run();
