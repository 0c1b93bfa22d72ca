import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';

let mod: CheckModule;
test.before(async () => {
  mod = await checkLoader().load('load-average');
});
const run = (data: Record<string, unknown>) => mod.check(job('load-average', data), ctx());
const live = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { max1: -1 }).join(), 'data.max1 must be >= 0');
  assert.match(validate(f, { max5: '2' }).join(), 'data.max5 must be a number');
  assert.match(validate(f, { perCore: 'yes' }).join(), 'data.perCore must be a boolean');
  assert.ok(validate(f, { max: 1 }).join().includes('data.max'));
  assert.equal(validate(f, { max1: 4, max5: 3, max15: 2, perCore: true }), []);
});

test('averages under generous thresholds are healthy, with the live values as metrics', async () => {
  const [l1, l5, l15] = live();
  const r = await run({ max1: l1! + 1000, max5: l5! + 1000, max15: l15! + 1000 });
  assert.is(r.status, 'healthy', r.message);
  assert.ok(Math.abs(r.metrics!.load1! - l1!) < 5);
  assert.is(r.metrics!.cores, cpus().length);
  assert.match(r.message!, /^load 1m [\d.]+, 5m [\d.]+, 15m [\d.]+$/);
});

test('an average over its threshold fails, naming which one', async () => {
  const [, l5] = live();
  const r = await run({ max1: 1e6, max5: -1, max15: 1e6 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^5-minute load [\d.]+ is over max5 -1$/);
  assert.not.match(r.message!, '1-minute');
  assert.ok(r.metrics!.load5! >= 0 && Math.abs(r.metrics!.load5! - l5!) < 5);
});

test('perCore divides by the number of cores', async () => {
  const [l1] = live();
  const cores = cpus().length;
  const r = await run({ max1: -1, perCore: true });
  assert.is(r.status, 'failed');
  const shown = Number(/^1-minute load ([\d.]+) per core/.exec(r.message!)?.[1]);
  assert.ok(Math.abs(shown - l1! / cores) < 5 / cores + 0.01, r.message);
  assert.is((await run({ max1: l1! / cores + 1000, perCore: true })).status, 'healthy');
});

test('no thresholds: healthy, reporting the load', async () => {
  assert.is((await run({})).status, 'healthy');
});

test.run();
