import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import { useRedis } from './helpers/redis-server.js';

const fx = useRedis(test, true);
const k = keys('sched');


async function schedule(id: string, intervalMs: number, due: number) {
  await fx.redis.hset(k.intervals, id, intervalMs);
  await fx.redis.zadd(k.schedule, due, id);
}

function parse(out: (string | number | null)[]) {
  const ids: [string, number][] = [];
  for (let i = 3; i < out.length; i += 2) ids.push([String(out[i]), Number(out[i + 1])]);
  return { nextDue: Number(out[0]), missed: Number(out[1]), ids };
}

test('pops only due monitors and re-schedules each one interval later', async () => {
  const now = 1_000_000;
  await schedule('a', 10_000, now - 5);
  await schedule('b', 60_000, now);
  await schedule('c', 10_000, now + 1);
  const r = parse(await fx.redis.schedulePop(k.schedule, k.intervals, now, 100));
  assert.equal(r.ids.sort(), [['a', now - 5], ['b', now]]);
  assert.is(r.missed, 0);
  assert.is(r.nextDue, now + 1, 'next due is the earliest left, so the control sleeps exactly until then');
  assert.is(Number(await fx.redis.zscore(k.schedule, 'a')), now - 5 + 10_000);
  assert.is(Number(await fx.redis.zscore(k.schedule, 'b')), now + 60_000);
});

test('a second pop at the same time dispatches nothing: no slot twice', async () => {
  const now = 2_000_000;
  for (let i = 0; i < 50; i++) await schedule(`m${i}`, 30_000, now - i);
  const [one, two] = await Promise.all([
    fx.redis.schedulePop(k.schedule, k.intervals, now, 1000),
    fx.redis.schedulePop(k.schedule, k.intervals, now, 1000),
  ]);
  const all = [...parse(one).ids, ...parse(two).ids].map(([id]) => id);
  assert.is(all.length, 50);
  assert.is(new Set(all).size, 50);
});

test('respects the batch limit', async () => {
  const now = 3_000_000;
  for (let i = 0; i < 30; i++) await schedule(`m${i}`, 30_000, now - 100 + i);
  const r = parse(await fx.redis.schedulePop(k.schedule, k.intervals, now, 10));
  assert.is(r.ids.length, 10);
  assert.is(await fx.redis.zcount(k.schedule, '-inf', now), 20);
});

test('a control more than one interval late skips the missed slots and counts them', async () => {
  const now = 4_000_000;
  await schedule('late', 1000, now - 3500);
  const r = parse(await fx.redis.schedulePop(k.schedule, k.intervals, now, 10));
  assert.equal(r.ids, [['late', now - 500]]);
  assert.is(r.missed, 3);
  assert.is(Number(await fx.redis.zscore(k.schedule, 'late')), now + 500);
});

test('a monitor without an interval (removed) is dropped from the schedule', async () => {
  await fx.redis.zadd(k.schedule, 10, 'ghost');
  const r = parse(await fx.redis.schedulePop(k.schedule, k.intervals, 100, 10));
  assert.equal(r.ids, []);
  assert.is(await fx.redis.zscore(k.schedule, 'ghost'), null);
  assert.is(r.nextDue, -1);
});

test('with the config key prefix, each popped monitor comes with its config (nil for one without), in the same call', async () => {
  const now = 5_000_000;
  await schedule('with', 10_000, now - 1);
  await schedule('without', 10_000, now - 2);
  await fx.redis.set(k.monitor('with'), '{"id":"with"}');
  const out = await fx.redis.schedulePop(k.schedule, k.intervals, now, 10, k.monitor(''));
  const rows: [string, number, string | null][] = [];
  for (let i = 3; i < out.length; i += 3) rows.push([String(out[i]), Number(out[i + 1]), out[i + 2] as string | null]);
  assert.equal(rows.sort(), [['with', now - 1, '{"id":"with"}'], ['without', now - 2, null]]);
});

test('with a send-ahead, slots due within it are popped with their own due, not counted missed', async () => {
  const now = 7_000_000;
  await schedule('now', 10_000, now);
  await schedule('soon', 10_000, now + 40);
  await schedule('later', 10_000, now + 60);
  const r = parse(await fx.redis.schedulePop(k.schedule, k.intervals, now, 10, '', 50));
  assert.equal(r.ids.sort(), [['now', now], ['soon', now + 40]]);
  assert.is(r.missed, 0);
  assert.is(Number(await fx.redis.zscore(k.schedule, 'soon')), now + 40 + 10_000, 'the slot sent ahead is re-scheduled one interval after its own due');
  assert.is(r.nextDue, now + 60);
});

test.run();
