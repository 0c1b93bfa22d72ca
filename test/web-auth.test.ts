import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startWebFixture, type WebFixture } from './helpers/web.js';
import { RedisServer } from './helpers/redis-server.js';

const redis = new RedisServer();
let w: WebFixture;

test.before(async () => {
  await redis.start();
  w = await startWebFixture(redis.url, {}, { authCooldownMs: 2000 });
});
test.after(async () => {
  await w.stop();
  await redis.stop();
});

test('an API call needs a valid key', async () => {
  const none = await w.call('/api/v1/modules', { key: null });
  assert.is(none.status, 401);
  const body = (await none.json()) as { error: { code: string; message: string } };
  assert.is(body.error.code, 'CR_UNAUTHORIZED');
  assert.match(body.error.message, /Authorization: Bearer <key>/);
  assert.is((await w.call('/api/v1/modules', { key: 'cr_wrong' })).status, 401);
  const ok = await w.call('/api/v1/modules');
  assert.is(ok.status, 200);
  const mods = (await ok.json()) as { checks: { name: string }[] };
  assert.ok(mods.checks.some((c) => c.name === 'http-get-statuscode'));
  assert.is((await w.call('/api/v1/modules', { key: w.readKey })).status, 200, 'read-only keys read');
});

test('unknown routes are 404 with a JSON body', async () => {
  const r = await w.call('/api/v1/nothing-here');
  assert.is(r.status, 404);
  assert.equal(await r.json(), { error: { code: 'CR_NOT_FOUND', message: 'no route GET /api/v1/nothing-here; see /api/v1/openapi.json' } });
});

test('10 failed authentications within a minute: the source gets 429 for the cool-down; a good key is not slowed before that', async () => {
  // The first test failed twice already, within this minute.
  for (let i = 0; i < 7; i++) assert.is((await w.call('/api/v1/modules', { key: `bad-${i}` })).status, 401);
  assert.is((await w.call('/api/v1/modules')).status, 200, 'still allowed after 9 failures');
  assert.is((await w.call('/api/v1/modules', { key: 'bad-10' })).status, 429);
  const blocked = await w.call('/api/v1/modules');
  assert.is(blocked.status, 429, 'even a good key waits out the cool-down');
  assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
  await new Promise((r) => setTimeout(r, 2100));
  assert.is((await w.call('/api/v1/modules')).status, 200, 'after the cool-down');
});

test.run();
