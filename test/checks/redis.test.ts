import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { connectionFailureTests, requireService } from './_services.js';
import { ctx, job, silentPeer, type Peer } from '../helpers/peers.js';

const PORT = 6379;
let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  await requireService('Redis', PORT);
  mod = await checkLoader().load('redis');
  peer = await silentPeer();
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('redis', data), ctx(ms));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.host is required']);
  assert.match(validate(f, { host: 'a', port: 0 }).join(), 'data.port must be >= 1');
  assert.match(validate(f, { host: 'a', db: -1 }).join(), 'data.db must be >= 0');
  assert.match(validate(f, { host: 'a', info: { max: 3 } }).join(), 'data.info.field is required');
  assert.match(validate(f, { host: 'a', info: { field: 'x', max: '3' } }).join(), 'data.info.max must be a number');
  assert.match(validate(f, { host: 'a', info: { field: 'a b' } }).join(), 'data.info.field must match');
  assert.match(validate(f, { host: 'a', passwd: 'x' }).join(), 'data.passwd is not a known field');
  assert.ok(f.properties!.password!.secret);
  assert.equal(validate(f, { host: 'cache', port: 6380, password: 'p', db: 2, tls: true, info: { field: 'connected_clients', max: 100 }, timeoutMs: 900 }), []);
});

test('a live Redis answers PONG, with connect and ping times', async () => {
  const r = await run({ host: '127.0.0.1', port: PORT });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, `PONG from 127.0.0.1:${PORT}`);
  assert.ok(r.metrics!.connectMs! >= 0 && r.metrics!.pingMs! >= 0);
  assert.ok(r.latencyMs! < 1000);
});

test('an INFO field within range is healthy and reported as a metric', async () => {
  const r = await run({ host: '127.0.0.1', db: 1, info: { field: 'connected_clients', min: 1, max: 100_000 } });
  assert.is(r.status, 'healthy', r.message);
  assert.match(r.message!, /INFO connected_clients is \d+ \(>= 1 and <= 100000\)/);
  assert.ok(r.metrics!.connected_clients! >= 1);
});

test('an INFO field over its maximum fails, naming the value and the limit', async () => {
  const extra = new Redis({ host: '127.0.0.1', port: PORT, lazyConnect: true });
  await extra.connect();
  try {
    const r = await run({ host: '127.0.0.1', info: { field: 'connected_clients', max: 1 } });
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^INFO connected_clients is \d+, above the maximum 1$/);
    const low = await run({ host: '127.0.0.1', info: { field: 'connected_clients', min: 1_000_000 } });
    assert.is(low.status, 'failed');
    assert.match(low.message!, /below the minimum 1000000$/);
  } finally {
    extra.disconnect();
  }
});

test('an INFO field Redis does not have fails, naming it', async () => {
  const r = await run({ host: '127.0.0.1', info: { field: 'no_such_field', max: 1 } });
  assert.is(r.status, 'failed');
  assert.is(r.message, `INFO from 127.0.0.1:${PORT} has no field no_such_field`);
});

test('a password the server does not take fails the check', async () => {
  const r = await run({ host: '127.0.0.1', username: 'nobody-cr-test', password: 'wrong' });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^127\.0\.0\.1:6379 answered with an error: WRONGPASS/, r.message);
});

test('a database Redis does not have fails with its error reply', async () => {
  const r = await run({ host: '127.0.0.1', db: 9999 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^127\.0\.0\.1:6379 answered with an error: ERR .*(index|range)/, r.message);
});

connectionFailureTests(run, { host: '127.0.0.1' }, 'setting up the connection to TARGET', () => peer);

test('data the check cannot use gives unknown', async () => {
  assert.is((await run({ host: '127.0.0.1', port: 'x' })).status, 'unknown');
  assert.is((await run({ host: '127.0.0.1', info: { field: 'connected_clients' } })).status, 'unknown');
});

test.run();
