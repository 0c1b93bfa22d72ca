/** The cluster on RethinkDB as the store of record: the wire-protocol test server, or a real server when RETHINKDB_URL is set. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { openStore } from '../src/store/open.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';
import { startRethinkTestServer, type RethinkTestServer } from './rethinkdb-server/index.js';

const realUrl = process.env.RETHINKDB_URL;
const dir = mkdtempSync(join(tmpdir(), 'cr-rdb-'));
const redisServer = new RedisServer();
let redis: Redis;
let rdb: RethinkTestServer | undefined;
let storeUrl = '';
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
let target: Server;
const k = keys('default');

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  const db = `cr_cluster_${process.pid}`;
  if (realUrl) storeUrl = realUrl.replace(/\/[^/]*$/, `/${db}`);
  else {
    rdb = await startRethinkTestServer({ user: 'admin', password: 'secret' });
    storeUrl = `rethinkdb://admin:secret@127.0.0.1:${rdb.port}/${db}`;
  }
  target = createServer(() => undefined);
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: storeUrl, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'ef'.repeat(32),
  });
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  if (realUrl) {
    const { r } = await import('rethinkdb-ts');
    const conn = await r.connect({ host: '127.0.0.1', port: Number(new URL(realUrl).port || 28015), user: 'admin', password: '' }).catch(() => undefined);
    await r.dbDrop(new URL(storeUrl).pathname.slice(1)).run(conn!).catch(() => undefined);
    await conn?.close();
  }
  await rdb?.stop();
  target.close();
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => cli(args, { ...env, LOG_LEVEL: 'silent' });

test('store check says to run store init; store init makes it ready, twice', async () => {
  const before = await run('store', 'check');
  assert.is(before.code, 1);
  assert.match(before.stderr, /run "cloudroutes store init"/);
  for (let i = 0; i < 2; i++) {
    const init = await run('store', 'init', '--json');
    assert.is(init.code, 0, init.stderr);
    assert.is(JSON.parse(init.stdout).ready, true);
  }
  assert.is((await run('store', 'check')).code, 0);
});

test('monitors added to RethinkDB reach Redis through the changefeed and are checked; a dropped feed is resynced', async () => {
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
  await Promise.all(procs.map((p) => p.waitFor(/"(broker listening|\w+ started)"/)));
  const data = JSON.stringify({ host: '127.0.0.1', port: (target.address() as { port: number }).port });
  const add = await run('monitor', 'add', '--name', 'db', '--ctype', 'tcp-check', '--interval', '1s', '--data', data);
  assert.is(add.code, 0, add.stderr);
  const id = add.stdout.trim();
  const added = Date.now();
  await waitFor(() => redis.exists(k.monitor(id)), 1500, 'the monitor in Redis within a second');
  assert.ok(Date.now() - added <= 1500);
  await waitFor(async () => (await redis.hget(k.state(id), 'status')) === 'healthy', 4000, 'checked healthy');

  if (rdb) {
    await rdb.kill();
    const second = await run('monitor', 'add', '--name', 'db2', '--ctype', 'tcp-check', '--interval', '1s', '--data', data);
    assert.is(second.code, 0, second.stderr);
    await waitFor(() => redis.exists(k.monitor(second.stdout.trim())), 8000, 'a monitor added after the feed broke');
  }

  await waitFor(async () => {
    const store = await openStore(storeUrl);
    const h = await store.history({ monitorId: id });
    await store.close();
    return h.length >= 2;
  }, 6000, 'history in RethinkDB');
});

test.run();
