import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';

let mod: CheckModule;
const tag = `cr-test-${randomUUID()}`;
const sleepers: ChildProcess[] = [];
test.before(async () => {
  mod = await checkLoader().load('process-running');
  // A real `sleep 30` whose argv[0] carries a unique tag, so only these two match.
  for (let i = 0; i < 2; i++) sleepers.push(spawn('sleep', ['30'], { argv0: `/${tag}/sleep`, stdio: 'ignore' }));
});
test.after(() => {
  for (const s of sleepers) s.kill('SIGKILL');
});
const run = (data: Record<string, unknown>) => mod.check(job('process-running', data), ctx());

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { name: '' }).join(), 'data.name must have at least 1 characters');
  assert.match(validate(f, { pattern: 'x', minCount: 0 }).join(), 'data.minCount must be >= 1');
  assert.match(validate(f, { name: 'x', minCount: 1.5 }).join(), 'data.minCount must be an integer');
  assert.equal(validate(f, { name: 'nginx', pattern: 'master', minCount: 1 }), []);
});

test('a running process found by its command line is healthy, with the count', async () => {
  let r = await run({ pattern: tag });
  for (let i = 0; i < 40 && r.metrics?.count !== 2; i++) {
    await new Promise((res) => setTimeout(res, 25));
    r = await run({ pattern: tag });
  }
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.count, 2);
});

test('name and pattern together must both match', async () => {
  const r = await run({ name: 'sleep', pattern: tag, minCount: 2 });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, `2 processes named "sleep" and matching /${tag}/`);
  const wrong = await run({ name: 'not-sleep', pattern: tag });
  assert.is(wrong.status, 'failed');
  assert.is(wrong.metrics!.count, 0);
});

test('fewer than minCount fails with the count found', async () => {
  const r = await run({ pattern: tag, minCount: 3 });
  assert.is(r.status, 'failed');
  assert.is(r.message, `2 processes matching /${tag}/; want at least 3`);
});

test('an ended process is no longer found', async () => {
  const s = sleepers.pop()!;
  s.kill('SIGKILL');
  await new Promise((res) => s.once('exit', res));
  const r = await run({ pattern: tag, minCount: 2 });
  assert.is(r.status, 'failed');
  assert.is(r.metrics!.count, 1);
});

test('no name or pattern, or a bad pattern: unknown, saying why', async () => {
  assert.match((await run({})).message!, 'set data.name or data.pattern');
  const bad = await run({ pattern: '(' });
  assert.is(bad.status, 'unknown');
  assert.match(bad.message!, 'data.pattern is not a valid regular expression');
});

test.run();
