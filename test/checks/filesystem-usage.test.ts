import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';

let mod: CheckModule;
const dir = mkdtempSync(join(tmpdir(), 'cr-fs-'));
test.before(async () => {
  mod = await checkLoader().load('filesystem-usage');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));
const run = (data: Record<string, unknown>) => mod.check(job('filesystem-usage', data), ctx());

function usedPercent(path: string): number {
  const s = statfsSync(path);
  const used = s.blocks - s.bfree;
  return (used / (used + s.bavail)) * 100;
}

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.maxPercent is required']);
  assert.match(validate(f, { maxPercent: 120 }).join(), 'data.maxPercent must be <= 100');
  assert.match(validate(f, { maxPercent: 90, path: 'tmp' }).join(), 'data.path must match ^/');
  assert.equal(validate(f, { maxPercent: 90, path: '/var' }), []);
});

test('a temp directory under maxPercent is healthy, with the live usage as metric', async () => {
  const r = await run({ path: dir, maxPercent: 100 });
  assert.is(r.status, 'healthy', r.message);
  assert.ok(Math.abs(r.metrics!.usedPercent! - usedPercent(dir)) < 1, JSON.stringify(r.metrics));
  assert.match(r.message!, `${dir} is `);
});

test('over maxPercent fails with the usage and the limit', async () => {
  if (usedPercent(dir) === 0) return; // An empty filesystem cannot be over 0%.
  const r = await run({ path: dir, maxPercent: 0 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /% used, \d+ MB available: over maxPercent 0$/);
});

test('path defaults to /', async () => {
  const r = await run({ maxPercent: 100 });
  assert.is(r.status, 'healthy');
  assert.match(r.message!, /^\/ is /);
});

test('a missing path fails with ENOENT', async () => {
  const r = await run({ path: join(dir, 'no-such-dir'), maxPercent: 90 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'ENOENT');
});

test.run();
