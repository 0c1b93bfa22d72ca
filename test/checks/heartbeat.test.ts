import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule, Signal } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';

let mod: CheckModule;
const S = 1000;

test.before(async () => {
  mod = await checkLoader().load('heartbeat');
});

/** Runs the check for a monitor with `interval` seconds, created `createdAgo` ms ago, whose last signal is `last`. */
function run(last: Signal | null, o: { interval?: number; grace?: number; createdAgo?: number } = {}) {
  const data = { token: 'mon-1.0123456789abcdefghij', ...(o.grace !== undefined ? { grace: o.grace } : {}) };
  const j = { ...job('heartbeat', data), interval: o.interval ?? 300, createdAt: Date.now() - (o.createdAgo ?? 3600 * S) };
  return mod.check(j, { ...ctx(), lastSignal: async () => last });
}

test('schema: token required, grace whole seconds >= 0, nothing else', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.token is required']);
  assert.equal(validate(f, { token: 'm-abc.0123456789abcdefghij', grace: 60 }), []);
  assert.match(validate(f, { token: 'm-abc.0123456789abcdefghij', grace: -1 }).join(), 'data.grace must be >= 0');
  assert.match(validate(f, { token: 'm-abc.0123456789abcdefghij', url: 'x' }).join(), 'data.url is not a known field');
  assert.equal(f.properties!.token!.secret, true);
});

test('prepareData generates "<monitor id>.<secret>" when no token is given, keeps a fitting one, refuses another', () => {
  const prepared = mod.prepareData!({ grace: 5 }, { id: 'm-abc' });
  assert.match(prepared.token as string, /^m-abc\.[A-Za-z0-9_-]{32}$/);
  assert.is(prepared.grace, 5);
  assert.is.not(mod.prepareData!({}, { id: 'm-abc' }).token, prepared.token, 'random');
  assert.equal(mod.prepareData!({ token: 'm-abc.mine-and-long-enough' }, { id: 'm-abc' }), { token: 'm-abc.mine-and-long-enough' });
  assert.throws(() => mod.prepareData!({ token: 'no-monitor-prefix-at-all' }, { id: 'm-abc' }), /data\.token must be "m-abc\.<secret>"/);
});

test('healthy while the last ping is within interval + grace', async () => {
  const r = await run({ at: Date.now() - 330 * S, status: 'healthy' }, { interval: 300, grace: 60 });
  assert.is(r.status, 'healthy');
  assert.is(r.message, 'last ping 5m30s ago');
  assert.is(r.metrics!.secondsSincePing, 330);
});

test('failed once the last ping is older than interval + grace, saying how late', async () => {
  const r = await run({ at: Date.now() - 372 * S, status: 'healthy' }, { interval: 300 });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'no ping for 6m12s, expected every 5m + 1m grace', 'grace defaults to 60 s');
  const noGrace = await run({ at: Date.now() - 301 * S, status: 'healthy' }, { interval: 300, grace: 0 });
  assert.is(noGrace.message, 'no ping for 5m1s, expected every 5m + 0s grace');
});

test('a reported failure stays failed until the next ping, however recent', async () => {
  const r = await run({ at: Date.now() - 2 * S, status: 'failed', message: 'the job reported a failure: disk full' });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'the job reported a failure 2s ago: the job reported a failure: disk full');
});

test('a new monitor without a ping is healthy for interval + grace after its creation, then failed', async () => {
  const young = await run(null, { interval: 60, grace: 30, createdAgo: 80 * S });
  assert.is(young.status, 'healthy');
  assert.is(young.message, 'waiting for the first ping (expected every 1m + 30s grace; monitor created 1m20s ago)');
  const old = await run(null, { interval: 60, grace: 30, createdAgo: 95 * S });
  assert.is(old.status, 'failed');
  assert.is(old.message, 'no ping since the monitor was created 1m35s ago, expected every 1m + 30s grace');
});

test('without its monitor\'s interval or a signal reader the check cannot judge: unknown', async () => {
  const manual = await mod.check(job('heartbeat', { token: 'x.0123456789abcdefghij' }), { ...ctx(), lastSignal: async () => null });
  assert.is(manual.status, 'unknown');
  assert.match(manual.message!, /judged against its monitor's interval/);
  const noReader = await mod.check({ ...job('heartbeat', { token: 'x.0123456789abcdefghij' }), interval: 60 }, ctx());
  assert.is(noReader.status, 'unknown');
  assert.match(noReader.message!, /ctx\.lastSignal/);
});

test.run();
