import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';

let mod: CheckModule;
test.before(async () => {
  mod = await checkLoader().load('free-memory');
});
const run = (data: Record<string, unknown>) => mod.check(job('free-memory', data), ctx());
const availableMb = () => Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { minMb: -5 }).join(), 'data.minMb must be >= 0');
  assert.match(validate(f, { minPercent: 101 }).join(), 'data.minPercent must be <= 100');
  assert.match(validate(f, { minPercent: '5' }).join(), 'data.minPercent must be a number');
  assert.equal(validate(f, { minMb: 100, minPercent: 5 }), []);
});

test('enough available memory is healthy, with MB and percent as metrics', async () => {
  const r = await run({ minMb: 1, minPercent: 0 });
  assert.is(r.status, 'healthy', r.message);
  assert.ok(Math.abs(r.metrics!.availableMb! - availableMb()) < 512, JSON.stringify(r.metrics));
  assert.ok(r.metrics!.availablePercent! > 0 && r.metrics!.availablePercent! <= 100);
  assert.ok(r.metrics!.totalMb! >= r.metrics!.availableMb!);
});

test('less than minMb fails, naming minMb', async () => {
  const r = await run({ minMb: Math.ceil(availableMb()) + 1_000_000 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^[\d.]+ MB available is under minMb \d+$/);
});

test('less than minPercent fails, naming minPercent', async () => {
  const r = await run({ minPercent: 100, minMb: 0 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /% available is under minPercent 100$/);
  assert.not.match(r.message!, 'minMb');
});

test('neither minimum set: unknown, saying what to set', async () => {
  const r = await run({});
  assert.is(r.status, 'unknown');
  assert.match(r.message!, 'set data.minMb or data.minPercent');
});

test.run();
