import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { ReactionEvent, ReactionModule, Status } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { assertDryRun, dryRunCtx, lastMessage, outcomeOf } from './_recorder.js';

let mod: ReactionModule;

test.before(async () => {
  mod = await reactionLoader().load('log');
});

function event(status: Status, data: Record<string, unknown> = {}): ReactionEvent {
  return {
    monitor: { id: 'mon-1', name: 'shop', ctype: 'tcp-check' },
    reaction: { id: 'rea-9', name: 'audit', rtype: 'log', data },
    status,
    previousStatus: status === 'failed' ? 'healthy' : 'failed',
    failcount: status === 'failed' ? 2 : 0,
    zone: 'local',
    checkedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
    message: status === 'failed' ? 'connection refused by 10.0.0.1:80' : 'connected to 10.0.0.1:80',
  };
}

test('schema accepts {} and a level, rejects other levels and fields', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), []);
  assert.equal(validate(f, { level: 'error' }), []);
  assert.match(validate(f, { level: 'debug' }).join(), 'data.level must be one of "info", "warn", "error"');
  assert.match(validate(f, { file: '/tmp/x' }).join(), 'data.file is not a known field');
});

test('writes one structured line and returns ran; it is a notify reaction', async () => {
  assert.is(mod.meta.kind, 'notify');
  const log = memoryLog();
  assert.is(outcomeOf(await mod.react(event('failed'), { signal: AbortSignal.timeout(1000), logger: log.logger })), 'ran');
  assert.is(lastMessage(), '', 'the line is the record; the run needs no message');
  assert.is(log.lines.length, 1);
  const line = log.lines[0]!;
  assert.is(line.level, 40, 'a failed event is a warning by default');
  assert.is(line.monitorId, 'mon-1');
  assert.is(line.monitorName, 'shop');
  assert.is(line.reactionId, 'rea-9');
  assert.is(line.status, 'failed');
  assert.is(line.previousStatus, 'healthy');
  assert.is(line.failcount, 2);
  assert.is(line.zone, 'local');
  assert.is(line.checkedAt, '2024-01-02T03:04:05.000Z');
  assert.is(line.message, 'connection refused by 10.0.0.1:80');
  assert.is(line.msg, 'monitor "shop" is failed: connection refused by 10.0.0.1:80');
});

test('a healthy event is info by default; data.level overrides', async () => {
  const log = memoryLog();
  await mod.react(event('healthy'), { signal: AbortSignal.timeout(1000), logger: log.logger });
  await mod.react(event('healthy', { level: 'error' }), { signal: AbortSignal.timeout(1000), logger: log.logger });
  assert.equal(log.lines.map((l) => l.level), [30, 50]);
});

test('dry run: no line is written; the message says the line and level it would have logged', async () => {
  const log = memoryLog();
  assertDryRun(await mod.react(event('failed'), dryRunCtx(log)), ['would log at warn: monitor "shop" is failed: connection refused by 10.0.0.1:80 (monitorId mon-1, reactionId rea-9)'], []);
  assertDryRun(await mod.react(event('healthy', { level: 'error' }), dryRunCtx(log)), ['would log at error: monitor "shop" is healthy: connected to 10.0.0.1:80'], []);
  assert.equal(log.lines, []);
  assert.is(mod.meta.dryRun, true);
});

test.run();
