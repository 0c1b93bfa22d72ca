import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { useRedis } from './helpers/redis-server.js';

// Acknowledged entries leave a stream by trimming its front (ackAndTrim-1.lua): what is trimmed must be only what every
// consumer group is done with, since the stream's length is the backlog that stats and /health report.
const fx = useRedis(test, true);
const stream = 'trim:history';

const add = async (n: number) => { for (let i = 0; i < n; i++) await fx.redis.xadd(stream, '*', 'i', String(i)); };
const read = async (group: string, consumer: string, count: number) => {
  const r = (await fx.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
  return r[0]![1].map(([id]) => id);
};

test('an entry pending with a slow consumer keeps itself and every later one; entries nobody has read are never trimmed', async () => {
  await fx.redis.xgroup('CREATE', stream, 'bridge', '0', 'MKSTREAM');
  await add(6);
  const slow = await read('bridge', 'slow', 3);
  const fast = await read('bridge', 'fast', 3);
  await add(2);
  assert.is(await fx.redis.ackAndTrim(stream, 'bridge', ...fast), 3, 'three acknowledged');
  assert.is(await fx.redis.xlen(stream), 8, "the slow consumer's entries are still pending: nothing trimmed");
  assert.is(await fx.redis.ackAndTrim(stream, 'bridge', ...slow), 3);
  assert.is(await fx.redis.xlen(stream), 2, 'the two entries nobody has read yet are kept');
  assert.equal((await fx.redis.xrange(stream, '-', '+')).map(([, f]) => f[1]), ['0', '1']);
  assert.is(await fx.redis.ackAndTrim(stream, 'bridge', ...(await read('bridge', 'fast', 10))), 2);
  assert.is(await fx.redis.xlen(stream), 0, 'all read and acknowledged: the stream is empty');
});

test('with two groups, an entry stays until both are done with it', async () => {
  await fx.redis.del(stream);
  await fx.redis.xgroup('CREATE', stream, 'a', '0', 'MKSTREAM');
  await fx.redis.xgroup('CREATE', stream, 'b', '0');
  await add(4);
  await fx.redis.ackAndTrim(stream, 'a', ...(await read('a', 'x', 4)));
  assert.is(await fx.redis.xlen(stream), 4, 'group b has not read them');
  const b = await read('b', 'y', 2);
  await fx.redis.ackAndTrim(stream, 'b', ...b);
  assert.is(await fx.redis.xlen(stream), 2, 'the two b has not read are kept');
});

test('a batch of 5,000 acknowledged at once (more arguments than Lua can unpack at once)', async () => {
  await fx.redis.del(stream);
  await fx.redis.xgroup('CREATE', stream, 'bridge', '0', 'MKSTREAM');
  const p = fx.redis.pipeline();
  for (let i = 0; i < 5000; i++) p.xadd(stream, '*', 'i', String(i));
  await p.exec();
  const ids = await read('bridge', 'c', 5000);
  assert.is(await fx.redis.ackAndTrim(stream, 'bridge', ...ids), 5000);
  assert.is(await fx.redis.xlen(stream), 0);
});

test.run();
