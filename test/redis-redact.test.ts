/** redactRedisUrl hides the whole password however it is spelt, as ioredis would send it to a real server. */
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { redactRedisUrl } from '../src/core/redis.js';
import { RedisServer } from './helpers/redis-server.js';

const server = new RedisServer({ password: 'p@ss:w' });
test.before(async () => {
  await server.start();
});
test.after(async () => {
  await server.stop();
});

const cases: [url: string, secret: string, shown: string][] = [
  ['redis://:p@ss@127.0.0.1:6379', 'ss', 'redis://:***@127.0.0.1:6379'],
  ['redis://:a@b@c@127.0.0.1:6379/2', 'b@c', 'redis://:***@127.0.0.1:6379/2'],
  ['redis://:pa:ss@127.0.0.1:6379', 'ss', 'redis://:***@127.0.0.1:6379'],
  ['redis://:p%40ss@127.0.0.1:6379', 'p%40ss', 'redis://:***@127.0.0.1:6379'],
  ['rediss://alice:s3cr%2Fet@redis.example:6380', 's3cr', 'rediss://alice:***@redis.example:6380'],
  ['redis://alice:p@ss:w@redis.example:6379', 'ss:w', 'redis://alice:***@redis.example:6379'],
];

test('a password with @, :, %40 or a user: all of it is hidden and the user and host are kept', () => {
  for (const [url, secret, shown] of cases) {
    const out = redactRedisUrl(url);
    assert.is(out, shown, url);
    assert.not.ok(out.includes(secret), `${url} -> ${out}`);
  }
});

test('a password with a raw / (the URL does not parse): everything before the last @ is hidden', () => {
  const out = redactRedisUrl('redis://:pa/ss@127.0.0.1:6379');
  assert.not.ok(/pa|ss/.test(out.replace('127.0.0.1', '')), out);
  assert.ok(out.endsWith('@127.0.0.1:6379'), out);
});

test('a URL without a password is shown as given', () => {
  assert.is(redactRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.is(redactRedisUrl('redis://alice@127.0.0.1:6379/1'), 'redis://alice@127.0.0.1:6379/1');
});

test('the password ioredis sends to a real server is the part hidden', async () => {
  const url = `redis://:${encodeURIComponent('p@ss:w')}@127.0.0.1:${server.port}`;
  const raw = `redis://:p@ss:w@127.0.0.1:${server.port}`;
  for (const u of [url, raw]) {
    const r = new Redis(u, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    await r.connect();
    assert.is(await r.ping(), 'PONG', `ioredis authenticates with ${u}`);
    r.disconnect();
    const shown = redactRedisUrl(u);
    assert.is(shown, `redis://:***@127.0.0.1:${server.port}`, u);
  }
});

test.run();
