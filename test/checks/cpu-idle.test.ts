import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';

let mod: CheckModule;
test.before(async () => {
  mod = await checkLoader().load('cpu-idle');
});
const run = (data: Record<string, unknown>, jobMs = 5000, signalMs = 5000) => mod.check(job('cpu-idle', data, jobMs), ctx(signalMs));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.minIdlePercent is required']);
  assert.match(validate(f, { minIdlePercent: -1 }).join(), 'data.minIdlePercent must be >= 0');
  assert.match(validate(f, { minIdlePercent: 5, sampleMs: 10 }).join(), 'data.sampleMs must be >= 50');
  assert.match(validate(f, { minIdlePercent: 5, sampleMs: 1.5 }).join(), 'data.sampleMs must be an integer');
  assert.equal(validate(f, { minIdlePercent: 5, sampleMs: 200 }), []);
});

test('idle share at or over a minimum of 0 is healthy, sampled over sampleMs', async () => {
  const started = Date.now();
  const r = await run({ minIdlePercent: 0, sampleMs: 200 });
  const took = Date.now() - started;
  assert.is(r.status, 'healthy', r.message);
  assert.ok(r.metrics!.idlePercent! >= 0 && r.metrics!.idlePercent! <= 100);
  assert.is(r.metrics!.sampleMs, 200);
  assert.ok(took >= 190 && took < 1500, `took ${took} ms`);
  assert.match(r.message!, /^CPU [\d.]+% idle over 200 ms$/);
});

test('a minimum over 100 cannot be met: failed with the measured share', async () => {
  const r = await run({ minIdlePercent: 101, sampleMs: 100 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^CPU [\d.]+% idle over 100 ms: under minIdlePercent 101$/);
});

test('the default 500 ms sample is shortened to fit a short job deadline', async () => {
  const started = Date.now();
  const r = await run({ minIdlePercent: 0 }, 250, 250);
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.sampleMs, 200);
  assert.match(r.message!, 'shortened from 500 ms');
  assert.ok(Date.now() - started < 250);
});

test('a signal that fires while sampling fails the check as timed out', async () => {
  const started = Date.now();
  const r = await run({ minIdlePercent: 0, sampleMs: 2000 }, 5000, 150);
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'timed out while sampling');
  assert.ok(Date.now() - started < 1000);
});

test.run();
