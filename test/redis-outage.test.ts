/** Redis dies under the running cluster: every process says so once, keeps running, and carries on when it is back. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-outage-'));
const redisServer = new RedisServer();
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
let target: Server;

test.before(async () => {
  await redisServer.start();
  target = createServer(() => undefined);
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)),
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  target.close();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('processes log the outage once, stay up, and checks resume when Redis is back', async () => {
  const port = (target.address() as { port: number }).port;
  const add = await cli(['monitor', 'add', '--name', 'db', '--ctype', 'tcp-check', '--interval', '1s', '--data', JSON.stringify({ host: '127.0.0.1', port })], env);
  assert.is(add.code, 0, add.stderr);
  const id = add.stdout.trim();
  let redis: Redis = redisServer.client();
  await waitFor(async () => (await redis.hget(keys('default').state(id), 'status')) === 'healthy', 6000, 'healthy before the outage');
  redis.disconnect();

  await redisServer.kill();
  await new Promise((r) => setTimeout(r, 3000));
  for (const p of procs) {
    assert.is(p.child.exitCode, null, `${p.args[0]} is still running`);
    const said = p.output.match(/Redis unreachable; retrying with backoff/g) ?? [];
    assert.ok(said.length >= 1, `${p.args[0]} logged the outage:\n${p.output}`);
    assert.ok(said.length <= 3, `${p.args[0]} logged it once per connection, not at every attempt (${said.length})`);
  }

  await redisServer.start();
  const back = Date.now();
  redis = redisServer.client();
  await waitFor(async () => Number(await redis.hget(keys('default').state(id), 'lastCheck')) > back, 6000, 'a check after Redis came back');
  assert.ok(await redis.zscore(keys('default').schedule, id), 'the monitor is still scheduled (append-only file)');
  redis.disconnect();
});

test.run();
